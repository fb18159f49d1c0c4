import assert from 'node:assert/strict';
import type { UserRow } from '../../src/db/repositories/users.js';
import type { TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';

/** Inserts an active (or inactive) user directly; registration is another area's. */
export async function createUser(
  t: TestApp,
  options: { email: string; password: string; role?: 'user' | 'admin'; active?: boolean },
): Promise<UserRow> {
  const { services, clock } = t.app;
  const row = await services.users.insert({
    email: options.email,
    passwordHash: await services.passwords.hash(options.password),
    role: options.role ?? 'user',
    profile: '{"type":"worker"}',
    activatedAt: options.active === false ? null : clock.now(),
    now: clock.now(),
  });
  assert.ok(row, `user ${options.email} inserted`);
  return row;
}

/** A fresh client logged in as the given user; asserts the login succeeded. */
export async function loggedInClient(t: TestApp, email: string, password: string): Promise<HttpClient> {
  const http = new HttpClient(t.url);
  const response = await http.post('/api/v1/login/', { json: { email, password } });
  assert.equal(response.status, 200, response.text);
  return http;
}

/** Headers for a CSRF-protected request from this client. */
export function csrfHeaders(http: HttpClient): Record<string, string> {
  const token = http.cookie('csrftoken');
  assert.ok(token, 'client holds a csrftoken cookie');
  return { 'x-csrftoken': token };
}

export type ErrorBody = { error: { code: string; message: string } };
