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

/** E-mails of users seen online, looked up once each (a few a refresh). */
const emails = new Map();

async function lookUp(ids) {
  const missing = ids.filter((id) => !emails.has(id)).slice(0, 10);
  await Promise.all(missing.map(async (id) => {
    try {
      emails.set(id, (await api('GET', `/api/v1/admin/users/${id}/`)).email);
    } catch {
      emails.set(id, `User ${id}`);
    }
  }));
}

async function loadOnline() {
  const result = await api('GET', '/api/v1/presence/?limit=100');
  await lookUp(result.results.map((status) => status.id));
  document.getElementById('online-none').hidden = result.results.length > 0;
  fill(document.getElementById('online-list'), result.results.map((status) => el('li', { 'data-user-id': status.id },
    el('a', { href: `/admin/users/${status.id}/`, text: emails.get(status.id) ?? `User ${status.id}` }),
    ` — ${status.active_connections} connection${status.active_connections === 1 ? '' : 's'}, last seen ${when(status.last_seen_at)}`)));
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
