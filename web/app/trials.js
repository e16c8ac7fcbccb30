// Trials: run an in-silico trial of a glucose controller on the UVA/Padova virtual cohort (the
// server runs it with progress), open a finished one, and read its cohort table and the
// ambulatory glucose profile.
import { api, escapeHtml } from './api.js';
import { COLOURS, lineChart } from './chart.js';

const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(d));

function settingsText(s) {
  return `${escapeHtml(s.controller)} on ${escapeHtml(s.cohort)}, ${s.days} day(s), meals ${escapeHtml(s.meals)}, seed ${s.seed}` +
    `${s.ideal_sensor ? ', ideal sensor' : ''}`;
}

export async function renderTrials(view) {
  const trials = await api('/api/v1/trials');
  view.innerHTML = `
    <h1>In-silico trials</h1>
    <form id="trial" class="plan">
      <fieldset class="card"><legend>Run a trial</legend>
        <label class="field" for="cohort">Cohort <select id="cohort">
          <option value="adults">adults (10)</option><option value="adolescents">adolescents (10)</option>
          <option value="children">children (10)</option><option value="all">all (30)</option></select></label>
        <label class="field" for="controller">Controller <select id="controller">
          <option value="bb">basal-bolus (bb)</option><option value="pid">PID</option><option value="mpc">MPC</option></select></label>
        <label class="field" for="days">Days <input id="days" type="number" min="1" max="14" value="1" required></label>
        <label class="field" for="seed">Seed <input id="seed" type="number" min="0" value="1" required></label>
        <label class="field" for="meals">Meals (time=grams) <input id="meals" value="07:00=45,12:00=70,18:00=80" required></label>
        <label class="field"><input id="ideal" type="checkbox"> ideal sensor (no CGM noise)</label>
        <div class="actions"><button type="submit">Run</button></div>
      </fieldset>
    </form>
    <p class="error" role="alert" id="trial-error"></p>
    <section class="card"><h2>Trials</h2>
      <table class="ward" data-testid="trials"><thead><tr><th>Trial</th><th>Settings</th><th>Status</th>
        <th>Mean TIR 70–180</th><th>By</th></tr></thead>
      <tbody>${trials.map((t) => `<tr data-trial="${escapeHtml(t.id)}"><td><a href="#/trials/${encodeURIComponent(t.id)}">${escapeHtml(t.id)}</a></td>
        <td>${settingsText(t.settings)}</td><td>${escapeHtml(t.status)}</td>
        <td>${t.results ? `${fmt(t.results.mean_tir_70_180_pct)} %` : '–'}</td><td>${escapeHtml(t.submitted_by)}</td></tr>`).join('')
  || '<tr><td colspan="5">No trials yet.</td></tr>'}</tbody></table></section>`;
  view.querySelector('#trial').onsubmit = async (e) => {
    e.preventDefault();
    const q = (id) => view.querySelector(`#${id}`);
    try {
      const job = await api('/api/v1/trials', { method: 'POST', body: {
        cohort: q('cohort').value, controller: q('controller').value, days: Number(q('days').value),
        seed: Number(q('seed').value), meals: q('meals').value, ideal_sensor: q('ideal').checked } });
      location.hash = `#/trials/${encodeURIComponent(job.id)}`;
    } catch (err) {
      q('trial-error').textContent = `${err.body?.error?.field ? `${err.body.error.field}: ` : ''}${err.message}`;
    }
  };
  return () => {};
}

