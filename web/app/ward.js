// Ward overview: every patient the signed-in user may see, with NEWS2 (value and colour band),
// open alerts, a sparkline of the last hours' heart rate and the twin's models; sortable,
// filterable, and live (NEWS2 and alerts update from the stream).
import { api, escapeHtml, stream } from './api.js';

const RISK_ORDER = { null: -1, low: 0, 'low-medium': 1, medium: 2, high: 3 };

function sparkline(values) {
  if (values.length < 2) return '<span class="muted">–</span>';
  const w = 120, h = 28, lo = Math.min(...values), hi = Math.max(...values);
  const span = hi - lo || 1;
  const pts = values.map((v, i) => `${(i / (values.length - 1)) * w},${h - 2 - ((v - lo) / span) * (h - 4)}`);
  return `<svg width="${w}" height="${h}" role="img" aria-label="heart rate, last hours: ${values[0]} to ${values[values.length - 1]} /min">` +
    `<polyline fill="none" stroke="#0b5cad" stroke-width="1.5" points="${pts.join(' ')}"/></svg>`;
}

export async function renderWard(main) {
  main.innerHTML = `
    <h1>Ward</h1>
    <div class="controls">
      <label>Filter <input id="filter" type="search" placeholder="id, condition, model"></label>
      <label><input id="only-alerts" type="checkbox"> open alerts only</label>
      <span id="live" class="muted" aria-live="polite"></span>
    </div>
    <table class="ward" data-testid="ward">
      <thead><tr>
        <th><button data-sort="id">Patient</button></th>
        <th><button data-sort="news2">NEWS2</button></th>
        <th><button data-sort="alerts">Open alerts</button></th>
        <th class="optional">Heart rate (last 6 h)</th>
        <th class="optional">Models</th>
      </tr></thead>
      <tbody></tbody>
    </table>`;
  const patients = await api('/api/v1/patients');
  const rows = new Map();
  const since = new Date(Date.now() - 6 * 3600e3).toISOString().replace(/\.\d+Z$/, 'Z');
  await Promise.all(patients.map(async (p) => {
    const twin = await api(`/api/v1/patients/${encodeURIComponent(p.id)}/twin`);
    let hr = [];
    try {
      hr = (await api(`/api/v1/patients/${encodeURIComponent(p.id)}/observations?code=8867-4&from=${since}`))
        .map((o) => o.value);
    } catch { hr = []; }
    rows.set(p.id, { p, news2: twin.news2, alerts: twin.alerts, hr, models: twin.models });
  }));
  let sortKey = 'news2', descending = true;
  const tbody = main.querySelector('tbody');
  const draw = () => {
    const filter = main.querySelector('#filter').value.toLowerCase();
    const onlyAlerts = main.querySelector('#only-alerts').checked;
    const list = [...rows.values()].filter((r) =>
      (!filter || [r.p.id, ...(r.p.conditions || []), ...(r.models || [])].join(' ').toLowerCase().includes(filter)) &&
      (!onlyAlerts || r.alerts.length > 0));
    const key = (r) => sortKey === 'id' ? r.p.id : sortKey === 'alerts' ? r.alerts.length
      : (r.news2.total ?? -1) * 10 + RISK_ORDER[r.news2.risk];
    list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (descending ? -1 : 1));
    tbody.innerHTML = list.map((r) => `
      <tr data-patient="${escapeHtml(r.p.id)}">
        <td><a href="#/patient/${encodeURIComponent(r.p.id)}">${escapeHtml(r.p.id)}</a>
            <div class="muted">${escapeHtml((r.p.conditions || []).join(', '))}</div></td>
        <td><span class="news2 risk-${r.news2.risk ?? 'none'}" data-testid="news2"
              title="${r.news2.complete ? escapeHtml(r.news2.risk) + ' risk' : 'incomplete set'}">${r.news2.total ?? '–'}</span></td>
        <td data-testid="alerts">${r.alerts.length ? `<span class="alert-badge">${r.alerts.length}</span> ${escapeHtml(r.alerts.map((a) => a.kind).join(', '))}` : '0'}</td>
        <td class="optional">${sparkline(r.hr.slice(-60))}</td>
        <td class="optional">${escapeHtml((r.models || []).join(', '))}</td>
      </tr>`).join('');
  };
  main.querySelector('#filter').oninput = draw;
  main.querySelector('#only-alerts').onchange = draw;
  main.querySelectorAll('th button').forEach((b) => {
    b.onclick = () => {
      descending = sortKey === b.dataset.sort ? !descending : b.dataset.sort !== 'id';
      sortKey = b.dataset.sort;
      draw();
    };
  });
  draw();
  // Live: NEWS2 and alerts as they change; heart rate as it arrives.
  let updates = 0;
  const es = stream('', async (type, data) => {
    const r = rows.get(data.patient);
    if (!r) return;
    if (type === 'twin' && data.news2) r.news2 = data.news2;
    if (type === 'alert') {
      r.alerts = r.alerts.filter((a) => a.id !== data.id);
      if (data.status !== 'resolved') r.alerts.push(data);
    }
    if (type === 'observation' && data.code === '8867-4') r.hr = [...r.hr.slice(-59), data.value];
    if (type === 'observation' && data.code !== '8867-4') return;
    main.querySelector('#live').textContent = `live · ${++updates} updates`;
    main.querySelector('#live').dataset.updates = String(updates);
    draw();
  });
  return () => es.close();
}
