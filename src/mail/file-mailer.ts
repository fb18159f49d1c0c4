import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Clock } from '../clock.js';
import type { Mailer, OutgoingMail } from './mailer.js';

export interface FileMailerOptions {
  /** Folder the `.eml` files go to (created on first use), e.g. DATA_DIR/mail. */
  readonly directory: string;
  readonly clock: Clock;
}

/** Longest line 8bit MIME allows (RFC 5322: 998 octets plus CRLF). */
const MAX_8BIT_LINE = 998;

/**
 * A body part written as 8-bit UTF-8, so `cat` shows links whole: nodemailer's
 * default quoted-printable breaks lines over 76 characters with `=`, which cut
 * activation links in half. A part with a line too long for 8bit keeps the default.
 */
function readablePart(type: string, body: string): string | { raw: string } {
  const crlf = body.replace(/\r?\n/g, '\r\n');
  if (crlf.split('\r\n').some((line) => Buffer.byteLength(line) > MAX_8BIT_LINE)) return body;
  return { raw: `Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${crlf}` };
}

/**
 * The development transport: each message is composed by nodemailer and
 * written as one `.eml` file (open it with any mail client, or read it with
 * `cat`: bodies are 8-bit UTF-8, never quoted-printable). The file appears
 * complete or not at all (written under a temporary name, then renamed).
 */
export function createFileMailer(options: FileMailerOptions): Mailer {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'file',
    async send(mail: OutgoingMail) {
      const info = await composer.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: readablePart('text/plain', mail.text),
        ...(mail.html === undefined ? {} : { html: readablePart('text/html', mail.html) }),
        messageId: mail.messageId,
        date: new Date(options.clock.now()),
      });
      const raw = info.message;
      if (!Buffer.isBuffer(raw)) throw new Error('nodemailer did not return the composed message');
      await mkdir(options.directory, { recursive: true });
      const stamp = new Date(options.clock.now()).toISOString().replace(/[:.]/g, '-');
      const name = `${stamp}-${randomBytes(4).toString('hex')}.eml`;
      const temporary = join(options.directory, `.${name}.tmp`);
      await writeFile(temporary, raw, { mode: 0o600 });
      await rename(temporary, join(options.directory, name));
    },
    async close() {},
  };
}
