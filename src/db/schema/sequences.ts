import type { Generated } from 'kysely';

// Tables owned by src/sequences (docs/sequences.md). Times are epoch ms; flags 0/1.

export interface SequencesTable {
  id: Generated<number>;
  /** Slug, unique: the public name (`default_outreach`). */
  key: string;
  name: string;
  /** 0/1: an inactive sequence sends nothing and enrolls nobody automatically. */
  active: number;
  created_at: number;
  updated_at: number;
}

/** One step of a sequence; `position` is 1-based and stable (a step is identified by its number). */
export interface SequenceStepsTable {
  id: Generated<number>;
  sequence_id: number;
  position: number;
  /** From enrollment for step 1, from the previous step's send for the others. */
  delay_ms: number;
  subject: string;
  text: string;
  html: string | null;
  updated_at: number;
}

export type EnrollmentStatus = 'active' | 'completed' | 'stopped' | 'unsubscribed';

export interface SequenceEnrollmentsTable {
  id: Generated<number>;
  sequence_id: number;
  user_id: number;
  status: EnrollmentStatus;
  /** The number of the next step to send (1-based). */
  next_step: number;
  /** When the next step is due; null while a send for it is in flight or waits for an operator, and once finished. */
  due_at: number | null;
  created_at: number;
  updated_at: number;
}

/** queued → sending → sent | failed | unknown; `skipped` when the re-check before delivery stopped it. */
export type SendState = 'queued' | 'sending' | 'sent' | 'failed' | 'unknown' | 'skipped';

/** The send ledger: one row per (enrollment, step), UNIQUE, written before any byte goes to SMTP. */
export interface SequenceSendsTable {
  id: Generated<number>;
  enrollment_id: number;
  sequence_id: number;
  step: number;
  state: SendState;
  /** The address the message went (or was going) to, set when delivery is attempted. */
  recipient: string | null;
  attempts: number;
  next_attempt_at: number;
  locked_by: string | null;
  /** While `sending`: after this time another instance moves the row to `unknown`. */
  lease_until: number | null;
  /** The SMTP reply code of the last attempt, when there was one. */
  response_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
}

/** Addresses no sequence mail goes to (unsubscribe, hard bounce, deleted account). Transactional mail ignores it. */
export interface MailSuppressionsTable {
  /** Normalised (lower-case) address. */
  email: string;
  /** `unsubscribe`, `bounce`, `deleted`, `operator`. */
  reason: string;
  created_at: number;
}

export interface SequenceTables {
  sequences: SequencesTable;
  sequence_steps: SequenceStepsTable;
  sequence_enrollments: SequenceEnrollmentsTable;
  sequence_sends: SequenceSendsTable;
  mail_suppressions: MailSuppressionsTable;
}
