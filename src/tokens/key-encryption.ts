import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey } from './secrets.js';

const VERSION = 'v1';

/**
 * A signing key that this SECRET_KEY cannot decrypt: SECRET_KEY changed since
 * the key was made (or the row was tampered with). Start-up turns it into a
 * ConfigError that says how to re-encrypt (src/config/secret-key-hint.ts).
 */
export class SigningKeyDecryptError extends Error {
  override readonly name = 'SigningKeyDecryptError';
  constructor(
    readonly kid: string,
    options: { cause?: unknown } = {},
  ) {
    super(`signing key ${kid} cannot be decrypted: was SECRET_KEY changed?`, options);
  }
}

/**
 * Encrypts signing keys at rest with AES-256-GCM under a key derived from
 * SECRET_KEY; the key id is bound as associated data so a ciphertext cannot be
 * moved to another row.
 */
export class KeyEncryption {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    this.key = deriveKey(secretKey, 'signing-key-encryption');
  }

  encrypt(plaintext: string, kid: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(kid));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  /** Throws when the value was not made with this SECRET_KEY for this kid. */
  decrypt(value: string, kid: string): string {
    const [version, iv, tag, ciphertext] = value.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error(`signing key ${kid}: unknown encryption format`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(kid));
    try {
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new SigningKeyDecryptError(kid, { cause: error });
    }
  }
}
