// What-if: edit a plan, see the twin's prediction for the current plan and the proposed one
// side by side, and accept the proposal (a draft order; in a closed loop also the pump
// command). Vancomycin and warfarin: regimens at steady state with AUC24, trough, Cmax, the
// posterior's 5–95 % band and the probability of target attainment, and the forecast from now
// (the doses given so far, then each regimen) with the measured levels. Glucose: a meal, a bolus now and the
// basal rate over the next hours.
import { api, claims, escapeHtml, fittedTwin } from './api.js';
import { COLOURS, lineChart } from './chart.js';

// How each drug twin's predictions are shown. Every clinical number (the target, the regimens
// a what-if accepts, the regimen given now and when its next dose is due) comes from the twin:
// model_state[drug].what_if.
const DRUGS = {
  vancomycin: { unit: 'mg/L', quantity: 'Concentration' },
  warfarin: { unit: 'INR', quantity: 'INR' },
};

function field(id, label, value, { min, max, unit }) {
  return `<label class="field" for="${id}">${label}${unit ? ` <span class="muted">(${unit})</span>` : ''}
    <input id="${id}" name="${id}" type="number" inputmode="decimal" value="${value ?? ''}" min="${min}" max="${max}" step="any" required></label>`;
}

const num = (form, id) => Number(form.querySelector(`#${id}`).value);

// A horizontal bar: the 5–95 % interval and the point estimate against the target window.
function aucBar(r, target) {
  const max = Math.max(target[1] * 1.5, r.auc24_p95 * 1.1), w = 220, x = (v) => Math.min(w, (v / max) * w);
  return `<svg width="${w}" height="22" role="img" aria-label="AUC24 ${Math.round(r.auc24_mg_h_per_l)}, 5–95 % ${Math.round(r.auc24_p05)}–${Math.round(r.auc24_p95)}, target ${target.join('–')}">
    <rect x="${x(target[0])}" y="2" width="${x(target[1]) - x(target[0])}" height="18" fill="#009E7333"/>
    <line x1="${x(r.auc24_p05)}" x2="${x(r.auc24_p95)}" y1="11" y2="11" stroke="#1b1f24" stroke-width="2"/>
    <circle cx="${x(r.auc24_mg_h_per_l)}" cy="11" r="4" fill="#0072B2"/></svg>`;
}

