// The sign-in form: the API's own login (POST /api/v1/login/ sets the
// access, refresh and CSRF cookies), then the page reloads as the admin.
import { refreshSession } from './console.js';

const form = document.getElementById('signin');
const error = document.getElementById('signin-error');

function show(message) {
  error.textContent = message;
  error.hidden = false;
}

if (form) {
  // A session whose short access token ran out is renewed without asking for the password again.
  if (document.cookie.includes('=') && (await refreshSession())) location.reload();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const email = form.email.value.trim();
    const password = form.password.value;
    if (!email || !password) {
      show('Enter your email and password.');
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const response = await fetch('/api/v1/login/', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      if (response.ok) {
        location.reload();
        return;
      }
      const body = await response.json().catch(() => null);
      show(body && body.error ? body.error.message : `Sign-in failed (${response.status}).`);
    } catch (failure) {
      show(`Sign-in failed: ${failure.message}`);
    } finally {
      button.disabled = false;
    }
  });
}
