import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { isAppError } from '../../errors.js';
import type { JobStatus, Progress, RunSummary } from '../../jobs/types.js';
import { withApp } from '../run-app.js';

const time = (ms: number | null | undefined) => (ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z'));

/** Left-aligned columns, for terminals and logs alike. */
function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

function catchUpText(status: JobStatus): string {
  return status.catchUp.kind === 'all' ? `all:${Math.round(status.catchUp.windowMs / 60_000)}m` : status.catchUp.kind;
}

/** `LATE by 12m` or `no`, from the one lateness rule (src/jobs/lateness.ts). */
function lateText(status: JobStatus): string {
  if (!status.late) return 'no';
  const seconds = status.lateBySeconds;
  const by = seconds >= 86_400 ? `${Math.floor(seconds / 86_400)}d` : seconds >= 3600 ? `${Math.floor(seconds / 3600)}h` : seconds >= 60 ? `${Math.floor(seconds / 60)}m` : `${seconds}s`;
  return `LATE by ${by}`;
}

function pausedNote(status: JobStatus): string {
  return `paused ${time(status.pausedAt)}${status.pausedBy ? ` by ${status.pausedBy}` : ''}${status.pauseReason ? `: ${status.pauseReason}` : ''}`;
}

/** Who pauses from the CLI, for the pause record: `cli:<OS user>`. */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** Exit status for a run: 0 ok, 1 failed or timed out, 75 (EX_TEMPFAIL) skipped because it runs elsewhere. */
export function exitCodeFor(summary: RunSummary): number {
  if (summary.status === 'ok') return 0;
  return summary.status === 'skipped' ? 75 : 1;
}

function progressLine(name: string): { update(progress: Progress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  return {
    update(progress) {
      if (!tty) return;
      const total = progress.total === undefined ? '' : `/${progress.total}`;
      const percent = progress.total ? ` ${Math.floor((progress.done / progress.total) * 100)}%` : '';
      process.stderr.write(`\r\x1b[2K${name}: ${progress.done}${total}${percent}${progress.message ? ` ${progress.message}` : ''}`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[2K');
    },
  };
}

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('list, inspect and run scheduled jobs');

  jobs
    .command('list')
    .description('registered jobs with schedule, zone, enabled and paused flags, lateness and next slot')
    .action(async () => {
      await withApp(async (app) => {
        const statuses = await app.services.jobs.status();
        const rows = [['JOB', 'SCHEDULE', 'ZONE', 'ENABLED', 'PAUSED', 'LATE', 'NEXT SLOT', 'NOTE']];
        for (const s of statuses) {
          const note = [s.placeholder ? `placeholder: ${s.placeholder}` : '', s.paused ? pausedNote(s) : ''].filter(Boolean).join('; ');
          rows.push([s.job, s.schedule, s.timezone, s.enabled ? 'yes' : 'no', s.paused ? 'PAUSED' : 'no', lateText(s), time(s.nextSlot), note]);
        }
        process.stdout.write(table(rows));
      });
    });

  jobs
    .command('status')
    .description('per job: last run, last success, late, failure streak, lease holder')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withApp(async (app) => {
        const statuses = await app.services.jobs.status();
        if (options.json) {
          process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
          return;
        }
        const rows = [['JOB', 'ENABLED', 'POLICY', 'NEXT SLOT', 'LAST RUN', 'LAST SUCCESS', 'LATE', 'FAILS', 'LEASE']];
        for (const s of statuses) {
          const last = s.lastRun === null ? '-' : `${s.lastRun.status} ${time(s.lastRun.scheduledFor)}`;
          rows.push([s.job, s.enabled ? (s.paused ? 'paused' : 'yes') : 'no', `${s.overlap}/${catchUpText(s)}`, time(s.nextSlot), last, time(s.lastSuccessAt), lateText(s), String(s.consecutiveFailures), s.leaseHolder ?? '-']);
        }
        process.stdout.write(table(rows));
        // Seed 002's "queue backlog" and the deliveries an operator must resolve.
        const backlog = await app.services.sequences.backlog();
        const unknown = (await app.services.sequences.sendCounts()).unknown + (await app.services.mail.unknown.count());
        process.stdout.write(`\nsequence backlog: ${backlog.due} due, oldest ${time(backlog.oldestDueAt)}; unknown sends: ${unknown}${unknown > 0 ? ' (curfew sends list --state unknown)' : ''}\n`);
      });
    });

  jobs
    .command('pause <name>')
    .description('pause a job on every instance (persisted): the scheduler and /cron/run skip it until resumed')
    .option('--reason <text>', 'why, shown in /cron/status, the console and jobs list')
    .action(async (name: string, options: { reason?: string }) => {
      process.exitCode = await withApp(async (app) => controlJob(() => app.services.jobs.pause(name, cliActor(), options.reason)));
    });

  jobs
    .command('resume <name>')
    .description('resume a paused job; its catch-up and lateness count from now')
    .action(async (name: string) => {
      process.exitCode = await withApp(async (app) => controlJob(() => app.services.jobs.resume(name, cliActor())));
    });

  jobs
    .command('run <name>')
    .description('run one job now through the same runner, lease and ledger (trigger cli)')
    .option('--dry-run', 'count what would be done; change nothing')
    .action(async (name: string, options: { dryRun?: boolean }) => {
      const code = await withApp(async (app) => {
        const progress = progressLine(name);
        let summary: RunSummary;
        try {
          summary = await app.services.jobs.runJob(name, {
            dryRun: options.dryRun === true,
            trigger: 'cli',
            caller: { userAgent: 'curfew-cli' },
            onProgress: (update) => progress.update(update),
          });
        } catch (error) {
          if (isAppError(error)) {
            process.stderr.write(`curfew: ${error.message}\n`);
            return error.code === 'JOB_NOT_FOUND' ? 64 : 1;
          }
          throw error;
        } finally {
          progress.done();
        }
        if (name === 'sequence-tick' && summary.dryRun) {
          // What would be sent to whom (nothing was).
          for (const due of await app.services.sequences.preview(100)) {
            process.stdout.write(`would send ${due.sequence_key} step ${due.step} "${due.subject}" to ${due.email}\n`);
          }
        }
        const counts = Object.entries(summary.counts).map(([key, value]) => `${key}=${value}`).join(' ');
        const detail = summary.error ?? summary.reason ?? counts;
        process.stdout.write(`${name}: ${summary.status}${summary.dryRun ? ' (dry run)' : ''} in ${summary.durationMs} ms${detail ? ` — ${detail}` : ''} [run ${summary.id ?? '-'}]\n`);
        return exitCodeFor(summary);
      });
      process.exitCode = code;
    });
}

/** Runs a pause or resume and prints the job's state; 64 for an unknown job. */
async function controlJob(action: () => Promise<JobStatus>): Promise<number> {
  try {
    const status = await action();
    process.stdout.write(`${status.job}: ${status.paused ? pausedNote(status) : 'not paused'}\n`);
    return 0;
  } catch (error) {
    if (isAppError(error)) {
      process.stderr.write(`curfew: ${error.message}\n`);
      return error.code === 'JOB_NOT_FOUND' ? 64 : 1;
    }
    throw error;
  }
}
