import { appendFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { EXIT, EXIT_CODE_HELP } from '../../trigger-client/exit-codes.js';
import { parseTriggerArgs, type RawTriggerArgs } from '../../trigger-client/options.js';
import { runTrigger } from '../../trigger-client/trigger.js';

/** `curfew trigger [<job>|--due] --url ...`: fire jobs on a curfew (or a seed-shaped server) from outside. */
export function registerTrigger(program: Command): void {
  program
    .command('trigger')
    .description('call a curfew trigger route: /cron/run (--due, the default) or /cron/jobs/<job>/run')
    .argument('[job]', 'job to run now; omit (or --due) to run every due job')
    .option('--due', 'run every due job through /cron/run (the default without <job>)')
    .option('--url <url>', 'base URL of the curfew server, e.g. https://auth.example.com')
    .option('--secret-env <name>', 'environment variable holding the secret (default CRON_SECRET, falling back to CRON_SECRETS\' first entry)')
    .option('--mode <mode>', 'credential: signed (HMAC, default), bearer, header (X-Cron-Secret) or query (?token=)')
    .option('--method <method>', 'HTTP method (default POST)')
    .option('--path <path>', 'route below --url, for seed-shaped servers, e.g. /api/v1/auth/cron/flush-tokens/')
    .option('--csrf', 'GET /api/cronjob/csrf-token first and send its csrftoken cookie + X-CSRFToken')
    .option('--timeout <duration>', 'per-attempt timeout (default 10s)')
    .option('--retries <n>', 'extra attempts on network errors and 5xx, with exponential back-off and jitter (default 3)')
    .option('--retry-delay <duration>', 'first back-off delay, doubled per retry (default 1s)')
    .option('--min-interval <duration>', 'skip (exit 0) when the last launch for this URL and job is younger, e.g. 59s')
    .option('--lock-file <path>', 'lock file for --min-interval (default: one in the OS temp folder per URL and job)')
    .option('--log-file <path>', 'append the log line here instead of printing it on stdout')
    .addHelpText('after', `\n${EXIT_CODE_HELP}\n\nThe secret is never printed; URLs with token= are logged redacted.`)
    .action(async (job: string | undefined, flags: Omit<RawTriggerArgs, 'job'>) => {
      const parsed = parseTriggerArgs({ ...flags, job }, process.env);
      if (!parsed.ok) {
        process.stderr.write(`curfew trigger: ${parsed.message}\n`);
        process.exitCode = EXIT.USAGE;
        return;
      }
      const result = await runTrigger(parsed.options, { now: Date.now, sleep: (ms) => sleep(ms), random: Math.random });
      if (parsed.logFile === undefined) process.stdout.write(`${result.line}\n`);
      else await appendFile(parsed.logFile, `${result.line}\n`, { mode: 0o600 });
      process.exitCode = result.exitCode;
    });
}
