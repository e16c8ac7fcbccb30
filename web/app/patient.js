// Patient twin: the record, live vital-sign charts, NEWS2, the glucose twin (CGM and its
// forecast band), the drug twin's advice with "accept as draft order", and the alert list with
// acknowledgement. Updates from the live stream.
import { api, claims, escapeHtml, fittedTwin, stream } from './api.js';
import { lineChart, timeChart } from './chart.js';

const VITALS = [
  ['8867-4', 'Heart rate', '/min'], ['9279-1', 'Respiratory rate', '/min'],
  ['2708-6', 'SpO2', '%'], ['8480-6', 'Systolic BP', 'mm[Hg]'], ['8310-5', 'Temperature', 'Cel'],
];

const seconds = (iso) => Date.parse(iso) / 1000;

export async function renderPatient(main, id) {
  const base = `/api/v1/patients/${encodeURIComponent(id)}`;
  const [patient, twin] = await Promise.all([api(base), fittedTwin(base)]);
  const since = new Date(Date.now() - 12 * 3600e3).toISOString().replace(/\.\d+Z$/, 'Z');
  const news2History = await api(`${base}/news2?from=${since}`);
  const pgx = (patient.genotype || []).length ? await api(`${base}/genotype`).catch(() => null) : null;
  const history = {};
  await Promise.all(VITALS.map(async ([code]) => {
    history[code] = await api(`${base}/observations?code=${code}&from=${since}`);
  }));
  const n = twin.news2;
  const who = claims();
  main.innerHTML = `
    <h1>${escapeHtml(patient.id)} <span class="news2 risk-${n.risk ?? 'none'}" data-testid="news2">NEWS2 ${n.total ?? '–'}</span>
      <small class="muted">${n.complete ? escapeHtml(n.risk) + ' risk' : 'incomplete set'}</small></h1>
    <div class="grid">
      <section class="card"><h2>Record</h2><dl class="record">
        <dt>Name</dt><dd>${escapeHtml(patient.name || '–')}</dd>
        <dt>Sex</dt><dd>${escapeHtml(patient.sex)}</dd>
        <dt>Born</dt><dd>${escapeHtml(patient.birth_date || '–')}</dd>
        ${patient.race ? `<dt>Race</dt><dd>${escapeHtml(patient.race)} <small class="muted">(self-reported; used by IWPC)</small></dd>` : ''}
        <dt>Weight</dt><dd>${patient.weight_kg ?? '–'} kg</dd>
        <dt>Conditions</dt><dd>${escapeHtml((patient.conditions || []).join(', ') || '–')}</dd>
        <dt>Genotype</dt><dd>${escapeHtml((patient.genotype || []).map((g) => `${g.gene} ${g.diplotype} ${g.phenotype}`).join('; ') || '–')}</dd>
        <dt>Models</dt><dd>${escapeHtml((twin.models || []).join(', '))}</dd>
      </dl></section>
      <section class="card"><h2>Alerts</h2><ul class="alerts" data-testid="alerts"></ul></section>
      <section class="card" id="advice" hidden><h2>Dose advice</h2><div></div></section>
      ${pgx ? `<section class="card" data-testid="pgx"><h2>Pharmacogenomics (CPIC)</h2><ul class="alerts">${
    pgx.guidance.filter((g) => g.action !== 'no genotype').map((g) => `<li data-drug="${escapeHtml(g.drug)}">
      <strong>${escapeHtml(g.drug)}</strong>
      <span class="${g.conflicts_with_standard_prescribing ? 'sev-high' : ''}">${escapeHtml(g.action)}</span>
      <span title="${escapeHtml(g.source)}">${escapeHtml(g.recommendation)}</span></li>`).join('') || '<li>No guidance for the called genes</li>'}</ul></section>` : ''}
    </div>
    ${who.role === 'admin' || who.role === 'clinician'
    ? (twin.models || []).filter((m) => ['vancomycin', 'warfarin', 'glucose'].includes(m)).map((m) =>
      `<a class="button" href="#/whatif/${encodeURIComponent(id)}/${m}" data-testid="whatif-${m}">What-if: ${m === 'glucose' ? 'glucose plan' : `${m} regimen`}</a> `).join('') : ''}
    ${twin.model_state?.warfarin?.iwpc?.daily_mg ? `<p class="card" data-testid="iwpc">Warfarin starting dose (IWPC pharmacogenetic algorithm):
      <strong>${twin.model_state.warfarin.iwpc.daily_mg.toFixed(1)} mg/day</strong>
      (CYP2C9 ${escapeHtml(twin.model_state.warfarin.iwpc.cyp2c9 ?? 'unknown')}, VKORC1 ${escapeHtml(twin.model_state.warfarin.iwpc.vkorc1 ?? 'unknown')})</p>` : ''}
    <section id="charts" class="grid"></section>`;
  const charts = main.querySelector('#charts');
  for (const [code, label, unit] of VITALS) {
    const points = history[code].map((o) => [seconds(o.time), o.value]);
    if (points.length) timeChart(charts, code, label, unit, [{ label, unit, points }]);
  }
  const newsPoints = news2History.filter((p) => p.total !== null).map((p) => [seconds(p.time), p.total]);
  if (newsPoints.length) {
    timeChart(charts, 'news2', 'NEWS2 over time (complete sets; 5 medium, 7 high)', 'score', [
      { label: 'NEWS2', unit: 'score', points: newsPoints },
    ], { lines: [{ label: 'medium risk', y: 5, colour: '#E69F00' }, { label: 'high risk', y: 7, colour: '#D55E00' }] });
  }
  for (const [name, title, unit] of [['vancomycin', 'Vancomycin levels and the MAP fit', 'mg/L'],
    ['warfarin', 'INR and the MAP fit (Hamberg model)', 'INR']]) {
    const preds = twin.model_state?.[name]?.predictions;
    if (!preds?.length) continue;
    lineChart(charts, name, title, {
      xLabel: 'hours after the first dose', yLabel: unit, time: false,
      series: [
        { label: 'measured', unit, points: preds.map((p) => [p.hours_after_first_dose, p.observed_mg_l]) },
        { label: 'twin (MAP fit)', unit, points: preds.map((p) => [p.hours_after_first_dose, p.individual_mg_l]), dash: [6, 4] },
        { label: 'population', unit, points: preds.map((p) => [p.hours_after_first_dose, p.population_mg_l]), dash: [2, 3] },
      ],
    });
  }
  const glucose = twin.model_state?.glucose;
  if (glucose) {
    const cgm = await api(`${base}/observations?code=99504-3&from=${since}`);
    const bands = glucose.forecast || [];
    const hypo = glucose.hypoglycemia_predicted
      ? ` — <span class="sev-high" data-testid="hypo-predicted">hypoglycaemia predicted (lowest ${Math.round(glucose.lowest_next_30min_mg_dl)} mg/dL in 30 min)</span>` : '';
    timeChart(charts, 'glucose', `Glucose: CGM and the twin\u2019s forecast (5–95 %)${hypo}`, 'mg/dL', [
      { label: 'CGM', unit: 'mg/dL', points: cgm.map((o) => [seconds(o.time), o.value]) },
      { label: 'forecast', unit: 'mg/dL', points: bands.map((b) => [seconds(b.time), b.mean_mg_dl]), dash: [6, 4] },
      { label: '5 %', unit: 'mg/dL', points: bands.map((b) => [seconds(b.time), b.p05_mg_dl]), dash: [2, 3] },
      { label: '95 %', unit: 'mg/dL', points: bands.map((b) => [seconds(b.time), b.p95_mg_dl]), dash: [2, 3], fillTo: 2 },
    ], { lines: [{ label: '70 mg/dL', y: 70, colour: '#D55E00' }, { label: '180 mg/dL', y: 180, colour: '#E69F00' }] });
  }
  if (glucose?.last_command) {
    const c = glucose.last_command;
    const p = document.createElement('p');
    p.className = 'card';
    p.dataset.testid = 'last-command';
    p.textContent = `Closed loop (${c.controller || c.source}): basal ${Number(c.basal_u_per_h ?? 0).toFixed(2)} U/h, bolus ${Number(c.bolus_u ?? 0).toFixed(2)} U at ${c.time}${c.suspended ? ' — suspended (low glucose)' : ''}`;
    charts.appendChild(p);
  }
  const alertsList = main.querySelector('[data-testid=alerts]');
  let alerts = twin.alerts;
  const drawAlerts = () => {
    alertsList.innerHTML = alerts.length ? alerts.map((a) => `
      <li data-alert="${escapeHtml(a.id)}"><span class="sev-${escapeHtml(a.severity)}">${escapeHtml(a.severity)}</span>
        <span>${escapeHtml(a.message)}</span><span class="muted">${escapeHtml(a.status)}</span>
        ${a.status === 'open' && who.role !== 'patient' ? `<button data-ack="${escapeHtml(a.id)}">Acknowledge</button>` : ''}</li>`).join('')
      : '<li>No open alerts</li>';
    alertsList.querySelectorAll('button[data-ack]').forEach((b) => {
      b.onclick = async () => {
        const acked = await api(`/api/v1/alerts/${b.dataset.ack}/ack`, { method: 'POST', body: { by: who.sub } });
        alerts = alerts.map((a) => (a.id === acked.id ? acked : a));
        drawAlerts();
      };
    });
  };
  drawAlerts();
  const advice = main.querySelector('#advice');
  const drawAdvice = (recs) => {
    if (!recs?.length) return;
    const r = recs[0];
    advice.hidden = false;
    advice.querySelector('div').innerHTML = `
      <p data-testid="advice">${escapeHtml(r.drug)} <strong>${r.dose_mg} mg every ${r.interval_h} h</strong>
        ${r.infusion_h ? `over ${r.infusion_h} h` : ''} — ${r.predicted_inr_trough !== undefined
    ? `predicted INR ${r.predicted_inr_trough.toFixed(1)} before the next dose`
    : `predicted AUC24 ${Math.round(r.predicted_auc24_mg_h_per_l)} mg·h/L, trough ${r.predicted_trough_mg_l.toFixed(1)} mg/L`},
        probability of target ${(100 * r.probability_of_target_attainment).toFixed(0)} % (${escapeHtml(r.target)})</p>
      ${who.role === 'admin' || who.role === 'clinician' ? '<button id="accept">Accept as draft order</button>' : ''}
      <p id="accepted" role="status"></p>`;
    const accept = advice.querySelector('#accept');
    if (accept) accept.onclick = async () => {
      const order = await api(`${base}/recommendations/accept`, { method: 'POST' });
      advice.querySelector('#accepted').textContent = `Draft order recorded: ${order.dose_mg} mg every ${order.interval_h} h (by ${order.accepted_by}).`;
    };
  };
  drawAdvice(twin.recommendations);
  const es = stream(id, (type, data) => {
    if (type === 'alert') {
      alerts = alerts.filter((a) => a.id !== data.id);
      if (data.status !== 'resolved') alerts.push(data);
      drawAlerts();
    }
    if (type === 'twin' && data.news2) {
      const badge = main.querySelector('[data-testid=news2]');
      badge.className = `news2 risk-${data.news2.risk ?? 'none'}`;
      badge.textContent = `NEWS2 ${data.news2.total ?? '–'}`;
    }
    if (type === 'recommendation') drawAdvice([data]);
  });
  return () => es.close();
}
