// One user: their facts and live sessions, revoke one or log out everywhere.
import { api, badge, el, fill, notify, notifyError, poll, timeEl, when } from './console.js';
import { confirmAction } from './dialog.js';

const id = document.getElementById('user-detail').dataset.userId;
let user = null;
let refresh = async () => undefined;

function fact(term, ...value) {
  return [el('dt', { text: term }), el('dd', {}, ...value)];
}

async function revoke(session) {
  const answer = await confirmAction({
    title: 'Revoke this session?',
    body: [`${session.user_agent ?? 'Unknown device'} from ${session.ip ?? 'an unknown address'}, last seen ${when(session.last_seen_at)}.`, 'That device is signed out within seconds, on every instance.'],
    confirmLabel: 'Revoke',
    danger: true,
  });
  if (!answer.ok) return;
  try {
    await api('DELETE', `/api/v1/admin/users/${id}/sessions/${encodeURIComponent(session.id)}/`);
    notify('Session revoked.');
  } catch (error) {
    notifyError(error, 'Revoke');
  }
  await refresh();
}

async function logoutEverywhere() {
  const answer = await confirmAction({
    title: `Log ${user ? user.email : 'this user'} out everywhere?`,
    body: ['Every session of this user ends within seconds, on every instance.'],
    confirmLabel: 'Log out everywhere',
    danger: true,
  });
  if (!answer.ok) return;
  try {
    const result = await api('POST', `/api/v1/admin/users/${id}/logout/`, {});
    notify(`Logged out everywhere: ${result.revoked} session${result.revoked === 1 ? '' : 's'} revoked.`);
  } catch (error) {
    notifyError(error, 'Log out everywhere');
  }
  await refresh();
}

async function load() {
  const [found, list] = await Promise.all([api('GET', `/api/v1/admin/users/${id}/`), api('GET', `/api/v1/admin/users/${id}/sessions/`)]);
  user = found;
  document.querySelector('h1').textContent = user.email;
  document.title = `${user.email} · curfew console`;
  fill(document.getElementById('user-facts'), [
    fact('Id', String(user.id)),
    fact('Email', user.email),
    fact('Role', user.role),
    fact('State', user.deactivated_at ? badge('deactivated', 'failed') : user.activated_at ? badge('active', 'ok') : badge('not activated', 'muted')),
    fact('Created', timeEl(user.created_at)),
    fact('Activated', timeEl(user.activated_at)),
    fact('Last sign-in', timeEl(user.last_login_at)),
  ].flat());
  document.getElementById('sessions-none').hidden = list.sessions.length > 0;
  fill(document.querySelector('#sessions-table tbody'), list.sessions.map((session) => el('tr', { 'data-session-id': session.id },
    el('th', { scope: 'row', 'data-label': 'Device', text: session.user_agent ?? 'unknown' }, session.current ? el('span', { class: 'muted small', text: ' (this console)' }) : null),
    el('td', { 'data-label': 'IP', text: session.ip ?? '–' }),
    el('td', { 'data-label': 'Signed in' }, timeEl(session.created_at)),
    el('td', { 'data-label': 'Last seen' }, timeEl(session.last_seen_at)),
    el('td', { 'data-label': 'Expires' }, timeEl(session.idle_expires_at)),
    el('td', { 'data-label': 'Actions', class: 'cell-actions' }, el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'danger', 'data-action': 'revoke', onclick: () => revoke(session), text: 'Revoke', 'aria-label': `Revoke: ${session.user_agent ?? 'unknown device'}` }))))));
}

document.getElementById('logout-everywhere').addEventListener('click', () => void logoutEverywhere());
refresh = poll(load, 10_000, 'User');
