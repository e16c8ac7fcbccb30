// Audit (administrators): the ledger's verification status (Merkle tree and signed tree heads)
// and the most recent records — who did what to whose record, and the outcome.
import { api, escapeHtml } from './api.js';

const OUTCOMES = { 401: 'no valid token', 403: 'refused', 429: 'throttled' };

export async function renderAudit(view) {
  const [verify, records] = await Promise.all([api('/api/v1/audit/verify'), api('/api/v1/audit?limit=200')]);
  view.innerHTML = `
    <h1>Audit trail</h1>
    <section class="card" data-testid="ledger-status">
      <h2>Ledger ${verify.ok ? '<span class="ok">verified</span>' : '<span class="sev-critical">NOT verified</span>'}</h2>
      <p>${verify.records} records; ${verify.tree_heads_checked} signed tree heads checked; root <code>${escapeHtml(verify.root || '')}</code>.</p>
      ${verify.ok ? '' : `<p class="error" role="alert">First bad record: ${escapeHtml(verify.first_bad_record)} — ${escapeHtml(verify.problem)}</p>`}
      <p><button id="reverify" class="secondary">Verify again</button></p>
    </section>
    <label>Filter <input id="audit-filter" type="search" placeholder="who, route, patient, outcome"></label>
    <table class="ward" data-testid="audit"><thead><tr><th>#</th><th>Time</th><th>Who</th><th>Role</th><th>Action</th>
      <th>Patients</th><th>Outcome (HTTP status)</th></tr></thead><tbody></tbody></table>`;
  const rows = records.slice().reverse();
  const tbody = view.querySelector('tbody');
  const draw = () => {
    const f = view.querySelector('#audit-filter').value.toLowerCase();
    tbody.innerHTML = rows.filter((r) => !f || JSON.stringify(r).toLowerCase().includes(f)).map((r) => `
      <tr data-seq="${r.seq}"><td>${r.seq}</td><td>${escapeHtml(r.time || '')}</td><td>${escapeHtml(r.who ?? '')}</td>
        <td>${escapeHtml(r.role || '')}</td><td>${escapeHtml(r.action || '')}</td>
        <td>${escapeHtml((r.patients || []).join(', '))}</td>
        <td class="${r.outcome < 400 ? '' : 'sev-medium'}">${r.outcome} ${OUTCOMES[r.outcome] || (r.outcome < 400 ? 'done' : 'error')}</td></tr>`).join('');
  };
  draw();
  view.querySelector('#audit-filter').oninput = draw;
  view.querySelector('#reverify').onclick = async () => {
    const again = await api('/api/v1/audit/verify');
    view.querySelector('[data-testid=ledger-status] h2').innerHTML =
      `Ledger ${again.ok ? '<span class="ok">verified</span>' : '<span class="sev-critical">NOT verified</span>'} (${again.records} records)`;
  };
  return () => {};
}
