// The console's shared browser code: API calls with the session's CSRF
// token, DOM building with text only (never HTML from data), formatting,
// polling. Plain ES module, no build step.

/** An API answer that was not 2xx: `status`, and the error envelope's `code`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return '';
}

/** The CSRF token the API expects in X-CSRFToken: the readable cookie set at login. */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-cookie"]');
  return cookie(meta ? meta.content : 'csrftoken');
}

let refreshing = null;

/** One refresh at a time: a rotated refresh token used twice would end the session. */
export function refreshSession() {
  refreshing ??= fetch('/api/v1/login/refresh/', { method: 'POST', credentials: 'same-origin' })
    .then((response) => response.ok)
    .catch(() => false)
    .finally(() => { setTimeout(() => { refreshing = null; }, 0); });
  return refreshing;
}

async function send(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrftoken'] = csrfToken();
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
}

/**
 * Calls the JSON API as the signed-in admin. A 401 (the short-lived access
 * token expired) renews the session once and retries; when that fails too,
 * the page reloads into the sign-in form. Other errors throw ApiError.
 */
export async function api(method, path, body) {
  let response = await send(method, path, body);
  if (response.status === 401) {
    if (await refreshSession()) response = await send(method, path, body);
    if (response.status === 401) {
      location.reload();
      throw new ApiError(401, 'UNAUTHENTICATED', 'Signed out.');
    }
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text === '' ? null : JSON.parse(text); } catch { data = null; }
  if (!response.ok) {
    const error = data && data.error ? data.error : { code: 'HTTP_' + response.status, message: response.statusText };
    throw new ApiError(response.status, error.code, error.message);
  }
  return data;
}

/**
 * Builds an element: `attrs` become properties or attributes (`text` sets
 * textContent, `on<event>` a listener), children are nodes or strings
 * (as text). No data ever goes through innerHTML.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces a node's children. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((child) => child !== undefined && child !== null && child !== false));
}

/** A message in the page's live region (`kind`: ok | error). */
export function notify(message, kind = 'ok', link) {
  const notice = document.getElementById('notice');
  if (!notice) return;
  notice.className = 'notice ' + kind;
  fill(notice, el('span', { text: message }), link ? el('a', { href: link.href, text: link.text }) : null);
  notice.hidden = false;
}

/** Shows an API failure in the notice area. */
export function notifyError(error, what) {
  const message = error instanceof ApiError ? `${what}: ${error.message} (${error.code})` : `${what}: ${error.message}`;
  notify(message, 'error');
}

/** `2026-11-30 17:05:03 UTC` for an ISO time or epoch ms; `–` for none. */
export function when(value) {
  if (value === null || value === undefined || value === '') return '–';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');
}

/** A <time> element for an ISO time. */
export function timeEl(value) {
  if (value === null || value === undefined) return document.createTextNode('–');
  return el('time', { datetime: new Date(value).toISOString(), text: when(value) });
}

/** `850 ms`, `3.2 s`, `4 min 10 s`. */
export function duration(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return age(ms / 1000);
}

/** `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h` for seconds. */
export function age(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86_400)} d${Math.floor((s % 86_400) / 3600) ? ` ${Math.floor((s % 86_400) / 3600)} h` : ''}`;
}

/** `deleted 3, kept 4` for a counts object; `–` when empty. */
export function counts(value) {
  const entries = Object.entries(value || {});
  return entries.length === 0 ? '–' : entries.map(([name, n]) => `${name} ${n}`).join(', ');
}

/** A status badge (`ok`, `failed`, `late`, ...). */
export function badge(text, kind = text) {
  return el('span', { class: `badge ${kind}`, text });
}

/**
 * Calls `load` now and every `ms` while the tab is visible (and once on
 * becoming visible again); errors go to the notice area. Returns a function
 * that loads at once (after an action).
 */
export function poll(load, ms = 5000, what = 'Refresh') {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await load();
      const stamp = document.getElementById('updated-at');
      if (stamp) stamp.textContent = new Date().toISOString().slice(11, 19) + ' UTC';
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) notifyError(error, what);
    } finally {
      running = false;
    }
  };
  void tick();
  setInterval(() => { if (document.visibilityState === 'visible') void tick(); }, ms);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') void tick(); });
  return tick;
}

async function signOut() {
  const logout = () => fetch('/api/v1/logout/', { method: 'POST', credentials: 'same-origin', headers: { 'x-csrftoken': csrfToken() } });
  try {
    // An expired access token cannot log out: renew it first, or the refresh cookie would sign the page back in.
    if ((await logout()).status === 401 && (await refreshSession())) await logout();
  } finally {
    location.assign('/admin/');
  }
}

for (const button of document.querySelectorAll('[data-action="sign-out"]')) button.addEventListener('click', () => void signOut());
