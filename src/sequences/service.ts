import type { Clock } from '../clock.js';
import type { Storage } from '../db/database.js';
import { MailSuppressionsRepository } from '../db/repositories/mail-suppressions.js';
import { SequenceEnrollmentsRepository, type EnrollmentListRow, type EnrollmentRow } from '../db/repositories/sequence-enrollments.js';
import { SequenceSendsRepository, type SendListRow, type SendRow } from '../db/repositories/sequence-sends.js';
import { SequencesRepository, type SequenceCounts, type SequenceRow, type SequenceTally } from '../db/repositories/sequences.js';
import { UsersRepository } from '../db/repositories/users.js';
import type { SendState } from '../db/schema/sequences.js';
import { transaction } from '../db/transaction.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseKey, parseSequence } from './definition.js';
import { formatDelay } from './duration.js';
import type { SequenceTemplates } from './templates.js';
import type { UnsubscribeTokens } from './unsubscribe-token.js';

export interface SequenceStepView {
  readonly delay: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string | null;
}

export interface SequenceView {
  readonly key: string;
  readonly name: string;
  readonly active: boolean;
  readonly steps: readonly SequenceStepView[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly counts: SequenceCounts;
  /** Sends in state `sent` per step, in step order (exact, one entry per current step). */
  readonly sentPerStep: readonly number[];
}

export interface SequencesServiceOptions {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly templates: SequenceTemplates;
  readonly tokens: UnsubscribeTokens;
  /** DEFAULT_SEQUENCE_KEY: the sequence users join when their account is activated. */
  readonly defaultKey: string;
  /** The sender's tick, for `tickNow` (tests, tools); the scheduler runs it as `sequence-tick`. */
  readonly tick: (context: { dryRun: boolean; signal: AbortSignal }) => Promise<Readonly<Record<string, number>>>;
}

const notFound = (key: string) => new AppError('SEQUENCE_NOT_FOUND', `No sequence with key "${key}".`);
const emptyCounts: SequenceCounts = { enrolled: 0, active: 0, completed: 0, stopped: 0, unsubscribed: 0, sent: 0, failed: 0, unknown: 0, due_now: 0 };

/** Sequences, enrollments, the send ledger's operator side, and unsubscribes. */
export class SequencesService {
  private readonly sequences: SequencesRepository;
  private readonly enrollments: SequenceEnrollmentsRepository;
  private readonly sends: SequenceSendsRepository;
  private readonly users: UsersRepository;
  private readonly suppressions: MailSuppressionsRepository;

  constructor(private readonly options: SequencesServiceOptions) {
    this.sequences = new SequencesRepository(options.storage);
    this.enrollments = new SequenceEnrollmentsRepository(options.storage);
    this.sends = new SequenceSendsRepository(options.storage);
    this.users = new UsersRepository(options.storage);
    this.suppressions = new MailSuppressionsRepository(options.storage);
  }

  private now(): number {
    return this.options.clock.now();
  }

  async list(): Promise<SequenceView[]> {
    const [rows, tallies] = await Promise.all([this.sequences.list(), this.sequences.counts(this.now())]);
    return Promise.all(rows.map((row) => this.view(row, tallies.get(Number(row.id)))));
  }

  /** One sequence with its steps and counts; throws SEQUENCE_NOT_FOUND. */
  async get(key: string): Promise<SequenceView> {
    const row = await this.require(key);
    const tallies = await this.sequences.counts(this.now(), Number(row.id));
    return this.view(row, tallies.get(Number(row.id)));
  }

  /** Creates a sequence; throws VALIDATION_FAILED (field named) or SEQUENCE_EXISTS. Nothing is written on a refusal. */
  async create(input: unknown): Promise<SequenceView> {
    const values = parseSequence(this.options.templates, input);
    const id = await transaction(this.options.storage, (tx) => new SequencesRepository(tx).insert(values, this.now()));
    if (id === undefined) throw new AppError('SEQUENCE_EXISTS', `A sequence with key "${values.key}" exists; change it with PUT.`);
    this.options.logger.info({ sequence: values.key, steps: values.steps.length }, 'sequence created');
    return this.get(values.key);
  }

  /**
   * Replaces name, flag and steps of an existing sequence. Steps are matched
   * by number, so no enrollment receives a step number it has passed.
   */
  async update(key: string, input: unknown): Promise<SequenceView> {
    const values = parseSequence(this.options.templates, input, parseKey(key));
    const row = await this.require(values.key);
    await transaction(this.options.storage, (tx) => new SequencesRepository(tx).update(Number(row.id), values, this.now()));
    this.options.logger.info({ sequence: values.key, steps: values.steps.length }, 'sequence updated');
    return this.get(values.key);
  }

