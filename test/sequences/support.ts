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
