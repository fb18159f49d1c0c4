import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { AppError, isAppError } from '../../errors.js';
import type { SendState } from '../../db/schema/sequences.js';
import { withApp } from '../run-app.js';

const time = (ms: number | null | undefined) => (ms === null || ms === undefined ? '-' : new Date(Number(ms)).toISOString().replace('.000Z', 'Z'));

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

/** Runs `fn`; an AppError prints its message and sets exit status 1 (64 for not-found and bad input). */
async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (!isAppError(error)) throw error;
    process.stderr.write(`curfew: ${error.message}\n`);
    process.exitCode = error.status === 400 || error.status === 404 ? 64 : 1;
  }
}

/** The definitions in a `sequences apply` file: one object, a list, or `{sequences: [...]}` (YAML or JSON). */
export function definitionsIn(text: string, file: string): unknown[] {
  const parsed: unknown = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  if (Array.isArray(parsed)) return parsed;
  if (parsed !== null && typeof parsed === 'object' && Array.isArray((parsed as { sequences?: unknown }).sequences)) {
    return (parsed as { sequences: unknown[] }).sequences;
  }
  return [parsed];
}

export function registerSequences(program: Command): void {
  const sequences = program.command('sequences').description('sequence mail: definitions, enrollments, status');

  sequences
    .command('list')
    .description('sequences with their counts')
    .action(async () => {
      await withApp(async (app) => {
        const rows = [['KEY', 'ACTIVE', 'STEPS', 'ENROLLED', 'ACTIVE ENR', 'COMPLETED', 'UNSUBSCRIBED', 'SENT', 'FAILED', 'UNKNOWN', 'DUE NOW']];
        for (const s of await app.services.sequences.list()) {
          const c = s.counts;
          rows.push([s.key, s.active ? 'yes' : 'no', String(s.steps.length), String(c.enrolled), String(c.active), String(c.completed), String(c.unsubscribed), String(c.sent), String(c.failed), String(c.unknown), String(c.due_now)]);
        }
        process.stdout.write(table(rows));
      });
    });

  sequences
    .command('apply <file>')
    .description('create or update sequences from a YAML or JSON file (docs/sequences.md)')
    .action(async (file: string) => {
      const text = await readFile(file, 'utf8');
      const definitions = definitionsIn(text, file);
      await withApp(async (app) =>
        guarded(async () => {
          for (const definition of definitions) {
            const { created, sequence } = await app.services.sequences.apply(definition);
            process.stdout.write(`${sequence.key}: ${created ? 'created' : 'updated'} (${sequence.steps.length} steps, ${sequence.active ? 'active' : 'inactive'})\n`);
          }
        }),
      );
    });

  sequences
    .command('enroll <key>')
    .description('enroll an activated user (idempotent)')
    .requiredOption('--email <email>', 'the account to enroll')
    .action(async (key: string, options: { email: string }) => {
      await withApp(async (app) =>
        guarded(async () => {
          const { enrollment, created } = await app.services.sequences.enroll(key, { email: options.email });
          process.stdout.write(`${created ? 'enrolled' : 'already enrolled'}: enrollment ${enrollment.id}, status ${enrollment.status}, next step ${enrollment.next_step} due ${time(enrollment.due_at)}\n`);
        }),
      );
    });

  sequences
    .command('status [key]')
    .description('counts, backlog and unknown sends (one sequence or all)')
    .action(async (key: string | undefined) => {
      await withApp(async (app) =>
        guarded(async () => {
          const service = app.services.sequences;
          const list = key === undefined ? await service.list() : [await service.get(key)];
          for (const s of list) {
            const c = s.counts;
            process.stdout.write(`${s.key} (${s.active ? 'active' : 'inactive'}, ${s.steps.length} steps): enrolled ${c.enrolled}, active ${c.active}, completed ${c.completed}, stopped ${c.stopped}, unsubscribed ${c.unsubscribed}; sent ${c.sent}, failed ${c.failed}, unknown ${c.unknown}, due now ${c.due_now}\n`);
          }
          const backlog = await service.backlog();
          const unknown = (await service.sendCounts()).unknown;
          process.stdout.write(`backlog: ${backlog.due} due, oldest ${time(backlog.oldestDueAt)}\n`);
          if (unknown > 0) process.stdout.write(`UNKNOWN: ${unknown} sends need a verdict: curfew sends list --state unknown\n`);
        }),
      );
    });

  const sends = program.command('sends').description('the sequence send ledger: list, resolve unknown sends');

  sends
    .command('list')
    .description('sends, newest first')
    .option('--state <state>', 'queued, sending, sent, failed, unknown or skipped')
    .option('--sequence <key>', 'only this sequence')
    .option('--outbox', 'list unknown rows of the transactional outbox instead')
    .option('--limit <n>', 'at most this many rows', '100')
    .action(async (options: { state?: string; sequence?: string; outbox?: boolean; limit: string }) => {
      const states = ['queued', 'sending', 'sent', 'failed', 'unknown', 'skipped'];
      if (options.state !== undefined && !states.includes(options.state)) {
        process.stderr.write(`curfew: --state must be one of ${states.join(', ')}\n`);
        process.exitCode = 64;
        return;
      }
      const limit = Math.max(1, Math.min(10_000, Number.parseInt(options.limit, 10) || 100));
      await withApp(async (app) =>
        guarded(async () => {
          const rows = [['ID', 'SEQUENCE', 'STEP', 'EMAIL', 'STATE', 'ATTEMPTS', 'CODE', 'UPDATED', 'LAST ERROR']];
          if (options.outbox) {
            for (const r of await app.services.mail.unknown.list(limit)) {
              rows.push([`outbox-${r.id}`, '-', '-', r.recipient, r.status, String(r.attempts), '-', time(r.created_at), r.last_error ?? '']);
            }
          } else {
            const list = await app.services.sequences.listSends({
              ...(options.state ? { state: options.state as SendState } : {}),
              ...(options.sequence ? { sequenceKey: options.sequence } : {}),
              limit,
            });
            for (const r of list) {
              rows.push([String(r.id), r.sequence_key, String(r.step), r.email, r.state, String(r.attempts), r.response_code === null ? '-' : String(r.response_code), time(r.updated_at), r.last_error ?? '']);
            }
          }
          process.stdout.write(table(rows));
        }),
      );
    });

  sends
    .command('resolve <id>')
    .description('resolve an unknown send: --sent (it arrived) or --retry (send it again); outbox rows as outbox-<n>')
    .option('--sent', 'the recipient got it; the enrollment moves on')
    .option('--retry', 'it did not arrive; queue it again')
    .action(async (id: string, options: { sent?: boolean; retry?: boolean }) => {
      if (options.sent === options.retry || !/^(outbox-)?[1-9][0-9]*$/.test(id)) {
        process.stderr.write('curfew: give a send id and exactly one of --sent or --retry\n');
        process.exitCode = 64;
        return;
      }
      const outcome = options.sent ? 'sent' : 'retry';
      await withApp(async (app) =>
        guarded(async () => {
          if (id.startsWith('outbox-')) {
            const ok = await app.services.mail.unknown.resolve(Number(id.slice(7)), outcome);
            if (!ok) throw new AppError('SEND_NOT_UNKNOWN', `${id} does not exist or is not unknown.`);
            process.stdout.write(`${id}: ${outcome === 'sent' ? 'sent' : 'pending again'}\n`);
            return;
          }
          const row = await app.services.sequences.resolve(Number(id), outcome);
          process.stdout.write(`send ${row.id}: ${row.state}\n`);
        }),
      );
    });
}
