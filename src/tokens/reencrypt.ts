import { SigningKeyDecryptError, type KeyEncryption } from './key-encryption.js';

/** The signing-key rows re-encryption reads and writes (SigningKeysRepository fits). */
export interface SigningKeyStore {
  listAll(): Promise<readonly { kid: string; private_key_enc: string }[]>;
  replaceEncrypted(updates: readonly { kid: string; privateKeyEnc: string }[]): Promise<void>;
}

export interface ReencryptReport {
  /** Keys moved from the old SECRET_KEY to the new one. */
  readonly reencrypted: readonly string[];
  /** Keys the new SECRET_KEY already decrypts (left as they are). */
  readonly alreadyCurrent: readonly string[];
}

/**
 * Re-encrypts every signing key (retired ones too) from the old SECRET_KEY to
 * the new one, all or nothing. Keys the new key already opens are left alone,
 * so running it twice is harmless. Throws SigningKeyDecryptError, writing
 * nothing, when a key opens under neither.
 */
export async function reencryptSigningKeys(store: SigningKeyStore, from: KeyEncryption, to: KeyEncryption): Promise<ReencryptReport> {
  const updates: { kid: string; privateKeyEnc: string }[] = [];
  const alreadyCurrent: string[] = [];
  for (const row of await store.listAll()) {
    if (opens(to, row.private_key_enc, row.kid)) {
      alreadyCurrent.push(row.kid);
      continue;
    }
    const pem = from.decrypt(row.private_key_enc, row.kid);
    updates.push({ kid: row.kid, privateKeyEnc: to.encrypt(pem, row.kid) });
  }
  if (updates.length > 0) await store.replaceEncrypted(updates);
  return { reencrypted: updates.map((update) => update.kid), alreadyCurrent };
}

function opens(encryption: KeyEncryption, value: string, kid: string): boolean {
  try {
    encryption.decrypt(value, kid);
    return true;
  } catch (error) {
    if (error instanceof SigningKeyDecryptError) return false;
    throw error;
  }
}
