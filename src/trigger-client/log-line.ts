import { redactText, redactUrl } from '../logger.js';

/** The fields of the one line `curfew trigger` writes per launch. */
export interface LogFields {
  readonly at: Date;
  readonly job: string;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly runId: number | undefined;
  readonly durationMs: number;
  readonly attempts: number;
  readonly outcome: string;
  readonly exitCode: number;
  readonly message?: string | undefined;
  readonly retryAfter?: string | undefined;
}

function quote(value: string): string {
  return /^[\w./:@+-]+$/.test(value) ? value : JSON.stringify(value);
}

/**
 * One `key=value` line (logfmt), e.g.
 * `2025-01-01T00:00:00.000Z job=flush-expired-tokens method=POST path=/cron/jobs/flush-expired-tokens/run status=200 run_id=12 duration_ms=31 attempts=1 outcome=ok exit=0`.
 * `secret` is scrubbed from every value, and `token=`-style query values and
 * Bearer values are redacted, whatever the server echoed back.
 */
export function formatLogLine(fields: LogFields, secret: string): string {
  const scrub = (text: string) => {
    const redacted = redactText(redactUrl(text));
    return secret === '' ? redacted : redacted.split(secret).join('[REDACTED]');
  };
  const parts: string[] = [
    fields.at.toISOString(),
    `job=${quote(scrub(fields.job))}`,
    `method=${fields.method}`,
    `path=${quote(scrub(fields.path))}`,
    `status=${fields.status ?? '-'}`,
    `run_id=${fields.runId ?? '-'}`,
    `duration_ms=${fields.durationMs}`,
    `attempts=${fields.attempts}`,
    `outcome=${fields.outcome}`,
    `exit=${fields.exitCode}`,
  ];
  if (fields.retryAfter !== undefined) parts.push(`retry_after=${quote(scrub(fields.retryAfter))}`);
  if (fields.message !== undefined && fields.message !== '') parts.push(`message=${quote(scrub(fields.message.replace(/\s+/g, ' ').slice(0, 300)))}`);
  return parts.join(' ');
}
