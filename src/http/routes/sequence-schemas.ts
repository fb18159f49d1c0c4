import type { EnrollmentRow } from '../../db/repositories/sequence-enrollments.js';
import type { SendRow } from '../../db/repositories/sequence-sends.js';
import type { MailOutboxRow } from '../../db/repositories/mail-outbox.js';
import type { SequenceView } from '../../sequences/service.js';

/** Response schemas and body shapers of the sequence admin routes (snake_case, ISO times). */

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());
const isoOrNull = { type: ['string', 'null'] } as const;

const countsSchema = {
  type: 'object',
  properties: Object.fromEntries(['enrolled', 'active', 'completed', 'stopped', 'unsubscribed', 'sent', 'failed', 'unknown', 'due_now'].map((name) => [name, { type: 'integer' }])),
} as const;

export const sequenceSchema = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    name: { type: 'string' },
    active: { type: 'boolean' },
    steps: {
      type: 'array',
      items: {
        type: 'object',
        properties: { delay: { type: 'string' }, subject: { type: 'string' }, text: { type: 'string' }, html: { type: ['string', 'null'] } },
      },
    },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
    counts: countsSchema,
    sent_per_step: {
      type: 'array',
      items: { type: 'integer' },
      description: 'sends in state sent per step, in step order (exact; one entry per step)',
    },
  },
  required: ['key', 'name', 'active', 'steps', 'counts', 'sent_per_step'],
} as const;

/** An example sequence for /docs: 40 enrolled, 38 got step 1, 21 step 2 so far. */
export const sequenceExample = {
  key: 'welcome',
  name: 'Welcome',
  active: true,
  steps: [
    { delay: '0s', subject: 'Welcome, {{ first_name }}', text: 'Hello {{ first_name }}, welcome aboard. Unsubscribe: {{ unsubscribe_url }}', html: null },
    { delay: '2d', subject: 'Getting started', text: 'Two tips for {{ email }}.', html: '<p>Two tips for {{ email }}.</p>' },
  ],
  created_at: '2026-11-02T09:00:00.000Z',
  updated_at: '2026-11-02T09:00:00.000Z',
  counts: { enrolled: 40, active: 17, completed: 21, stopped: 0, unsubscribed: 2, sent: 59, failed: 1, unknown: 1, due_now: 3 },
  sent_per_step: [38, 21],
};

export function sequenceBody(view: SequenceView) {
  return {
    key: view.key,
    name: view.name,
    active: view.active,
    steps: view.steps,
    created_at: iso(view.createdAt),
    updated_at: iso(view.updatedAt),
    counts: view.counts,
    sent_per_step: view.sentPerStep,
  };
}

export const enrollmentSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    user_id: { type: 'integer' },
    email: { type: 'string' },
    status: { type: 'string' },
    next_step: { type: 'integer' },
    due_at: isoOrNull,
    created_at: { type: 'string' },
  },
  required: ['id', 'user_id', 'status', 'next_step', 'due_at'],
} as const;

export function enrollmentBody(row: EnrollmentRow & { email?: string }) {
  return {
    id: Number(row.id),
    user_id: Number(row.user_id),
    ...(row.email === undefined ? {} : { email: row.email }),
    status: row.status,
    next_step: row.next_step,
    due_at: iso(row.due_at),
    created_at: iso(row.created_at),
  };
}

export const sendSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    source: { type: 'string' },
    sequence: { type: ['string', 'null'] },
    step: { type: ['integer', 'null'] },
    enrollment_id: { type: ['integer', 'null'] },
    email: { type: ['string', 'null'] },
    state: { type: 'string' },
    attempts: { type: 'integer' },
    response_code: { type: ['integer', 'null'] },
    last_error: { type: ['string', 'null'] },
    message_id: { type: ['string', 'null'] },
    created_at: { type: 'string' },
    updated_at: isoOrNull,
    sent_at: isoOrNull,
  },
  required: ['id', 'source', 'state'],
} as const;

/** A sequence send; `id` is the send id (the Message-ID's local part). */
export function sendBody(row: SendRow & { sequence_key?: string; email?: string }, messageIdDomain: string) {
  return {
    id: String(row.id),
    source: 'sequence',
    sequence: row.sequence_key ?? null,
    step: row.step,
    enrollment_id: Number(row.enrollment_id),
    email: row.email ?? row.recipient,
    state: row.state,
    attempts: row.attempts,
    response_code: row.response_code,
    last_error: row.last_error,
    message_id: `<${row.id}@${messageIdDomain}>`,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    sent_at: iso(row.sent_at),
  };
}

/** A transactional outbox row, as the sends list shows it (`id` is `outbox-<n>`). */
export function outboxSendBody(row: MailOutboxRow) {
  return {
    id: `outbox-${row.id}`,
    source: 'outbox',
    sequence: null,
    step: null,
    enrollment_id: null,
    email: row.recipient,
    state: row.status,
    attempts: row.attempts,
    response_code: null,
    last_error: row.last_error,
    message_id: null,
    created_at: iso(row.created_at),
    updated_at: null,
    sent_at: iso(row.sent_at),
  };
}
