// The dashboard in a real browser: playwright-core driving Debian's chromium (headless, no
// sandbox, no background networking) against a `medtwin serve --demo` started here. Signs in,
// watches the ward overview update live, opens a deteriorating patient and sees its alert,
// compares a chart's plotted points with the API's numbers, acknowledges an alert, runs what-ifs
// (vancomycin regimens, a glucose plan) and accepts them as draft orders, runs an in-silico trial,
// reads the audit page, walks the controls by keyboard, and checks that a patient's token cannot
// open another patient's page. Screenshots go to web/test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const binary = process.env.MEDTWIN_BINARY || join(root, 'build', 'medtwin');
const artifacts = join(root, 'web', 'test-artifacts');
mkdirSync(artifacts, { recursive: true });

let server, base, tokens = {}, browser, work;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'medtwin-web-'));
  server = spawn(binary, ['serve', '--demo', '--listen', '127.0.0.1:0', '--speed', '600',
    '--store', `sqlite:${join(work, 'demo.db')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20000);
    server.stdout.on('data', (d) => {
      out += d;
      const url = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const researcher = out.match(/researcher\s+(\S+)/);
      if (url && researcher) {
        base = url[1];
        for (const role of ['admin', 'clinician', 'patient', 'device', 'researcher']) {
          tokens[role] = out.match(new RegExp(`\\n\\s+${role}\\s+(\\S+)`))[1];
        }
        clearTimeout(timer);
        resolve();
      }
    });
    server.on('exit', (code) => reject(new Error(`server exited ${code}:\n${out}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  if (work) rmSync(work, { recursive: true, force: true });
});

