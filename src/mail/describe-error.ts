import { redactText } from '../logger.js';

const MAX_ERROR_LENGTH = 500;

/**
 * A short, secret-free description of a send failure for `last_error` and the
 * log: the transport's error code, the SMTP reply code and the message. A
 * DeliveryError is described by its cause (the transport's own error).
 * `secrets` (e.g. the SMTP password) are replaced by [REDACTED].
 */
export function describeMailError(error: unknown, secrets: readonly string[] = []): string {
  const inner = error instanceof Error && error.name === 'DeliveryError' && error.cause instanceof Error ? error.cause : error;
  const parts: string[] = [];
  if (inner instanceof Error) {
    const { code, responseCode } = inner as Error & { code?: unknown; responseCode?: unknown };
    if (typeof code === 'string') parts.push(code);
    if (typeof responseCode === 'number') parts.push(String(responseCode));
    parts.push(inner.message);
  } else {
    parts.push(String(inner));
  }
  let text = redactText(parts.join(': '));
  for (const secret of secrets) {
    if (secret !== '') text = text.split(secret).join('[REDACTED]');
  }
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
