import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '../helpers/http.js';
import { activeUser, csrf, login, startHarness, STRONG, type ErrorBody, type LifecycleHarness } from './support.js';

interface AdminUser {
  id: number;
  email: string;
  role: string;
  is_active: boolean;
  activated_at: string | null;
  deactivated_at: string | null;
}
interface UserList {
  users: AdminUser[];
  page: number;
  per_page: number;
  total: number;
}

describe('admin user management API', () => {
  let h: LifecycleHarness;
  let admin: HttpClient;
  let adminId = 0;
  const ids: Record<string, number> = {};

  before(async () => {
    h = await startHarness();
    adminId = await activeUser(h.t, 'root@example.com', STRONG, 'admin');
    for (const name of ['alice', 'bob', 'carol_x', 'dave']) ids[name] = await activeUser(h.t, `${name}@example.com`);
    const pending = await h.t.app.services.users.insert({ email: 'pending@example.net', passwordHash: 'x', role: 'user', profile: '{}', activatedAt: null, now: h.clock.now() });
    ids.pending = pending?.id ?? 0;
    admin = await login(h.t, 'root@example.com');
  });
  after(async () => {
    await h.stop();
  });

  it('lists, searches by any part of the e-mail (LIKE wildcards taken literally), filters and pages', async () => {
    const all = await admin.get<UserList>('/api/v1/admin/users/');
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.total, 6);
    assert.deepEqual(all.body.users.map((u) => u.id), [...all.body.users.map((u) => u.id)].sort((a, b) => a - b));
    const search = await admin.get<UserList>('/api/v1/admin/users/?q=ALI');
    assert.deepEqual(search.body.users.map((u) => u.email), ['alice@example.com']);
    const underscore = await admin.get<UserList>('/api/v1/admin/users/?q=l_x');
    assert.deepEqual(underscore.body.users.map((u) => u.email), ['carol_x@example.com'], '_ is not a wildcard');
    const percent = await admin.get<UserList>('/api/v1/admin/users/?q=%25');
    assert.equal(percent.body.total, 0, '% is not a wildcard');
    const admins = await admin.get<UserList>('/api/v1/admin/users/?role=admin');
    assert.deepEqual(admins.body.users.map((u) => u.email), ['root@example.com']);
    const inactive = await admin.get<UserList>('/api/v1/admin/users/?active=false');
    assert.deepEqual(inactive.body.users.map((u) => u.email), ['pending@example.net']);
    const page2 = await admin.get<UserList>('/api/v1/admin/users/?per_page=4&page=2');
    assert.equal(page2.body.users.length, 2);
    assert.equal(page2.body.page, 2);
    const bad = await admin.get<ErrorBody>('/api/v1/admin/users/?page=0');
    assert.equal(bad.status, 400);
    const unknown = await admin.get<ErrorBody>('/api/v1/admin/users/?sort=email');
    assert.equal(unknown.body.error.code, 'UNKNOWN_FIELD');
  });

  it('shows one user; 404 for an unknown id', async () => {
    const one = await admin.get<AdminUser>(`/api/v1/admin/users/${ids.bob}/`);
    assert.equal(one.status, 200);
    assert.equal(one.body.email, 'bob@example.com');
    assert.equal(one.body.is_active, true);
    const missing = await admin.get<ErrorBody>('/api/v1/admin/users/999999/');
    assert.equal(missing.body.error.code, 'USER_NOT_FOUND');
  });

  it('is for admins only, with CSRF on PATCH', async () => {
    const bob = await login(h.t, 'bob@example.com');
    assert.equal((await bob.get<ErrorBody>('/api/v1/admin/users/')).status, 403);
    assert.equal((await new HttpClient(h.t.url).get('/api/v1/admin/users/')).status, 401);
    const noCsrf = await admin.request<ErrorBody>('PATCH', `/api/v1/admin/users/${ids.bob}/`, { json: { active: false } });
    assert.equal(noCsrf.body.error.code, 'CSRF_FAILED');
  });

  it('deactivation refuses logins and ends every session; reactivation lets the user back', async () => {
    const dave = await login(h.t, 'dave@example.com');
    const off = await admin.request<AdminUser>('PATCH', `/api/v1/admin/users/${ids.dave}/`, { json: { active: false }, headers: csrf(admin) });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.body.is_active, false);
    assert.notEqual(off.body.deactivated_at, null);
    assert.equal((await dave.get('/api/v1/me/')).status, 401);
    assert.equal((await dave.post('/api/v1/login/refresh/')).status, 401);
    h.clock.advance(1000);
    assert.equal((await new HttpClient(h.t.url).post('/api/v1/login/', { json: { email: 'dave@example.com', password: STRONG } })).status, 401);
    const on = await admin.request<AdminUser>('PATCH', `/api/v1/admin/users/${ids.dave}/`, { json: { active: true }, headers: csrf(admin) });
    assert.equal(on.body.is_active, true);
    await login(h.t, 'dave@example.com');
  });

  it('changes roles; demotion ends sessions; an admin cannot deactivate or demote themselves', async () => {
    const promoted = await admin.request<AdminUser>('PATCH', `/api/v1/admin/users/${ids.alice}/`, { json: { role: 'admin' }, headers: csrf(admin) });
    assert.equal(promoted.body.role, 'admin');
    h.clock.advance(1000);
    const alice = await login(h.t, 'alice@example.com');
    assert.equal((await alice.get('/api/v1/admin/users/')).status, 200);
    await admin.request('PATCH', `/api/v1/admin/users/${ids.alice}/`, { json: { role: 'user' }, headers: csrf(admin) });
    assert.equal((await alice.get('/api/v1/admin/users/')).status, 401, 'the admin token dies with the demotion');
    for (const change of [{ active: false }, { role: 'user' }]) {
      const self = await admin.request<ErrorBody>('PATCH', `/api/v1/admin/users/${adminId}/`, { json: change, headers: csrf(admin) });
      assert.equal(self.status, 409);
      assert.equal(self.body.error.code, 'CANNOT_CHANGE_OWN_ACCOUNT');
    }
    const empty = await admin.request<ErrorBody>('PATCH', `/api/v1/admin/users/${ids.alice}/`, { json: {}, headers: csrf(admin) });
    assert.equal(empty.status, 400);
  });

  it('activating a never-activated account makes it usable', async () => {
    const on = await admin.request<AdminUser>('PATCH', `/api/v1/admin/users/${ids.pending}/`, { json: { active: true }, headers: csrf(admin) });
    assert.equal(on.body.is_active, true);
    assert.notEqual(on.body.activated_at, null);
  });
});
