/**
 * The scheduler's lease timing defaults, in one place: `SCHEDULER_LEASE_TTL` and
 * `SCHEDULER_LEASE_HEARTBEAT` (src/config) and the runner's fallback when no
 * timing is passed (`DEFAULT_LEASE_TIMING`, src/jobs/lease.ts) both read them.
 */

/** A crashed holder's lease is free this long after its last heartbeat. */
export const DEFAULT_LEASE_TTL_MS = 20_000;

/** How often a running holder renews its lease; at most a third of the TTL. */
export const DEFAULT_LEASE_HEARTBEAT_MS = 5_000;
