import { Worker } from 'node:worker_threads';
import { DeliveryError, type DeliveryOutcome, type Mailer, type OutgoingMail } from './mailer.js';
import type { SmtpMailerOptions } from './smtp-mailer.js';

/** A message to the SMTP thread: a mail to send, or the order to close. */
export type ThreadRequest = { id: number; mail: OutgoingMail } | { close: true };

/** The SMTP thread's answer to one mail. */
export type ThreadReply =
  | { id: number; ok: true }
  | { id: number; ok: false; outcome: DeliveryOutcome; message: string; cause: { message: string; code?: string; responseCode?: number } };

export interface ThreadMailerOptions extends SmtpMailerOptions {
  /** Linux: the thread's nice value (default 0, as the process); higher yields the CPU to the main thread's requests. */
  readonly niceness?: number;
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The pooled SMTP transport (createSmtpMailer) in a worker thread. Composing
 * MIME and the SMTP conversation are most of a bulk send's CPU; off the main
 * thread they run on a second core and never delay the requests the main
 * thread serves (a sequence drain next to live traffic). Failures come back
 * classified exactly as createSmtpMailer classifies them.
 *
 * If the thread dies with mails in flight, their fate is not known (the
 * thread may have sent them): they reject as `unknown`, never `retry`. The
 * next send starts a new thread.
 */
export function createThreadMailer(options: ThreadMailerOptions): Mailer {
  let worker: Worker | undefined;
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let closed = false;

  const start = (): Worker => {
    const thread = new Worker(new URL('./smtp-thread-entry.mjs', import.meta.url), { workerData: { ...options } });
    // Idle, the thread must not keep the process alive; while mails are in flight it does (see send()).
    thread.unref();
    thread.on('message', (reply: ThreadReply) => {
      const waiting = pending.get(reply.id);
      if (waiting === undefined) return;
      pending.delete(reply.id);
      if (pending.size === 0) thread.unref();
      if (reply.ok) return waiting.resolve();
      const cause = Object.assign(new Error(reply.cause.message), reply.cause);
      waiting.reject(new DeliveryError(reply.message, reply.outcome, reply.cause.responseCode, { cause }));
    });
    const lost = (reason: string) => {
      if (worker === thread) worker = undefined;
      for (const [id, waiting] of pending) {
        pending.delete(id);
        waiting.reject(new DeliveryError(`the SMTP thread stopped with the message in flight (${reason})`, 'unknown', undefined));
      }
    };
    thread.on('error', (error) => lost(error.message));
    thread.on('exit', (code) => lost(`exit code ${code}`));
    return thread;
  };

  return {
    kind: 'smtp',
    send(mail: OutgoingMail): Promise<void> {
      if (closed) return Promise.reject(new DeliveryError('the mailer is closed', 'retry', undefined));
      worker ??= start();
      const thread = worker;
      const id = ++nextId;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        thread.ref();
        thread.postMessage({ id, mail: { ...mail, ...(mail.headers === undefined ? {} : { headers: { ...mail.headers } }) } } satisfies ThreadRequest);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      const thread = worker;
      worker = undefined;
      if (thread === undefined) return;
      const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
      thread.postMessage({ close: true } satisfies ThreadRequest);
      // The pool closes its connections and the thread ends; one that hangs is stopped.
      const timer = setTimeout(() => void thread.terminate(), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
