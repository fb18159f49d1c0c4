import type { App } from '../../src/app.js';

/** Creates `count` activated users directly (no argon2, no mail): emails u<i>@example.com. */
export async function seedUsers(app: App, count: number, prefix = 'u'): Promise<number[]> {
  const now = app.clock.now();
  const ids: number[] = [];
  for (let start = 0; start < count; start += 500) {
    const rows = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      email: `${prefix}${start + i}@example.com`,
      password_hash: 'x',
      role: 'user' as const,
      profile: JSON.stringify({ type: 'person', first_name: `First${start + i}`, last_name: 'Last' }),
      activated_at: now,
      created_at: now,
      updated_at: now,
    }));
    const inserted = await app.services.storage.db.insertInto('users').values(rows).returning('id').execute();
    ids.push(...inserted.map((row) => Number(row.id)));
  }
  return ids;
}

/** A two-step sequence whose subjects name the step, so the SMTP server can count per (recipient, step). */
export function twoSteps(key = 'welcome', delay2 = '1d') {
  return {
    key,
    name: 'Welcome',
    steps: [
      { delay: '0s', subject: `${key} step 1`, text: 'Hello {{first_name}}! Leave: {{unsubscribe_url}}', html: '<p>Hello {{first_name}} &amp; {{email}}</p>' },
      { delay: delay2, subject: `${key} step 2`, text: 'Still here, {{first_name}}? {{app_url}}' },
    ],
  };
}

/** Row counts of sequence_sends by state. */
export async function sendStates(app: App): Promise<Record<string, number>> {
  return app.services.sequences.sendCounts();
}

/**
 * Enrolls `userIds` in sequence `key` and writes their send ledger directly
 * (bulk, no SMTP): the first `sent[n]` enrollments have step n+1 in state
 * `sent`, and `other` adds rows of other states ({step, state, count}) after
 * them. For funnel counts past any page size.
 */
export async function seedLedger(
  app: App,
  key: string,
  userIds: readonly number[],
  sent: readonly number[],
  other: ReadonlyArray<{ step: number; state: 'failed' | 'unknown' | 'queued'; count: number }> = [],
): Promise<void> {
  const db = app.services.storage.db;
  const now = app.clock.now();
  const sequence = await db.selectFrom('sequences').select('id').where('key', '=', key).executeTakeFirstOrThrow();
  const enrollmentIds: number[] = [];
  for (let start = 0; start < userIds.length; start += 200) {
    const rows = userIds.slice(start, start + 200).map((userId) => ({ sequence_id: sequence.id, user_id: userId, status: 'active' as const, next_step: 1, due_at: null, created_at: now, updated_at: now }));
    enrollmentIds.push(...(await db.insertInto('sequence_enrollments').values(rows).returning('id').execute()).map((row) => Number(row.id)));
  }
  const sends: Array<{ enrollment: number; step: number; state: 'sent' | 'failed' | 'unknown' | 'queued' }> = [];
  sent.forEach((count, index) => {
    for (let i = 0; i < count; i += 1) sends.push({ enrollment: enrollmentIds[i] as number, step: index + 1, state: 'sent' });
  });
  // Each step's other rows go to the enrollments after those that already have a row for that step.
  const used = new Map(sent.map((count, index) => [index + 1, count]));
  for (const { step, state, count } of other) {
    const from = used.get(step) ?? 0;
    for (let i = from; i < from + count; i += 1) sends.push({ enrollment: enrollmentIds[i] as number, step, state });
    used.set(step, from + count);
  }
  for (let start = 0; start < sends.length; start += 200) {
    const rows = sends.slice(start, start + 200).map((send) => ({
      enrollment_id: send.enrollment,
      sequence_id: sequence.id,
      step: send.step,
      state: send.state,
      recipient: null,
      attempts: send.state === 'queued' ? 0 : 1,
      next_attempt_at: now,
      locked_by: null,
      lease_until: null,
      response_code: null,
      last_error: null,
      created_at: now,
      updated_at: now,
      sent_at: send.state === 'sent' ? now : null,
    }));
    await db.insertInto('sequence_sends').values(rows).execute();
  }
}
