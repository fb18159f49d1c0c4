import type { Liquid } from 'liquidjs';
import type { MailMessage } from '../../mail/mailer.js';

interface Engines {
  /** Plain text is not HTML: nothing escaped. */
  readonly text: Liquid;
  /** HTML output is escaped by default, so an address or URL can never inject markup. */
  readonly html: Liquid;
}

let engines: Promise<Engines> | undefined;

/** liquidjs loads on the first mail (~0.3 s), not at every process start. */
function liquid(): Promise<Engines> {
  engines ??= import('liquidjs').then(({ Liquid: Engine }) => ({
    text: new Engine({ strictVariables: true }),
    html: new Engine({ outputEscape: 'escape', strictVariables: true }),
  }));
  return engines;
}

interface MailTemplate {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

function template(subject: string, text: string, html: string): MailTemplate {
  return { subject, text, html };
}

async function render(to: string, mail: MailTemplate, vars: Record<string, string>): Promise<MailMessage> {
  const { text, html } = await liquid();
  return { to, subject: mail.subject, text: await text.parseAndRender(mail.text, vars), html: await html.parseAndRender(mail.html, vars) };
}

/** 3 600 000 ms -> `1 hour`, 86 400 000 -> `24 hours`, 1 800 000 -> `30 minutes`. */
export function validityText(ttlMs: number): string {
  if (ttlMs < 3_600_000) {
    const minutes = Math.max(1, Math.round(ttlMs / 60_000));
    return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  }
  const hours = Math.round(ttlMs / 360_000) / 10;
  return `${hours} ${hours === 1 ? 'hour' : 'hours'}`;
}

const RESET = template(
  'Reset your password',
  [
    'Someone (hopefully you) asked to reset the password of this account.',
    '',
    'Open this link to choose a new password:',
    '',
    '{{ url }}',
    '',
    'Or send this token with your new password to POST /api/v1/password/reset/confirm/:',
    '',
    '{{ token }}',
    '',
    'The link works once and expires in {{ validity }}. Setting a new password signs you out everywhere.',
    'If you did not ask for this, ignore this message: your password stays as it is.',
    '',
  ].join('\n'),
  [
    '<p>Someone (hopefully you) asked to reset the password of this account.</p>',
    '<p><a href="{{ url }}">Choose a new password</a></p>',
    '<p>The link works once and expires in {{ validity }}. Setting a new password signs you out everywhere.',
    'If you did not ask for this, ignore this message: your password stays as it is.</p>',
  ].join('\n'),
);

/** The password-reset mail: a link to the reset page (token in the fragment) and the bare token. */
export function passwordResetMail(to: string, url: string, token: string, ttlMs: number): Promise<MailMessage> {
  return render(to, RESET, { url, token, validity: validityText(ttlMs) });
}

const EMAIL_CHANGE = template(
  'Confirm your new e-mail address',
  [
    'Someone (hopefully you) asked to use this address for the account {{ old_email }}.',
    '',
    'Open this link to confirm the change:',
    '',
    '{{ url }}',
    '',
    'The link works once and expires in {{ validity }}. Until then the account keeps its old address.',
    'If you did not ask for this, ignore this message.',
    '',
  ].join('\n'),
  [
    '<p>Someone (hopefully you) asked to use this address for the account {{ old_email }}.</p>',
    '<p><a href="{{ url }}">Confirm the new address</a></p>',
    '<p>The link works once and expires in {{ validity }}. Until then the account keeps its old address.',
    'If you did not ask for this, ignore this message.</p>',
  ].join('\n'),
);

/** The confirmation mail to the new address. */
export function emailChangeMail(to: string, oldEmail: string, url: string, ttlMs: number): Promise<MailMessage> {
  return render(to, EMAIL_CHANGE, { url, old_email: oldEmail, validity: validityText(ttlMs) });
}

const EMAIL_CHANGED = template(
  'Your e-mail address was changed',
  [
    'The e-mail address of your account was changed from {{ old_email }} to {{ new_email }}.',
    '',
    'From now on, sign in with {{ new_email }}. Mail for the account goes there.',
    'If you did not do this, reset your password and contact the administrator.',
    '',
  ].join('\n'),
  [
    '<p>The e-mail address of your account was changed from {{ old_email }} to {{ new_email }}.</p>',
    '<p>From now on, sign in with {{ new_email }}. Mail for the account goes there.',
    'If you did not do this, reset your password and contact the administrator.</p>',
  ].join('\n'),
);

/** The notice to the old address once the switch happened. */
export function emailChangedNotice(oldEmail: string, newEmail: string): Promise<MailMessage> {
  return render(oldEmail, EMAIL_CHANGED, { old_email: oldEmail, new_email: newEmail });
}

const PASSWORD_CHANGED = template(
  'Your password was changed',
  [
    'The password of your account {{ email }} was just changed ({{ how }}).',
    '',
    'If you did not do this, reset your password now and contact the administrator.',
    '',
  ].join('\n'),
  [
    '<p>The password of your account {{ email }} was just changed ({{ how }}).</p>',
    '<p>If you did not do this, reset your password now and contact the administrator.</p>',
  ].join('\n'),
);

/** The notice after a password change or reset. */
export function passwordChangedNotice(email: string, how: 'reset link' | 'signed in'): Promise<MailMessage> {
  return render(email, PASSWORD_CHANGED, { email, how: how === 'reset link' ? 'with a reset link; every session was signed out' : 'while signed in; other sessions were signed out' });
}

/** The reset page URL with the token in the fragment, which browsers never send to a server or a log. */
export function passwordResetUrl(base: string, token: string): string {
  return `${base}#token=${token}`;
}

/** `${publicUrl}/api/v1/email/confirm/<token>/`. */
export function emailConfirmUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/api/v1/email/confirm/${token}/`;
}