export async function renderTrial(view, id) {
  let job = await api(`/api/v1/trials/${encodeURIComponent(id)}`);
  view.innerHTML = `<h1>Trial ${escapeHtml(id)}</h1><p>${settingsText(job.settings)}</p>
    <p><a href="#/trials">All trials</a></p><div id="progress" role="status"></div><div id="trial-result"></div>`;
  const progress = view.querySelector('#progress');
  while (view.isConnected && (job.status === 'queued' || job.status === 'running')) {
    const { done, total } = job.progress;
    progress.innerHTML = `<label>${escapeHtml(job.status)}: ${done} of ${total || '…'} patients
      <progress data-testid="trial-progress" max="${total || 1}" value="${done}"></progress></label>`;
    await new Promise((r) => setTimeout(r, 300));
    job = await api(`/api/v1/trials/${encodeURIComponent(id)}`);
  }
  if (!view.isConnected) return () => {};
  if (job.status === 'failed') {
    progress.innerHTML = `<p class="error" role="alert">The trial failed: ${escapeHtml(job.error || 'unknown error')}</p>`;
    return () => {};
  }
  const r = job.results;
  progress.innerHTML = `<p data-testid="trial-summary">Done: ${r.patients.length} patients, mean time in range
    <strong>${fmt(r.mean_tir_70_180_pct)} %</strong>, time below 70 mg/dL ${fmt(r.mean_below_70_pct)} %, mean glucose ${fmt(r.mean_glucose_mg_dl, 0)} mg/dL.</p>`;
  const out = view.querySelector('#trial-result');
  out.innerHTML = `<div id="trial-charts"></div>
    <table class="ward" data-testid="cohort"><thead><tr><th>Patient</th><th>TIR 70–180 %</th><th>&lt; 70 %</th><th>&lt; 54 %</th>
      <th>&gt; 180 %</th><th>Mean (mg/dL)</th><th>CV %</th><th>Insulin U/day</th><th>Hypo events (alerted)</th><th>CVGA</th></tr></thead>
    <tbody>${r.patients.map((p) => `<tr data-patient="${escapeHtml(p.patient)}"><td>${escapeHtml(p.patient)}</td><td>${fmt(p.tir_70_180_pct)}</td>
      <td>${fmt(p.below_70_pct)}</td><td>${fmt(p.below_54_pct)}</td><td>${fmt(p.above_180_pct)}</td><td>${fmt(p.mean_mg_dl, 0)}</td>
      <td>${fmt(p.cv_pct)}</td><td>${fmt(p.basal_u_per_day + p.bolus_u_per_day)}</td>
      <td>${p.hypo_events} (${p.hypo_events_alerted})</td><td>${escapeHtml(p.cvga_zone)}</td></tr>`).join('')}</tbody></table>`;
  const agp = job.profile;
  const pts = (key) => agp.hour_of_day.map((h, i) => [h, agp[key][i]]);
  const charts = out.querySelector('#trial-charts');
  lineChart(charts, 'agp', 'Ambulatory glucose profile (all patients and days)', {
    xLabel: 'time of day (h)', yLabel: 'mg/dL', time: false, width: 900, height: 320,
    series: [
      { label: 'median', unit: 'mg/dL', points: pts('p50'), colour: COLOURS[6] },
      { label: '25th percentile', unit: 'mg/dL', points: pts('p25'), colour: COLOURS[0] },
      { label: '75th percentile', unit: 'mg/dL', points: pts('p75'), colour: COLOURS[0], fillTo: 1 },
      { label: '5th percentile', unit: 'mg/dL', points: pts('p05'), colour: COLOURS[4], dash: [4, 3] },
      { label: '95th percentile', unit: 'mg/dL', points: pts('p95'), colour: COLOURS[4], dash: [4, 3], fillTo: 3 },
    ],
    lines: [{ label: '70 mg/dL', y: 70, colour: '#D55E00' }, { label: '180 mg/dL', y: 180, colour: '#E69F00' }],
  });
  lineChart(charts, 'tir', 'Time in range by patient', {
    xLabel: 'patient (cohort order)', yLabel: '%', time: false, width: 900, height: 220,
    series: [
      { label: 'time 70–180', unit: '%', points: r.patients.map((p, i) => [i + 1, p.tir_70_180_pct]), colour: COLOURS[2] },
      { label: 'time < 70', unit: '%', points: r.patients.map((p, i) => [i + 1, p.below_70_pct]), colour: COLOURS[1] },
    ],
  });
  return () => {};
}
