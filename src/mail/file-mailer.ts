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

/**
 * The development transport: each message is composed by nodemailer and
 * written as one `.eml` file (open it with any mail client). The file appears
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
        text: mail.text,
        ...(mail.html === undefined ? {} : { html: mail.html }),
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
