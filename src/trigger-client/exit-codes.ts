/**
 * Exit codes of `curfew trigger`, a public contract: schedulers (cron mail,
 * GitHub Actions, Kubernetes Job status, systemd OnFailure=) alert on them.
 */
export const EXIT = {
  /** The call succeeded (or the min-interval guard skipped a launch). */
  OK: 0,
  /** The server answered but the work failed: 2xx with `ok:false` or a failed run, a 500, or the CSRF step gave no token. */
  JOB_FAILED: 1,
  /** 409: another `/cron/run` (or the job) is already running. */
  BUSY: 2,
  /** 429: the trigger throttle refused the call (see Retry-After). */
  THROTTLED: 3,
  /** 401/403, or 503 CRON_NOT_CONFIGURED: the secret, the IP allow-list or the server's trigger config is wrong. */
  AUTH_REFUSED: 4,
  /** No answer: connection refused, DNS, TLS, timeout, or 502/503/504 after every retry. */
  UNREACHABLE: 5,
  /** 409 JOB_DISABLED or JOB_PAUSED: the job is switched off on the server (JOB_<NAME>_ENABLED=false, or paused by an operator); not "busy". */
  DISABLED: 6,
  /** Bad command line, no secret in the environment, or a 400/404/405 answer (unknown job, wrong path or method). */
  USAGE: 64,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The table printed by `curfew trigger --help` and mirrored in docs/deploy/README.md. */
export const EXIT_CODE_HELP = `Exit codes:
  0   ok (also: skipped by --min-interval, or another launch holds the lock)
  1   job failed (ok:false or a failed run status, 500, no CSRF cookie)
  2   busy (409: a schedule run is already in progress)
  3   throttled (429; the log line carries Retry-After)
  4   auth refused (401, 403, or 503 CRON_NOT_CONFIGURED)
  5   unreachable or timed out (network error, timeout, 502/503/504 after retries)
  6   job disabled or paused (409 JOB_DISABLED: enable it with JOB_<NAME>_ENABLED=true;
      409 JOB_PAUSED: resume it with curfew jobs resume <name>)
  64  usage (bad options, secret variable unset, 400/404/405 answers)`;
