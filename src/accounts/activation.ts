import { createHash, randomBytes } from 'node:crypto';
import type { MailMessage } from '../mail/mailer.js';

/** A new activation token: 32 random bytes, base64url (43 characters). */
export function newActivationToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What is stored: the hex SHA-256 of the token. */
export function hashActivationToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** True when the text could be a token we issued (cheap check before any query). */
export function looksLikeActivationToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

/** `${publicUrl}/api/v1/activate/<token>/`. */
export function activationUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/api/v1/activate/${token}/`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The activation mail for `to`, linking to `url`, valid for `ttlMs`. */
export function activationMail(to: string, url: string, ttlMs: number): MailMessage {
  const hours = Math.round(ttlMs / 360_000) / 10;
  const validity = `${hours} ${hours === 1 ? 'hour' : 'hours'}`;
  return {
    to,
    subject: 'Activate your account',
    text: [
      'Welcome!',
      '',
      'Open this link to activate your account:',
      '',
      url,
      '',
      `The link works once and expires in ${validity}.`,
      'If you did not register, ignore this message.',
      '',
    ].join('\n'),
    html: [
      '<p>Welcome!</p>',
      `<p><a href="${escapeHtml(url)}">Activate your account</a></p>`,
      `<p>The link works once and expires in ${validity}. If you did not register, ignore this message.</p>`,
    ].join('\n'),
  };
}
