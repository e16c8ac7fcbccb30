// The dashboard's shell: sign-in, the role shown, sign-out, and hash routes
// (#/ward, #/patient/ID). Pages render into <main>; each returns a cleanup function.
import { claims, escapeHtml, signIn, signOut, token } from './api.js';
import { renderWard } from './ward.js';
import { renderPatient } from './patient.js';

const main = document.getElementById('main');
let cleanup = () => {};

function showWho() {
  const c = token() ? claims() : null;
  const who = document.getElementById('who');
  document.getElementById('nav').hidden = !c;
  document.getElementById('nav-audit').hidden = !c || c.role !== 'admin';
  if (!c) { who.textContent = ''; return; }
  who.innerHTML = `<span data-testid="who">${escapeHtml(c.sub)} · <strong>${escapeHtml(c.role)}</strong>` +
    `${c.patient ? ` · ${escapeHtml(c.patient)}` : ''}</span> <button class="secondary" id="signout">Sign out</button>`;
  document.getElementById('signout').onclick = () => { signOut(); location.hash = '#/signin'; };
}

function renderSignIn(message = '') {
  main.innerHTML = `
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
      location.hash = c.role === 'patient' ? `#/patient/${encodeURIComponent(c.patient)}` : '#/ward';
    } catch (err) {
      document.getElementById('signin-error').textContent = err.message;
    }
  };
  return () => {};
}

async function route() {
  cleanup();
  showWho();
  const hash = location.hash || '#/ward';
  if (!token() || hash === '#/signin') { cleanup = renderSignIn(); return; }
  const [, page, arg] = hash.split('/');
  try {
    if (page === 'patient' && arg) cleanup = await renderPatient(main, decodeURIComponent(arg));
    else cleanup = await renderWard(main);
  } catch (err) {
    if (err.status === 401) { signOut(); cleanup = renderSignIn('Your token was refused; sign in again.'); return; }
    main.innerHTML = `<p class="error" role="alert" data-testid="page-error">${
      err.status === 403 ? 'You may not see this.' : 'Could not load the page'}: ${escapeHtml(err.message)}</p>`;
    cleanup = () => {};
  }
  main.focus();
}

window.addEventListener('hashchange', route);
route();
