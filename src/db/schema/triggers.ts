/**
 * Tables owned by src/triggers and src/alerts. Times are epoch milliseconds,
 * flags 0/1 integers (see schema/users.ts).
 */

/** One fixed throttle window per trigger route and caller (IP). */
export interface TriggerThrottleTable {
  /** The request path without query, e.g. `/cron/run`. */
  route: string;
  /** The caller's IP address. */
  caller: string;
  /** Start of the fixed window. */
  window_start: number;
  /** Requests counted in this window (incremented atomically). */
  hits: number;
  /** When the row can be pruned (window end). */
  expires_at: number;
}

/** HMAC signatures already accepted, so a captured request cannot be replayed. */
export interface TriggerSignaturesTable {
  /** `v1=<hex>` as sent; an HMAC of the request, never the secret itself. */
  signature: string;
  /** When the signature's timestamp leaves the acceptance window. */
  expires_at: number;
}

/** Nonces of accepted v2-signed trigger requests (migration 0011), so none is accepted twice. */
export interface TriggerNoncesTable {
  /** The X-Curfew-Nonce value (random, chosen by the signer). */
  nonce: string;
  /** When the signature's timestamp leaves the acceptance window (+ skew margin). */
  expires_at: number;
}

/** Alert episodes per job and kind; the 0 -> 1 flip decides who notifies. */
export interface JobAlertsTable {
  job: string;
  /** `late`, `failing` or `slow`. */
  kind: string;
  /** 1 while the episode is open. */
  active: number;
  changed_at: number;
}

export interface TriggerTables {
  trigger_throttle: TriggerThrottleTable;
  trigger_signatures: TriggerSignaturesTable;
  trigger_nonces: TriggerNoncesTable;
  job_alerts: JobAlertsTable;
}