async function drugWhatIf(view, id, base, who, drug) {
  const twin = await fittedTwin(base);
  const terms = twin.model_state?.[drug]?.what_if;
  if (!terms) {
    view.innerHTML = `<h1>What-if: ${drug}</h1><p class="error" role="alert">This patient has no ${drug} twin yet.</p>`;
    return;
  }
  const auc = terms.target.auc24_mg_h_per_l;  // [low, high], or absent (a trough target)
  const trough = terms.target.trough;
  const spec = { ...DRUGS[drug], auc: Boolean(auc) };
  const rec = (twin.recommendations || [])[0];
  const current = { ...terms.current_regimen };
  const proposed = rec ? { dose_mg: rec.dose_mg, interval_h: rec.interval_h, infusion_h: rec.infusion_h } : { ...current };
  // The forecast starts each regimen when the next dose is due, not now.
  const startInH = terms.next_dose_in_h;
  const column = (key, title, r) => `
    <fieldset class="card"><legend>${title}</legend>
      ${field(`${key}-dose`, 'Dose', r.dose_mg, { min: terms.limits.dose_mg[0], max: terms.limits.dose_mg[1], unit: 'mg' })}
      ${field(`${key}-interval`, 'Every', r.interval_h, { min: terms.limits.interval_h[0], max: terms.limits.interval_h[1], unit: 'h' })}
      ${field(`${key}-infusion`, spec.auc ? 'Infused over' : 'Infused over (0: by mouth)', r.infusion_h, { min: 0, max: 24, step: 0.5, unit: 'h' })}
    </fieldset>`;
  view.innerHTML = `
    <h1>What-if: ${drug} for <a href="#/patient/${encodeURIComponent(id)}">${escapeHtml(id)}</a></h1>
    <p class="muted">Steady-state predictions and the forecast from now, from the twin's MAP fit (${escapeHtml(twin.model_state?.[drug]?.population_model || 'no fit yet')});
      the band is the posterior's 5–95 %. Target: ${escapeHtml(terms.target_text)}${spec.auc ? '' : ' before the next dose (trough)'}.
      ${rec ? `The twin advises ${rec.dose_mg} mg every ${rec.interval_h} h.` : ''}</p>
    <form id="plan" class="plan">
      ${column('current', 'Current regimen', current)}
      ${column('proposed', 'Proposed regimen', proposed)}
      <div class="actions"><button type="submit">Compare</button></div>
    </form>
    <p class="error" role="alert" id="whatif-error"></p>
    <div id="result"></div>`;
  const form = view.querySelector('#plan');
  const result = view.querySelector('#result');
  const regimen = (key) => ({ dose_mg: num(form, `${key}-dose`), interval_h: num(form, `${key}-interval`), infusion_h: num(form, `${key}-infusion`) });
  const compare = async () => {
    view.querySelector('#whatif-error').textContent = '';
    let out;
    try {
      out = await api(`${base}/whatif`, { method: 'POST', body: { model: drug, regimens: [regimen('current'), regimen('proposed')], start_in_h: startInH } });
    } catch (e) {
      view.querySelector('#whatif-error').textContent = `${e.body?.error?.field ? `${e.body.error.field}: ` : ''}${e.message}`;
      return;
    }
    const [cur, pro] = out.regimens;
    result.dataset.startInH = out.start_in_h;
    const row = (label, r) => `<tr data-regimen="${label}"><th scope="row">${label}: ${r.regimen.dose_mg} mg q${r.regimen.interval_h} h${r.regimen.infusion_h ? ` / ${r.regimen.infusion_h} h` : ''}</th>
      ${spec.auc ? `<td data-testid="auc-${label}">${Math.round(r.auc24_mg_h_per_l)}</td><td>${Math.round(r.auc24_p05)}–${Math.round(r.auc24_p95)}</td>` : ''}
      <td data-testid="trough-${label}">${r.trough_mg_l.toFixed(1)}</td>${spec.auc ? '' : `<td>${r.trough_p05.toFixed(1)}–${r.trough_p95.toFixed(1)}</td>`}<td>${r.cmax_mg_l.toFixed(1)}</td>
      <td data-testid="pta-${label}"><strong>${Math.round(100 * r.probability_of_target_attainment)} %</strong></td>${spec.auc ? `<td>${aucBar(r, auc)}</td>` : ''}</tr>`;
    result.innerHTML = `
      <table class="ward metrics" data-testid="whatif-metrics">
        <thead><tr><th>Regimen</th>${spec.auc ? '<th>AUC24 (mg·h/L)</th><th>5–95 %</th>' : ''}<th>Trough (${spec.unit})</th>${spec.auc ? '' : '<th>5–95 %</th>'}<th>Peak (${spec.unit})</th>
          <th>Probability of target</th>${spec.auc ? '<th>AUC24 against the target (green)</th>' : ''}</tr></thead>
        <tbody>${row('current', cur)}${row('proposed', pro)}</tbody></table>
      <div id="whatif-charts"></div>
      ${who.role === 'admin' || who.role === 'clinician' ? '<p><button id="accept" data-testid="accept">Accept the proposed regimen as a draft order</button></p>' : ''}
      <p id="accepted" role="status" data-testid="accepted"></p>`;
    const charts = result.querySelector('#whatif-charts');
    // Current and proposed with the proposal's posterior 5–95 % band, from `points(r, key)`.
    const compared = (points) => [
      { label: 'current', unit: spec.unit, points: points(cur, 'mg_l'), colour: COLOURS[6] },
      { label: 'proposed', unit: spec.unit, points: points(pro, 'mg_l'), colour: COLOURS[0] },
      { label: 'proposed 5 %', unit: spec.unit, points: points(pro, 'p05_mg_l'), dash: [2, 3], colour: COLOURS[4] },
      { label: 'proposed 95 %', unit: spec.unit, points: points(pro, 'p95_mg_l'), dash: [2, 3], colour: COLOURS[4], fillTo: 2 },
    ];
    const window_ = trough ? trough.map((y) => ({ label: `${spec.unit} ${y}`, y, colour: '#009E73' })) : [];
    lineChart(charts, `whatif-${drug}`, `${spec.quantity} over 24 h at steady state`, {
      xLabel: 'hours after a dose', yLabel: spec.unit, time: false, width: 900, height: 300, lines: window_,
      series: compared((r, key) => r.steady_state_curve.map((p) => [p.hours, p[key]])),
    });
    // From now: the doses given so far, then each regimen from its start; the measured levels.
    lineChart(charts, `whatif-${drug}-forecast`,
      `${spec.quantity} from now (0 = ${out.now}): the doses given so far, then each regimen from the next dose, due in ${out.start_in_h} h`, {
        xLabel: 'hours from now', yLabel: spec.unit, time: false, width: 900, height: 300, lines: window_,
        series: [...compared((r, key) => r.forecast.map((p) => [p.hours_from_now, p[key]])),
          { label: 'measured', unit: spec.unit, points: out.observed.map((o) => [o.hours_from_now, o.value]), colour: COLOURS[1], markers: true }],
      });
    const accept = result.querySelector('#accept');
    if (accept) accept.onclick = async () => {
      try {
        const order = await api(`${base}/recommendations/accept`, { method: 'POST', body: { by: who.sub, ...regimen('proposed') } });
        result.querySelector('#accepted').textContent =
          `Draft order recorded: ${order.dose_mg} mg every ${order.interval_h} h${order.infusion_h ? ` over ${order.infusion_h} h` : ''} (by ${order.accepted_by}, ${order.accepted_at}).`;
      } catch (e) {
        result.querySelector('#accepted').textContent = `Not recorded: ${e.message}`;
      }
    };
  };
  form.onsubmit = (e) => { e.preventDefault(); compare(); };
  if (twin.model_state?.[drug]?.parameters) await compare();
  else result.innerHTML = '<p class="muted">The twin needs doses and at least one level before it can predict.</p>';
}

