import assert from 'node:assert/strict';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { decodeQuotedPrintable, SmtpSink, type ReceivedMail } from '../mail/smtp-sink.js';

export type ErrorBody = { error: { code: string; message: string } };

/** Passwords zxcvbn rates 4 of 4 (the policy needs 3). */
export const STRONG = 'blue tractor autumn 1987';
export const STRONGER = 'violet harbour lantern 2031';
export const STRONGEST = 'quiet copper meadow 4417';

/** A curfew on loopback with a real SMTP sink and the background sender, on a test clock. */
export interface LifecycleHarness {
  readonly t: TestApp;
  readonly sink: SmtpSink;
  readonly clock: TestClock;
  stop(): Promise<void>;
}

export async function startHarness(env: Readonly<Record<string, string>> = {}): Promise<LifecycleHarness> {
  const sink = await new SmtpSink().start();
  const clock = new TestClock(Date.UTC(2026, 3, 1, 12));
  const t = await startTestApp({ env: { SMTP_URL: sink.url, ACCOUNT_MAIL_IP_MAX: '10000', ...env }, clock, background: true });
  return {
    t,
    sink,
    clock,
    async stop() {
      await t.stop();
      await sink.stop();
    },
  };
}

/** Every message to `recipient` so far. */
export function mailsTo(sink: SmtpSink, recipient: string): ReceivedMail[] {
  return sink.messages.filter((message) => message.to.includes(recipient));
}

/** Waits until `recipient` has received `count` messages; returns the last one, decoded. */
export async function nthMail(sink: SmtpSink, recipient: string, count: number): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (mailsTo(sink, recipient).length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} messages to ${recipient}, got ${mailsTo(sink, recipient).length}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const mail = mailsTo(sink, recipient)[count - 1];
  assert.ok(mail);
  return decodeQuotedPrintable(mail.raw);
}

/** The reset token in a decoded reset mail (from the link's fragment). */
export function resetToken(decoded: string): string {
  const match = /#token=([A-Za-z0-9_-]{43})/.exec(decoded);
  if (!match?.[1]) throw new Error(`no reset token in:\n${decoded}`);
  return match[1];
}

/** The path of the first `/api/v1/<kind>/<token>/` link in a decoded mail. */
export function linkPath(decoded: string, kind: 'activate' | 'email/confirm'): string {
  const match = new RegExp(`https?://[^\\s"<>]+(/api/v1/${kind}/[A-Za-z0-9_-]{43}/)`).exec(decoded);
  if (!match?.[1]) throw new Error(`no ${kind} link in:\n${decoded}`);
  return match[1];
}

/** Inserts an active user with a real hash. */
export async function activeUser(t: TestApp, email: string, password = STRONG, role: 'user' | 'admin' = 'user'): Promise<number> {
  const { services, clock } = t.app;
  const row = await services.users.insert({ email, passwordHash: await services.passwords.hash(password), role, profile: '{}', activatedAt: clock.now(), now: clock.now() });
  assert.ok(row);
  return row.id;
}

/** A client logged in as `email`; asserts the login worked. */
export async function login(t: TestApp, email: string, password = STRONG): Promise<HttpClient> {
  const http = new HttpClient(t.url);
  const response = await http.post('/api/v1/login/', { json: { email, password } });
  assert.equal(response.status, 200, response.text);
  return http;
}

export function csrf(http: HttpClient): Record<string, string> {
  const token = http.cookie('csrftoken');
  assert.ok(token);
  return { 'x-csrftoken': token };
}

/**
 * Waits until deferred account work is done and no outbox row is mid-send.
 * Call before moving the test clock by minutes: a claim older than the
 * outbox's 5-minute lease would be sent a second time.
 */
export async function settleMail(h: LifecycleHarness): Promise<void> {
  await h.t.app.services.lifecycle.drain();
  const deadline = Date.now() + 10_000;
  for (;;) {
    await h.t.app.services.mail.sendDueNow();
    const busy = await h.t.app.services.storage.db.selectFrom('mail_outbox').select('id').where('status', 'in', ['sending', 'pending']).execute();
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`outbox still busy: ${busy.length} row(s)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