  /** Create or update from a definition (the CLI's `sequences apply`). */
  async apply(input: unknown): Promise<{ created: boolean; sequence: SequenceView }> {
    const values = parseSequence(this.options.templates, input);
    const existing = await this.sequences.findByKey(values.key);
    if (existing === undefined) return { created: true, sequence: await this.create(input) };
    return { created: false, sequence: await this.update(values.key, input) };
  }

  /** Deletes a sequence (its enrollments and send rows go with it); with active enrollments only when `force`. */
  async delete(key: string, force: boolean): Promise<void> {
    const row = await this.require(key);
    const active = await this.enrollments.countActive(Number(row.id));
    if (active > 0 && !force) {
      throw new AppError('SEQUENCE_HAS_ENROLLMENTS', `Sequence "${key}" has ${active} active enrollments; stop them first or delete with ?force=1.`);
    }
    await this.sequences.delete(Number(row.id));
    this.options.logger.info({ sequence: key, activeEnrollments: active }, 'sequence deleted');
  }

  /**
   * Enrolls a user by email or id at step 1. Idempotent: `created` is false
   * (and the existing enrollment returned) when already enrolled. Throws
   * SEQUENCE_NOT_FOUND, USER_NOT_FOUND or USER_NOT_ACTIVATED.
   */
  async enroll(key: string, who: { email?: string; userId?: number }): Promise<{ enrollment: EnrollmentRow; created: boolean }> {
    const row = await this.require(key);
    const user = who.userId !== undefined ? await this.users.findById(who.userId) : await this.users.findByEmail((who.email ?? '').trim().toLowerCase());
    if (!user) throw new AppError('USER_NOT_FOUND', 'No account with this email or id.');
    if (user.activated_at === null) throw new AppError('USER_NOT_ACTIVATED', 'This account has not been activated; it is enrolled only once active.');
    const result = await this.enrollAt(this.options.storage, Number(row.id), Number(user.id));
    if (result.created) this.options.logger.info({ sequence: key, userId: user.id }, 'user enrolled');
    return result;
  }

  /**
   * Called inside the activation transaction: enrolls the user into
   * DEFAULT_SEQUENCE_KEY when that names an active sequence. No such
   * sequence: nothing happens and nothing is logged as an error.
   */
  async enrollOnActivation(tx: Storage, userId: number): Promise<void> {
    const row = await new SequencesRepository(tx).findByKey(this.options.defaultKey);
    if (row === undefined || Number(row.active) !== 1) return;
    await this.enrollAt(tx, Number(row.id), userId);
  }

  private async enrollAt(storage: Storage, sequenceId: number, userId: number): Promise<{ enrollment: EnrollmentRow; created: boolean }> {
    const now = this.now();
    const steps = await new SequencesRepository(storage).steps(sequenceId);
    const first = steps[0]?.delay_ms ?? 0;
    const { row, created } = await new SequenceEnrollmentsRepository(storage).enroll(sequenceId, userId, now + Number(first), now);
    return { enrollment: row, created };
  }

  async listEnrollments(key: string, limit: number, offset: number): Promise<EnrollmentListRow[]> {
    const row = await this.require(key);
    return this.enrollments.list(Number(row.id), limit, offset);
  }

  /** Stops one enrollment; throws ENROLLMENT_NOT_FOUND. Idempotent for one already stopped or finished. */
  async stopEnrollment(key: string, enrollmentId: number): Promise<EnrollmentRow> {
    const row = await this.require(key);
    const enrollment = await this.enrollments.findById(enrollmentId);
    if (!enrollment || Number(enrollment.sequence_id) !== Number(row.id)) throw new AppError('ENROLLMENT_NOT_FOUND', 'No such enrollment in this sequence.');
    await this.enrollments.stop(enrollmentId, this.now());
    return (await this.enrollments.findById(enrollmentId)) ?? enrollment;
  }

  async listSends(filter: { state?: SendState; sequenceKey?: string; limit?: number }): Promise<SendListRow[]> {
    if (filter.sequenceKey !== undefined) await this.require(filter.sequenceKey);
    return this.sends.list({ ...filter, limit: filter.limit ?? 100 });
  }

