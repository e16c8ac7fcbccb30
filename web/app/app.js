// The dashboard's shell: sign-in, the role shown, sign-out, and hash routes
// (#/ward, #/patient/ID, #/whatif/ID/MODEL, #/trials[/ID], #/audit). Pages render into <main>; each returns a cleanup function.
import { claims, escapeHtml, signIn, signOut, token } from './api.js';
import { renderWard } from './ward.js';
import { renderPatient } from './patient.js';
import { renderWhatIf } from './whatif.js';
import { renderTrial, renderTrials } from './trials.js';
import { renderAudit } from './audit.js';

const main = document.getElementById('main');
let cleanup = () => {};

function showWho() {
  const c = token() ? claims() : null;
  const who = document.getElementById('who');
  document.getElementById('nav').hidden = !c;
  document.getElementById('nav-audit').hidden = !c || c.role !== 'admin';
  document.getElementById('nav-ward').hidden = !c || c.role === 'researcher';
  document.getElementById('nav-trials').hidden = !c || !['admin', 'clinician', 'researcher'].includes(c.role);
  if (!c) { who.textContent = ''; return; }
  who.innerHTML = `<span data-testid="who">${escapeHtml(c.sub)} · <strong>${escapeHtml(c.role)}</strong>` +
    `${c.patient ? ` · ${escapeHtml(c.patient)}` : ''}</span> <button class="secondary" id="signout">Sign out</button>`;
  document.getElementById('signout').onclick = () => { signOut(); location.hash = '#/signin'; };
}

function renderSignIn(view, message = '') {
  view.innerHTML = `
    <section class="card" style="max-width:40rem">
      <h1>Sign in</h1>
      <p>Paste your bearer token (<code>medtwin serve --demo</code> prints one for each role).</p>
      <form id="signin">
        <label for="token">Token</label><br>
        <textarea id="token" rows="4" style="width:100%" autocomplete="off" required></textarea>
        <p><button type="submit">Sign in</button></p>
        <p class="error" role="alert" id="signin-error">${escapeHtml(message)}</p>
      </form>
    </section>`;
  document.getElementById('token').focus();
  document.getElementById('signin').onsubmit = async (e) => {
    e.preventDefault();
    try {
      const c = await signIn(document.getElementById('token').value);
      location.hash = c.role === 'patient' ? `#/patient/${encodeURIComponent(c.patient)}`
        : c.role === 'researcher' ? '#/trials' : '#/ward';
    } catch (err) {
      document.getElementById('signin-error').textContent = err.message;
    }
  };
  return () => {};
}

// Each route renders into its own element: a page still loading when the user moves on keeps
// drawing into a detached element, and its live stream is closed as soon as it returns.
let generation = 0;

async function route() {
  cleanup();
  cleanup = () => {};
  const mine = ++generation;
  showWho();
  const view = document.createElement('div');
  main.replaceChildren(view);
  const hash = location.hash || '#/ward';
  if (!token() || hash === '#/signin') { cleanup = renderSignIn(view); return; }
  const [, page, arg, arg2] = hash.split('/');
  try {
    let done;
    if (page === 'patient' && arg) done = await renderPatient(view, decodeURIComponent(arg));
    else if (page === 'whatif' && arg) done = await renderWhatIf(view, decodeURIComponent(arg), arg2 || 'vancomycin');
    else if (page === 'trials' && arg) done = await renderTrial(view, decodeURIComponent(arg));
    else if (page === 'trials') done = await renderTrials(view);
    else if (page === 'audit') done = await renderAudit(view);
    else if (claims()?.role === 'researcher') { location.hash = '#/trials'; return; }
    else done = await renderWard(view);
    if (mine !== generation) { done(); return; }
    cleanup = done;
  } catch (err) {
    if (mine !== generation) return;
    if (err.status === 401) { signOut(); cleanup = renderSignIn(view, 'Your token was refused; sign in again.'); return; }
    view.innerHTML = `<p class="error" role="alert" data-testid="page-error">${
      err.status === 403 ? 'You may not see this.' : 'Could not load the page'}: ${escapeHtml(err.message)}</p>`;
  }
  main.focus();
}

window.addEventListener('hashchange', route);
route();
