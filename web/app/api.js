// The server's REST API with the signed-in token; the only data source of the dashboard.
const KEY = 'medtwin.token';

export function token() { return sessionStorage.getItem(KEY) || ''; }
export function signOut() { sessionStorage.removeItem(KEY); }

// The token's claims (not verified here: the server verifies every request).
export function claims(t = token()) {
  try {
    const part = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part + '='.repeat((4 - part.length % 4) % 4)));
  } catch { return null; }
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(path, { method = 'GET', body } = {}) {
  const res = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token()}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

// The twin once a drug refit it is running (seconds) is installed: the server answers at once
// with "refitting": true, so the page asks again (every 0.5 s, 2 min at most) instead of the
// server holding a connection.
export async function fittedTwin(base) {
  const deadline = Date.now() + 120e3;
  let twin = await api(`${base}/twin`);
  while (twin?.refitting && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    twin = await api(`${base}/twin`);
  }
  return twin;
}

// Signs in: keeps the token if the server accepts it.
export async function signIn(t) {
  const c = claims(t.trim());
  if (!c) throw new Error('That is not a medtwin token.');
  sessionStorage.setItem(KEY, t.trim());
  try {
    await api(c.role === 'researcher' ? '/api/v1/research/cohort' : '/api/v1/patients' +
              (c.role === 'patient' || c.role === 'device' ? `/${encodeURIComponent(c.patient)}` : ''));
  } catch (e) {
    if (e.status === 401) { signOut(); throw new Error(`The server refused the token: ${e.message}`); }
  }
  return c;
}

// The live stream (Server-Sent Events; the token as a query parameter, since EventSource
// cannot send headers).
export function stream(patient, onEvent) {
  const q = new URLSearchParams({ access_token: token() });
  if (patient) q.set('patient', patient);
  const es = new EventSource(`/api/v1/stream?${q}`);
  for (const type of ['observation', 'twin', 'alert', 'recommendation', 'order', 'command']) {
    es.addEventListener(type, (e) => onEvent(type, JSON.parse(e.data)));
  }
  return es;
}

export function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
