// Users and sessions: search by e-mail, who is online, the auth tables' health.
import { age, api, badge, el, fill, poll, timeEl, when } from './console.js';

const q = document.getElementById('user-query').dataset.q ?? '';

function userLink(user) {
  return el('a', { href: `/admin/users/${user.id}/`, text: user.email });
}

async function loadUsers() {
  const result = await api('GET', `/api/v1/admin/users/?${new URLSearchParams({ q, per_page: '50' })}`);
  fill(document.querySelector('#users-table tbody'), result.users.map((user) => el('tr', { 'data-user-id': user.id },
    el('th', { scope: 'row', 'data-label': 'User' }, userLink(user)),
    el('td', { 'data-label': 'Role', text: user.role }),
    el('td', { 'data-label': 'Active' }, user.deactivated_at ? badge('deactivated', 'failed') : user.activated_at ? badge('active', 'ok') : badge('not activated', 'muted')),
    el('td', { 'data-label': 'Created' }, timeEl(user.created_at)))));
  document.getElementById('users-total').textContent = `${result.total} user${result.total === 1 ? '' : 's'}${q ? ` matching “${q}”` : ''}${result.total > result.users.length ? `, first ${result.users.length} shown` : ''}.`;
}

/** Online users with their e-mail: one admin call (GET /api/v1/admin/presence/), no look-up per user. */
async function loadOnline() {
  const result = await api('GET', '/api/v1/admin/presence/?limit=100');
  document.getElementById('online-none').hidden = result.users.length > 0;
  fill(document.getElementById('online-list'), result.users.map((user) => el('li', { 'data-user-id': user.user_id },
    el('a', { href: `/admin/users/${user.user_id}/`, text: user.email }),
    ` — ${user.connections} connection${user.connections === 1 ? '' : 's'}, last seen ${when(user.last_seen_at)}`)));
}

async function loadHealth() {
  const result = await api('GET', '/api/v1/admin/auth-health/');
  fill(document.querySelector('#health-table tbody'), result.tables.map((table) => el('tr', {},
    el('th', { scope: 'row', 'data-label': 'Table', text: table.table }),
    el('td', { 'data-label': 'Rows', text: String(table.rows) }),
    el('td', { 'data-label': 'Expired', text: `${table.expired} (${Math.round(table.expired_share * 100)} %)` }),
    el('td', { 'data-label': 'Oldest expired', text: table.oldest_expired_at ? `${age((Date.now() - Date.parse(table.oldest_expired_at)) / 1000)} ago` : '–' }),
    el('td', { 'data-label': 'Last sweep', text: table.last_sweep ? `${when(table.last_sweep.finished_at)}: ${table.last_sweep.rows} rows in ${table.last_sweep.duration_ms} ms (${table.last_sweep.job})` : 'never' }))));
}

poll(loadUsers, 30_000, 'Users');
poll(loadOnline, 5000, 'Online now');
poll(loadHealth, 30_000, 'Auth-table health');
