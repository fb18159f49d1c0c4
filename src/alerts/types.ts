/** What can go wrong with a job, each an episode that opens and resolves. */
/** `unknown`: deliveries whose outcome is unknown wait for an operator (raised on `sequence-tick`). */
export type AlertKind = 'late' | 'failing' | 'slow' | 'unknown';

/** The JSON body POSTed to ALERT_WEBHOOK_URL (and the content of alert mail). */
export interface AlertEvent {
  /** e.g. `job.late`. */
  readonly type: `job.${AlertKind}`;
  /** `firing` once when the episode opens, `resolved` once when it ends. */
  readonly state: 'firing' | 'resolved';
  readonly job: string;
  /** ISO 8601 time of the transition. */
  readonly at: string;
  readonly summary: string;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
  /** The instance that noticed. */
  readonly instance: string;
}

/** A way out for alerts (webhook, mail). Failures reject; the monitor logs them. */
export interface AlertSink {
  readonly name: string;
  send(event: AlertEvent): Promise<void>;
}

/** Episode bookkeeping shared by every instance (the database). */
export interface AlertStateStore {
  /** True only for the one caller that opened the episode. */
  open(job: string, kind: AlertKind, now: number): Promise<boolean>;
  /** True only for the one caller that closed it. */
  close(job: string, kind: AlertKind, now: number): Promise<boolean>;
}