  /**
   * An operator's verdict on an `unknown` send: `sent` (the recipient got it;
   * the enrollment moves on) or `retry` (it did not arrive; send it again).
   * Throws SEND_NOT_FOUND or SEND_NOT_UNKNOWN.
   */
  async resolve(id: number, outcome: 'sent' | 'retry'): Promise<SendRow> {
    const now = this.now();
    const resolved = await transaction(this.options.storage, async (tx) => {
      const row = await new SequenceSendsRepository(tx).resolveUnknown(id, outcome, now);
      if (row !== undefined && outcome === 'sent') await new SequenceEnrollmentsRepository(tx).advance([Number(row.enrollment_id)], now);
      return row;
    });
    if (resolved === undefined) {
      const existing = await this.sends.findById(id);
      if (!existing) throw new AppError('SEND_NOT_FOUND', 'No such send.');
      throw new AppError('SEND_NOT_UNKNOWN', `Send ${id} is ${existing.state}; only unknown sends are resolved.`);
    }
    this.options.logger.info({ sendId: id, outcome }, 'unknown sequence send resolved');
    return (await this.sends.findById(id)) ?? resolved;
  }

  /**
   * Runs the sender once now, outside the scheduler's job lease (tests and
   * tools; several callers at once are safe: that is the point). `signal`
   * stops it early, as a timeout or shutdown stops a scheduled run.
   */
  tickNow(options: { dryRun?: boolean; signal?: AbortSignal } = {}): Promise<Readonly<Record<string, number>>> {
    return this.options.tick({ dryRun: options.dryRun ?? false, signal: options.signal ?? new AbortController().signal });
  }

  /** Steps due and not sent, and the oldest due time (seed 002's "queue backlog"). */
  backlog(): Promise<{ due: number; oldestDueAt: number | null }> {
    return this.sends.backlog(this.now());
  }

  /** Send rows by state (the `unknown` count is what operators must act on). */
  sendCounts(): Promise<Record<SendState, number>> {
    return this.sends.countByState();
  }

  /** What a tick would send now, to whom (`curfew jobs run sequence-tick --dry-run`). */
  preview(limit = 50): Promise<{ sequence_key: string; step: number; email: string; subject: string }[]> {
    return this.sends.preview(this.now(), limit);
  }

  /** True when the unsubscribe token is genuine and names an account (the GET confirm page). */
  async checkUnsubscribe(token: string): Promise<boolean> {
    const userId = this.options.tokens.verify(token);
    return userId !== undefined && (await this.users.findById(userId)) !== undefined;
  }

  /**
   * One-click unsubscribe (RFC 8058): the address joins the suppression list
   * and every active enrollment of the account stops. Idempotent. Throws
   * UNSUBSCRIBE_INVALID for a forged or stale token.
   */
  async unsubscribe(token: string): Promise<void> {
    const userId = this.options.tokens.verify(token);
    const user = userId === undefined ? undefined : await this.users.findById(userId);
    if (!user) throw new AppError('UNSUBSCRIBE_INVALID', 'This unsubscribe link is invalid.');
    const now = this.now();
    await transaction(this.options.storage, async (tx) => {
      await new MailSuppressionsRepository(tx).add(user.email, 'unsubscribe', now);
      await new SequenceEnrollmentsRepository(tx).unsubscribeUser(Number(user.id), now);
    });
    this.options.logger.info({ userId: user.id }, 'unsubscribed from sequence mail');
  }

  /**
   * Accounts deleted by their owners (inside the deleting transaction, `tx`):
   * their addresses join the suppression list, so a later account with the
   * same address is not mailed by a sequence it never joined either way
   * (the tombstone's promise); enrollments and sends go with the user (ON
   * DELETE CASCADE). Purged never-activated accounts were never enrolled and
   * are not suppressed, so the address can sign up again normally.
   */
  async accountsDeleted(tx: Storage, userIds: readonly number[], reason: 'deleted' | 'purged'): Promise<void> {
    if (reason !== 'deleted') return;
    const users = new UsersRepository(tx);
    const suppressions = new MailSuppressionsRepository(tx);
    const now = this.now();
    for (const id of userIds) {
      const user = await users.findById(id);
      if (user) await suppressions.add(user.email, 'deleted', now);
    }
  }

  /** The suppression list. */
  get suppressionList(): MailSuppressionsRepository {
    return this.suppressions;
  }

  private async require(key: string): Promise<SequenceRow> {
    const row = await this.sequences.findByKey(key);
    if (!row) throw notFound(key);
    return row;
  }

  private async view(row: SequenceRow, tally: SequenceTally | undefined): Promise<SequenceView> {
    const steps = await this.sequences.steps(Number(row.id));
    return {
      key: row.key,
      name: row.name,
      active: Number(row.active) === 1,
      steps: steps.map((step) => ({ delay: formatDelay(Number(step.delay_ms)), subject: step.subject, text: step.text, html: step.html })),
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
      counts: tally?.counts ?? emptyCounts,
      sentPerStep: steps.map((step) => tally?.sentByStep.get(step.position) ?? 0),
    };
  }
}