function glucoseSummary(points) {
  const bg = points.map((p) => p.bg_mg_dl);
  const inRange = bg.filter((v) => v >= 70 && v <= 180).length;
  return { low: Math.min(...bg), high: Math.max(...bg), tir: (100 * inRange) / bg.length, below: (100 * bg.filter((v) => v < 70).length) / bg.length };
}

async function glucose(view, id, base, who) {
  const twin = await api(`${base}/twin`);
  const g = twin.model_state?.glucose;
  const basalNow = g?.last_command?.basal_u_per_h;
  view.innerHTML = `
    <h1>What-if: glucose plan for <a href="#/patient/${encodeURIComponent(id)}">${escapeHtml(id)}</a></h1>
    <p class="muted">From the twin's current state (UVA/Padova, parameters from ${escapeHtml(g?.parameters_from || '–')}, estimate
      ${g ? Math.round(g.bg_estimate_mg_dl) : '–'} mg/dL${g?.closed_loop ? `; closed loop: ${escapeHtml(g.closed_loop)}` : ''}).
      Current: no change; proposed: the plan below.</p>
    <form id="plan" class="plan">
      <fieldset class="card"><legend>Meal</legend>
        ${field('meal-g', 'Carbohydrate', 0, { min: 0, max: 500, step: 5, unit: 'g' })}
        ${field('meal-in', 'In', 0, { min: 0, max: 1440, step: 5, unit: 'min' })}
      </fieldset>
      <fieldset class="card"><legend>Insulin</legend>
        ${field('bolus-u', 'Bolus now', 2, { min: 0, max: 25, step: 0.5, unit: 'U' })}
        ${field('basal', 'Basal rate', basalNow !== undefined ? Number(basalNow).toFixed(2) : '', { min: 0, max: 40, step: 0.05, unit: 'U/h' })}
        ${field('horizon', 'Horizon', 240, { min: 15, max: 1440, step: 15, unit: 'min' })}
      </fieldset>
      <div class="actions"><button type="submit">Compare</button></div>
    </form>
    <p class="error" role="alert" id="whatif-error"></p>
    <div id="result"></div>`;
  view.querySelector('#basal').required = false;
  const form = view.querySelector('#plan');
  const result = view.querySelector('#result');
  const plan = () => {
    const p = { model: 'glucose', horizon_min: num(form, 'horizon') };
    if (num(form, 'meal-g') > 0) p.meals = [{ in_min: num(form, 'meal-in'), grams: num(form, 'meal-g') }];
    if (num(form, 'bolus-u') > 0) p.insulin = [{ in_min: 0, units: num(form, 'bolus-u') }];
    if (form.querySelector('#basal').value !== '') p.basal_u_per_h = num(form, 'basal');
    return p;
  };
  const compare = async () => {
    view.querySelector('#whatif-error').textContent = '';
    let out;
    try {
      out = await api(`${base}/whatif`, { method: 'POST', body: plan() });
    } catch (e) {
      view.querySelector('#whatif-error').textContent = `${e.body?.error?.field ? `${e.body.error.field}: ` : ''}${e.message}`;
      return;
    }
    const cur = glucoseSummary(out.current.points), pro = glucoseSummary(out.proposed.points);
    const row = (label, s) => `<tr data-plan="${label}"><th scope="row">${label}</th><td data-testid="low-${label}">${Math.round(s.low)}</td>
      <td>${Math.round(s.high)}</td><td>${s.tir.toFixed(0)} %</td><td>${s.below.toFixed(0)} %</td></tr>`;
    result.innerHTML = `
      <table class="ward metrics" data-testid="whatif-metrics"><thead><tr><th>Plan</th><th>Lowest (mg/dL)</th><th>Highest (mg/dL)</th>
        <th>Time 70–180</th><th>Time &lt; 70</th></tr></thead><tbody>${row('current', cur)}${row('proposed', pro)}</tbody></table>
      <div id="whatif-charts"></div>
      ${who.role === 'admin' || who.role === 'clinician'
    ? `<p><button id="accept" data-testid="accept">Accept the insulin plan${g?.closed_loop ? ' and send it to the pump' : ' as a draft order'}</button></p>` : ''}
      <p id="accepted" role="status" data-testid="accepted"></p>`;
    lineChart(result.querySelector('#whatif-charts'), 'whatif-glucose', 'Predicted plasma glucose', {
      xLabel: 'minutes from now', yLabel: 'mg/dL', time: false, width: 900, height: 300,
      series: [
        { label: 'current', unit: 'mg/dL', points: out.current.points.map((p) => [p.minutes_ahead, p.bg_mg_dl]), colour: COLOURS[6] },
        { label: 'proposed', unit: 'mg/dL', points: out.proposed.points.map((p) => [p.minutes_ahead, p.bg_mg_dl]), colour: COLOURS[0] },
      ],
      lines: [{ label: '70 mg/dL', y: 70, colour: '#D55E00' }, { label: '180 mg/dL', y: 180, colour: '#E69F00' }],
    });
    const accept = result.querySelector('#accept');
    if (accept) accept.onclick = async () => {
      const body = { model: 'glucose', by: who.sub };
      if (num(form, 'bolus-u') > 0) body.bolus_u = num(form, 'bolus-u');
      if (form.querySelector('#basal').value !== '') body.basal_u_per_h = num(form, 'basal');
      try {
        const order = await api(`${base}/recommendations/accept`, { method: 'POST', body });
        result.querySelector('#accepted').textContent = `Draft insulin order recorded (bolus ${order.bolus_u} U` +
          `${order.basal_u_per_h !== null ? `, basal ${order.basal_u_per_h} U/h` : ''}, by ${order.accepted_by})` +
          `${order.command ? '; the command was sent to the pump.' : '.'}`;
      } catch (e) {
        result.querySelector('#accepted').textContent = `Not recorded: ${e.body?.error?.field ? `${e.body.error.field}: ` : ''}${e.message}`;
      }
    };
  };
  form.onsubmit = (e) => { e.preventDefault(); compare(); };
  if (g) await compare();
  else result.innerHTML = '<p class="muted">The glucose twin has no CGM data yet.</p>';
}

export async function renderWhatIf(view, id, model) {
  const base = `/api/v1/patients/${encodeURIComponent(id)}`;
  const who = claims();
  if (model === 'glucose') await glucose(view, id, base, who);
  else await drugWhatIf(view, id, base, who, DRUGS[model] ? model : 'vancomycin');
  return () => {};
}