async function api(path, token, options = {}) {
  const res = await fetch(base + path, { ...options, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function signedInPage(role, { width = 1280, height = 800 } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  // Script errors in the page show up in the test's output.
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') console.error(`page console: ${m.text()}`); });
  page.on('response', (r) => { if (r.status() >= 400) console.error(`page request: ${r.status()} ${r.url()}`); });
  await page.goto(base + '/');
  await page.fill('#token', tokens[role]);
  await page.click('button[type=submit]');
  return page;
}

test('sign in, see the ward update live, open a deteriorating patient', async () => {
  const page = await signedInPage('clinician');
  await page.waitForSelector('[data-testid=ward] tbody tr');
  assert.match(await page.textContent('[data-testid=who]'), /dr-demo · clinician/);
  const rows = await page.$$eval('[data-testid=ward] tbody tr', (trs) => trs.map((t) => t.dataset.patient));
  assert.ok(rows.length >= 12, `the demo ward: ${rows}`);
  // Live: the demo feeds the ward; the overview counts updates without a reload.
  await page.waitForFunction(() => Number(document.querySelector('#live')?.dataset.updates || 0) >= 3, null, { timeout: 20000 });
  await page.screenshot({ path: join(artifacts, 'ward.png'), fullPage: true });
  // The overview's NEWS2 is the twin's (read back to back: the demo keeps changing it).
  const top = rows[0];
  let shown = '', newsFromApi = '';
  for (let i = 0; i < 10 && (shown === '' || shown !== newsFromApi); ++i) {
    const twin = await api(`/api/v1/patients/${top}/twin`, tokens.clinician);
    assert.equal(twin.status, 200);
    newsFromApi = String(twin.json.news2.total ?? '–');
    shown = await page.textContent(`tr[data-patient="${top}"] [data-testid=news2]`);
    if (shown !== newsFromApi) await page.waitForTimeout(300);
  }
  assert.equal(shown, newsFromApi);
  // Wait for a patient with an open alert (the demo's deteriorating patients), then open it.
  const alerted = await page.waitForSelector('[data-testid=ward] tbody tr:has(.alert-badge)', { timeout: 30000 });
  const patient = await alerted.getAttribute('data-patient');
  await page.click(`tr[data-patient="${patient}"] a`);
  await page.waitForSelector('[data-testid=alerts] li[data-alert]');
  await page.waitForSelector('[data-chart="8867-4"] canvas');
  await page.screenshot({ path: join(artifacts, 'patient.png'), fullPage: true });
  // The heart-rate chart plots exactly the API's values.
  const plotted = await page.evaluate(() => window.medtwinCharts['8867-4']);
  const since = new Date(Date.now() - 12 * 3600e3).toISOString().replace(/\.\d+Z$/, 'Z');
  const hr = await api(`/api/v1/patients/${patient}/observations?code=8867-4&from=${since}`, tokens.clinician);
  const fromApi = hr.json.slice(0, plotted.x.length);
  assert.ok(plotted.x.length >= 2);
  for (let i = 0; i < fromApi.length; ++i) {
    assert.equal(plotted.x[i], Date.parse(fromApi[i].time) / 1000);
    assert.equal(plotted.y[0][i], fromApi[i].value);
  }
  // Acknowledge an alert from the page.
  const alertId = await page.getAttribute('[data-testid=alerts] li[data-alert] button[data-ack]', 'data-ack');
  await page.click(`button[data-ack="${alertId}"]`);
  await page.waitForSelector(`li[data-alert="${alertId}"]:has-text("acknowledged")`);
  const alerts = await api(`/api/v1/alerts?patient=${patient}`, tokens.clinician);
  assert.equal(alerts.json.find((a) => a.id === alertId).status, 'acknowledged');
  await page.close();
});

test('a tablet-width overview and keyboard navigation', async () => {
  const page = await signedInPage('admin', { width: 800, height: 1100 });
  await page.waitForSelector('[data-testid=ward] tbody tr');
  await page.keyboard.press('Tab');
  await page.screenshot({ path: join(artifacts, 'ward-tablet.png'), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `horizontal overflow of ${overflow}px at tablet width`);
  await page.close();
});

test("a patient's token opens their own page and no other", async () => {
  const page = await signedInPage('patient');
  await page.waitForSelector('[data-testid=news2]');
  assert.match(page.url(), /#\/patient\/ward-01$/);
  await page.goto(base + '/#/patient/ward-02');
  await page.waitForSelector('[data-testid=page-error]');
  assert.match(await page.textContent('[data-testid=page-error]'), /may not see this/);
  await page.screenshot({ path: join(artifacts, 'patient-forbidden.png') });
  await page.close();
});

test('sign-in refuses a bad token and sign-out forgets the token', async () => {
  const page = await browser.newPage();
  await page.goto(base + '/');
  await page.fill('#token', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIiwiZXhwIjo0MTAyNDQ0ODAwfQ.');
  await page.click('button[type=submit]');
  await page.waitForSelector('#signin-error:not(:empty)');
  assert.match(await page.textContent('#signin-error'), /refused/);
  await page.fill('#token', tokens.admin);
  await page.click('button[type=submit]');
  await page.waitForSelector('#signout');
  await page.click('#signout');
  await page.waitForSelector('#token');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('medtwin.token')), null);
  await page.close();
});

// Presses Tab until the element with `id` has focus (it must be reachable by keyboard).
async function tabTo(page, id, max = 60) {
  for (let i = 0; i < max; ++i) {
    if (await page.evaluate((want) => document.activeElement?.id === want, id)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`#${id} cannot be reached with Tab`);
}

test('a vancomycin what-if: current vs proposed, the API\'s numbers, accepted as a draft order', async () => {
  const page = await signedInPage('clinician');
  await page.waitForSelector('[data-testid=ward] tbody tr');
  await page.click('tr[data-patient="vanco-01"] a');
  await page.waitForSelector('[data-chart=vancomycin] canvas');
  await page.click('[data-testid=whatif-vancomycin]');
  await page.waitForSelector('[data-testid=whatif-metrics]');
  // Change the proposal by keyboard only: Tab to the dose, type, Enter submits the form.
  await tabTo(page, 'proposed-dose');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('1250');
  await page.keyboard.press('Enter');
  await page.waitForSelector('tr[data-regimen=proposed] th:has-text("1250 mg")');
  await page.screenshot({ path: join(artifacts, 'whatif-vancomycin.png'), fullPage: true });
  const regimen = async (key) => ({
    dose_mg: Number(await page.inputValue(`#${key}-dose`)),
    interval_h: Number(await page.inputValue(`#${key}-interval`)),
    infusion_h: Number(await page.inputValue(`#${key}-infusion`)),
  });
  const regimens = [await regimen('current'), await regimen('proposed')];
  // The page starts the forecast's regimens at the next dose due (demo: a 12-h grid).
  const startInH = Number(await page.getAttribute('#result', 'data-start-in-h'));
  // 0 within three minutes of a dose time (the value is rounded to 0.1 h).
  assert.ok(startInH >= 0 && startInH <= 12, `next dose in ${startInH} h`);
  const api_ = await api('/api/v1/patients/vanco-01/whatif', tokens.clinician,
    { method: 'POST', body: JSON.stringify({ model: 'vancomycin', regimens, start_in_h: startInH }) });
  assert.equal(api_.status, 200);
  const [cur, pro] = api_.json.regimens;
  assert.equal(await page.textContent('[data-testid=auc-current]'), String(Math.round(cur.auc24_mg_h_per_l)));
  assert.equal(await page.textContent('[data-testid=auc-proposed]'), String(Math.round(pro.auc24_mg_h_per_l)));
  assert.equal(await page.textContent('[data-testid=pta-proposed]'), `${Math.round(100 * pro.probability_of_target_attainment)} %`);
  // The proposed curve is plotted point for point.
  const plotted = await page.evaluate(() => window.medtwinCharts['whatif-vancomycin']);
  const proposedY = plotted.y[1].filter((v) => v !== null);
  assert.deepEqual(proposedY, pro.steady_state_curve.map((p) => p.mg_l));
  // The forecast from now: the same grid (hours from now) and, as "now" moved by the seconds
  // between the two requests, the same values within 1 % + 0.2 mg/L; the measured levels at
  // their times.
  const ahead = await page.evaluate(() => window.medtwinCharts['whatif-vancomycin-forecast']);
  assert.deepEqual(ahead.x.filter((x) => pro.forecast.some((p) => p.hours_from_now === x)),
    pro.forecast.map((p) => p.hours_from_now));
  assert.equal(pro.forecast[0].hours_from_now, -24);
  assert.equal(pro.forecast.at(-1).hours_from_now, 72);
  const plottedAhead = ahead.x.map((x, i) => [x, ahead.y[1][i]]).filter(([, y]) => y !== null);
  assert.equal(plottedAhead.length, pro.forecast.length);
  plottedAhead.forEach(([x, y], i) => {
    assert.equal(x, pro.forecast[i].hours_from_now);
    assert.ok(Math.abs(y - pro.forecast[i].mg_l) <= 0.01 * pro.forecast[i].mg_l + 0.2, `${x} h: ${y} vs ${pro.forecast[i].mg_l}`);
  });
  const measured = ahead.x.map((x, i) => [x, ahead.y[4][i]]).filter(([, y]) => y !== null);
  assert.equal(measured.length, api_.json.observed.length);
  assert.ok(measured.length >= 1);
  measured.forEach(([x, y], i) => {
    assert.equal(y, api_.json.observed[i].value);
    assert.ok(Math.abs(x - api_.json.observed[i].hours_from_now) < 0.05);
  });
  // Accept (keyboard again): a draft order with the proposed regimen.
  await tabTo(page, 'accept');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=accepted]:has-text("Draft order recorded")');
  const twin = await api('/api/v1/patients/vanco-01/twin', tokens.clinician);
  const order = twin.json.orders.at(-1);
  assert.equal(order.dose_mg, 1250);
  assert.equal(order.status, 'draft');
  assert.equal(order.accepted_by, 'dr-demo');
  await page.close();
});

test('a glucose what-if: a meal and a bolus compared, accepted as a draft insulin order', async () => {
  const page = await signedInPage('clinician');
  await page.waitForSelector('[data-testid=ward] tbody tr');
  await page.goto(`${base}/#/patient/t1d-01`);
  await page.waitForSelector('[data-chart=glucose] canvas');
  await page.screenshot({ path: join(artifacts, 'patient-glucose.png'), fullPage: true });
  await page.click('[data-testid=whatif-glucose]');
  await page.waitForSelector('[data-testid=whatif-metrics]');
  await page.fill('#meal-g', '60');
  await page.fill('#bolus-u', '4');
  await page.click('#plan button[type=submit]');
  await page.waitForFunction(() => window.medtwinCharts['whatif-glucose']?.y[1].some((v) => v > 0));
  await page.screenshot({ path: join(artifacts, 'whatif-glucose.png'), fullPage: true });
  const before = await api('/api/v1/patients/t1d-01/twin', tokens.clinician);
  const orders = (before.json.orders || []).length;
  await page.click('[data-testid=accept]');
  await page.waitForSelector('[data-testid=accepted]:has-text("Draft insulin order recorded")');
  const after = await api('/api/v1/patients/t1d-01/twin', tokens.clinician);
  assert.equal(after.json.orders.length, orders + 1);
  const order = after.json.orders.at(-1);
  assert.equal(order.drug, 'insulin');
  assert.equal(order.bolus_u, 4);
  const fhir = await api('/fhir/r4/MedicationRequest?patient=t1d-01', tokens.clinician);
  assert.ok(fhir.json.entry.some((e) => e.resource.medicationCodeableConcept.text === 'insulin' &&
    e.resource.dosageInstruction[0].doseAndRate[0].doseQuantity.value === 4));
  await page.close();
});

test('trials: a researcher runs one, watches progress and reads the cohort', async () => {
  const page = await signedInPage('researcher');
  await page.waitForSelector('form#trial');
  assert.match(page.url(), /#\/trials$/);
  await page.selectOption('#cohort', 'children');
  await page.selectOption('#controller', 'pid');
  await page.click('form#trial button[type=submit]');
  await page.waitForSelector('[data-testid=trial-summary]', { timeout: 60000 });
  await page.waitForSelector('[data-chart=agp] canvas');
  await page.screenshot({ path: join(artifacts, 'trial.png'), fullPage: true });
  const id = decodeURIComponent(page.url().split('/').at(-1));
  const job = await api(`/api/v1/trials/${id}`, tokens.researcher);
  assert.equal(job.json.status, 'done');
  const rows = await page.$$eval('[data-testid=cohort] tbody tr', (trs) => trs.map((t) => [t.dataset.patient, t.children[1].textContent]));
  assert.equal(rows.length, 10);
  job.json.results.patients.forEach((p, i) => {
    assert.equal(rows[i][0], p.patient);
    assert.equal(rows[i][1], p.tir_70_180_pct.toFixed(1));
  });
  const agp = await page.evaluate(() => window.medtwinCharts.agp);
  assert.deepEqual(agp.y[0], job.json.profile.p50);
  // Listed afterwards; a researcher sees no ward.
  await page.goto(`${base}/#/trials`);
  await page.waitForSelector(`[data-testid=trials] tr[data-trial="${id}"]`);
  assert.equal(await page.isHidden('#nav-ward'), true);
  await page.close();
});

test('the audit page: verified ledger and recent records for administrators only', async () => {
  const page = await signedInPage('admin');
  await page.waitForSelector('[data-testid=ward] tbody tr');
  assert.equal(await page.isVisible('#nav-audit'), true);
  await page.click('#nav-audit');
  await page.waitForSelector('[data-testid=ledger-status]');
  assert.match(await page.textContent('[data-testid=ledger-status] h2'), /verified/);
  assert.doesNotMatch(await page.textContent('[data-testid=ledger-status] h2'), /NOT/);
  const rows = await page.$$eval('[data-testid=audit] tbody tr', (trs) => trs.length);
  assert.ok(rows > 5, `${rows} audit rows`);
  await page.fill('#audit-filter', 'dr-demo');
  const filtered = await page.$$eval('[data-testid=audit] tbody tr', (trs) => trs.map((t) => t.textContent));
  assert.ok(filtered.every((t) => t.includes('dr-demo')));
  await page.screenshot({ path: join(artifacts, 'audit.png'), fullPage: true });
  await page.close();
  const clinician = await signedInPage('clinician');
  await clinician.waitForSelector('[data-testid=ward] tbody tr');
  assert.equal(await clinician.isHidden('#nav-audit'), true);
  await clinician.goto(`${base}/#/audit`);
  await clinician.waitForSelector('[data-testid=page-error]');
  assert.match(await clinician.textContent('[data-testid=page-error]'), /may not see this/);
  await clinician.close();
});

test("a patient's genotype on the twin page: CPIC guidance and the conflicting prescription's alert", async () => {
  const page = await signedInPage('clinician');
  await page.waitForSelector('[data-testid=ward] tbody tr');
  await page.goto(`${base}/#/patient/ward-02`);
  await page.waitForSelector('[data-testid=pgx] li[data-drug=clopidogrel]');
  assert.match(await page.textContent('[data-testid=pgx] li[data-drug=clopidogrel]'), /alternative.*prasugrel or ticagrelor/s);
  assert.match(await page.textContent('[data-testid=pgx] li[data-drug=simvastatin]'), /alternative/);
  await page.waitForSelector('[data-testid=alerts] li:has-text("clopidogrel")');
  const g = await api('/api/v1/patients/ward-02/genotype', tokens.clinician);
  const shown = await page.$$eval('[data-testid=pgx] li[data-drug]', (lis) => lis.map((l) => l.dataset.drug));
  assert.deepEqual(shown, g.json.guidance.filter((x) => x.action !== 'no genotype').map((x) => x.drug));
  await page.screenshot({ path: join(artifacts, 'patient-pgx.png'), fullPage: true });
  await page.close();
});

test('the warfarin twin: IWPC start, INR fit, a what-if on INR and an oral draft order', async () => {
  // A patient made through the API (besides the demo's warf-01): CYP2C9 *1/*3, VKORC1 A/G, 5 mg/day for
  // a week with a rising INR.
  const post = (path, body) => api(path, tokens.admin, { method: 'POST', body: JSON.stringify(body) });
  const created = await post('/api/v1/patients', {
    id: 'warf-api', models: ['news2', 'warfarin'], birth_date: '1955-02-01', height_cm: 172, weight_kg: 78,
    care_team: ['dr-demo'],
    genotype: [{ gene: 'CYP2C9', diplotype: '*1/*3', phenotype: 'Intermediate Metabolizer' },
      { gene: 'VKORC1', diplotype: 'rs9923231 reference (C)/rs9923231 variant (T)', phenotype: '-1639 AG' }],
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const iso = (hoursAgo) => new Date(Date.now() - hoursAgo * 3600e3).toISOString();
  const doses = [];
  for (let d = 7; d >= 1; --d) doses.push({ type: 'dose', drug: 'warfarin', amount: 5, unit: 'mg', time: iso(24 * d) });
  assert.equal((await post('/api/v1/patients/warf-api/events', doses)).status, 200);
  const inr = [[96, 1.6], [48, 2.4], [1, 3.4]].map(([h, v]) => ({ code: '6301-6', value: v, unit: '{INR}', time: iso(h), source: 'lab' }));
  assert.equal((await post('/api/v1/patients/warf-api/observations', inr)).status, 200);
  const page = await signedInPage('clinician');
  await page.waitForSelector('[data-testid=ward] tbody tr');
  await page.goto(`${base}/#/patient/warf-api`);
  await page.waitForSelector('[data-testid=iwpc]', { timeout: 60000 });
  await page.waitForSelector('[data-chart=warfarin] canvas');
  assert.match(await page.textContent('[data-testid=advice]'), /predicted INR/);
  await page.click('[data-testid=whatif-warfarin]');
  await page.waitForSelector('[data-testid=whatif-metrics]', { timeout: 60000 });
  await page.screenshot({ path: join(artifacts, 'whatif-warfarin.png'), fullPage: true });
  const twin = await api('/api/v1/patients/warf-api/twin', tokens.clinician);
  const rec = twin.json.recommendations[0];
  const what = await api('/api/v1/patients/warf-api/whatif', tokens.clinician, { method: 'POST', body: JSON.stringify({
    model: 'warfarin', regimens: [{ dose_mg: 5, interval_h: 24, infusion_h: 0 }, { dose_mg: rec.dose_mg, interval_h: 24, infusion_h: 0 }] }) });
  assert.equal(await page.textContent('[data-testid=trough-current]'), what.json.regimens[0].trough_mg_l.toFixed(1));
  assert.equal(await page.textContent('[data-testid=trough-proposed]'), what.json.regimens[1].trough_mg_l.toFixed(1));
  await page.click('[data-testid=accept]');
  await page.waitForSelector('[data-testid=accepted]:has-text("Draft order recorded")');
  const fhir = await api('/fhir/r4/MedicationRequest?patient=warf-api', tokens.clinician);
  const order = fhir.json.entry.map((e) => e.resource).find((r) => r.intent === 'order');
  assert.equal(order.dosageInstruction[0].route.coding[0].display, 'Oral route');
  await page.close();
});
