import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { SigningKeyRow, SigningKeysRepository } from '../db/repositories/signing-keys.js';
import type { KeyEncryption } from './key-encryption.js';

export const SIGNING_ALG = 'EdDSA';

/** The key new access tokens are signed with. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
}

export interface PublicJwk extends JWK {
  readonly kid: string;
}

export interface KeyRingOptions {
  /**
   * How long a retired key stays published and accepted, in ms: the access
   * token lifetime plus a margin for instances that have not yet reloaded.
   */
  readonly publishRetiredForMs: number;
  /** Least time between two reloads caused by an unknown kid (default 1000 ms, wall time). */
  readonly unknownKidReloadMs?: number;
}

/**
 * The EdDSA signing keys: kept in the database (private part encrypted),
 * cached in memory. `init()` creates the first key when there is none.
 * Several instances starting at once may each create one; both are published
 * and the newest becomes current everywhere at the next reload.
 */
export class KeyRing {
  private current: SigningKey | undefined;
  private publicKeys = new Map<string, CryptoKey>();
  /** kid -> retired_at (null while current), for the keys in `publicKeys`. */
  private retiredAt = new Map<string, number | null>();
  private lastUnknownKidReload = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly repository: SigningKeysRepository,
    private readonly encryption: KeyEncryption,
    private readonly clock: Clock,
    private readonly options: KeyRingOptions,
  ) {}

  /** Loads the keys, creating the first one if the database has none. */
  async init(): Promise<void> {
    if (!(await this.repository.current())) await this.repository.insert(await this.newKeyRow());
    await this.reload();
  }

  /** Re-reads the current and published keys from the database. */
  async reload(): Promise<void> {
    const rows = await this.repository.listPublishable(this.clock.now() - this.options.publishRetiredForMs);
    const publicKeys = new Map<string, CryptoKey>();
    const retiredAt = new Map<string, number | null>();
    for (const row of rows) {
      publicKeys.set(row.kid, (await importJWK(JSON.parse(row.public_jwk) as JWK, SIGNING_ALG)) as CryptoKey);
      retiredAt.set(row.kid, row.retired_at === null ? null : Number(row.retired_at));
    }
    const currentRow = rows.find((row) => row.retired_at === null);
    if (currentRow && currentRow.kid !== this.current?.kid) {
      const pem = this.encryption.decrypt(currentRow.private_key_enc, currentRow.kid);
      this.current = { kid: currentRow.kid, privateKey: await importPKCS8(pem, SIGNING_ALG) };
    }
    this.publicKeys = publicKeys;
    this.retiredAt = retiredAt;
  }

  /**
   * True while tokens signed with `kid` may be accepted: the key is current,
   * or was retired less than `publishRetiredForMs` ago, by the injected clock
   * at the moment of asking (not at the last reload). Cached verifications
   * consult this on every hit, so a token outlives neither its key's
   * retirement window nor the key's removal at a reload (issue 16 #12).
   */
  accepts(kid: string): boolean {
    const retired = this.retiredAt.get(kid);
    if (retired === undefined) return false;
    return retired === null || retired > this.clock.now() - this.options.publishRetiredForMs;
  }

  /** The current signing key; throws before init(). */
  signingKey(): SigningKey {
    if (!this.current) throw new Error('KeyRing.init() has not run');
    return this.current;
  }

  /**
   * The public key for a kid, or undefined. An unknown kid (another instance
   * rotated) triggers a reload, at most once per `unknownKidReloadMs`.
   */
  async publicKey(kid: string): Promise<CryptoKey | undefined> {
    const known = this.publicKeys.get(kid);
    if (known) return this.accepts(kid) ? known : undefined;
    const wall = performance.now();
    if (wall - this.lastUnknownKidReload < (this.options.unknownKidReloadMs ?? 1000)) return undefined;
    this.lastUnknownKidReload = wall;
    await this.reload();
    return this.publicKeys.get(kid);
  }

  /** Makes a new current key; the previous one stays published until its tokens expire. Returns the new kid. */
  async rotate(): Promise<string> {
    const row = await this.newKeyRow();
    await this.repository.rotate(row, this.clock.now());
    await this.reload();
    return row.kid;
  }

  /** The JSON Web Key Set of every published public key. */
  async jwks(): Promise<{ keys: PublicJwk[] }> {
    const rows = await this.repository.listPublishable(this.clock.now() - this.options.publishRetiredForMs);
    return { keys: rows.map((row) => publicJwk(row)) };
  }

  private async newKeyRow(): Promise<SigningKeyRow> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    const kid = await calculateJwkThumbprint(jwk);
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    return {
      kid,
      alg: SIGNING_ALG,
      public_jwk: JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }),
      private_key_enc: this.encryption.encrypt(pem, kid),
      created_at: this.clock.now(),
      retired_at: null,
    };
  }
}

function publicJwk(row: SigningKeyRow): PublicJwk {
  return { ...(JSON.parse(row.public_jwk) as JWK), kid: row.kid, alg: row.alg, use: 'sig' };
}
