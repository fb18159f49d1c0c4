import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { DeliveryError, type OutgoingMail } from './mailer.js';
import { createSmtpMailer, type SmtpMailerOptions } from './smtp-mailer.js';
import type { ThreadReply, ThreadRequest } from './thread-mailer.js';

/**
 * The SMTP worker thread behind createThreadMailer: nodemailer's pooled
 * transport (createSmtpMailer, the same classification of failures) runs
 * here, so composing MIME and talking SMTP never hold the main thread's
 * event loop. Requests are `{id, mail}`; each is answered once with the
 * outcome. `{close: true}` closes the pool and ends the thread.
 */
const port = parentPort;
if (port === null) throw new Error('src/mail/smtp-thread.ts runs only as a worker thread');
const { niceness, ...smtpOptions } = workerData as SmtpMailerOptions & { niceness?: number };
if (niceness !== undefined && niceness > 0) lowerThreadPriority(niceness);
const mailer = createSmtpMailer(smtpOptions);

port.on('message', (request: ThreadRequest) => {
  if ('close' in request) {
    void mailer.close().then(() => port.close());
    return;
  }
  mailer.send(request.mail as OutgoingMail).then(
    () => port.postMessage({ id: request.id, ok: true } satisfies ThreadReply),
    (error: unknown) => port.postMessage(replyFor(request.id, error)),
  );
});

/**
 * Linux schedules threads one by one: `setpriority` on this thread's own id
 * (from /proc/thread-self) lowers the priority of this thread only, so a
 * drain's MIME and SMTP work gives way to the main thread's requests when the
 * CPUs are busy. Elsewhere (no /proc) it stays as it is.
 */
function lowerThreadPriority(niceness: number): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, niceness);
  } catch {
    // Not Linux, or not allowed: the thread keeps the process's priority.
  }
}

function replyFor(id: number, error: unknown): ThreadReply {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const { code, responseCode } = (cause ?? {}) as { code?: unknown; responseCode?: unknown };
  return {
    id,
    ok: false,
    outcome: error instanceof DeliveryError ? error.outcome : 'retry',
    message: error instanceof Error ? error.message : String(error),
    cause: {
      message: cause instanceof Error ? cause.message : String(cause),
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof responseCode === 'number' ? { responseCode } : {}),
    },
  };
}
