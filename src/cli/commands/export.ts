import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EXPORT_FORMATS, UnknownJobError, checkDrift, renderExport, type ExportFormat, type ExportJob } from '../../deploy-files/index.js';
import { loadConfig } from '../../config/index.js';
import { withApp } from '../run-app.js';

/** Where this installation lives, so crontab/systemd lines call this very CLI. */
const INSTALL_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface ExportFlags {
  url?: string;
  job?: string[];
  secretEnv?: string;
  image?: string;
  workdir?: string;
  check?: string;
}

const IN_CLUSTER_URL = 'http://curfew:8000';

/** The app for reading the registry; silent, so log lines never mix into the printed file. */
function quietConfig() {
  return loadConfig({ env: { ...process.env, LOG_LEVEL: 'silent' } });
}

/** Registry jobs as the exports need them (registry + JOB_* overrides applied by the scheduler). */
async function registryJobs(): Promise<ExportJob[]> {
  return withApp(
    async (app) => app.services.jobs.definitions().map(({ name, schedule, timezone, enabled }) => ({ name, schedule, timezone, enabled })),
    quietConfig(),
  );
}

/** `curfew export <format>` and `curfew export --check <file>`. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description(`print deployment files derived from the job registry (${EXPORT_FORMATS.join(', ')}), or check one for drift`)
    .argument('[format]', EXPORT_FORMATS.join(' | '))
    .option('--url <url>', 'base URL the trigger calls (required for github-actions; default: PUBLIC_URL, http://curfew:8000 for kubernetes and compose)')
    .option('--job <name...>', 'only these jobs (default: every enabled job)')
    .option('--secret-env <name>', 'variable that holds the trigger secret (default CRON_SECRET); only referenced, never written')
    .option('--image <image>', 'container image for kubernetes and compose (default curfew:latest)')
    .option('--workdir <dir>', 'working directory with the .env for crontab and systemd (default: the current directory)')
    .option('--check <file>', 'compare an exported file with the registry; exit 1 on drift')
    .addHelpText('after', '\nExit codes: 0 printed / in sync, 1 drift, 64 usage (unknown format or job, unreadable file).')
    .action(async (format: string | undefined, flags: ExportFlags) => {
      if (flags.check !== undefined) {
        let text: string;
        try {
          text = await readFile(flags.check, 'utf8');
        } catch (error) {
          process.stderr.write(`curfew export: cannot read ${flags.check}: ${(error as Error).message}\n`);
          process.exitCode = 64;
          return;
        }
        const report = checkDrift(text, await registryJobs(), new Date());
        if (!report) {
          process.stderr.write(`curfew export: ${flags.check} is not a curfew export (no "# curfew-export:" line, no trigger commands)\n`);
          process.exitCode = 64;
          return;
        }
        if (report.problems.length === 0) {
          process.stdout.write(`${flags.check}: in sync with the job registry (${report.format})\n`);
          return;
        }
        process.stdout.write(`${flags.check}: drift from the job registry (${report.format}); re-export with curfew export ${report.format}\n`);
        for (const problem of report.problems) process.stdout.write(`  ${problem}\n`);
        process.exitCode = 1;
        return;
      }
      const chosen = EXPORT_FORMATS.find((candidate) => candidate === format);
      if (chosen === undefined) {
        process.stderr.write(`curfew export: give a format (${EXPORT_FORMATS.join(', ')}) or --check <file>\n`);
        process.exitCode = 64;
        return;
      }
      if (chosen === 'github-actions' && flags.url === undefined) {
        // The default (PUBLIC_URL, else http://127.0.0.1:8000) is this machine; a GitHub runner is not.
        process.stderr.write('curfew export github-actions: give --url with the server\'s public address (e.g. --url https://auth.example.com); GitHub\'s runners cannot reach this machine\'s 127.0.0.1\n');
        process.exitCode = 64;
        return;
      }
      try {
        process.stdout.write(await exportText(chosen, flags));
      } catch (error) {
        if (!(error instanceof UnknownJobError)) throw error;
        process.stderr.write(`curfew export: ${error.message}\n`);
        process.exitCode = 64;
      }
    });
}

async function exportText(format: ExportFormat, flags: ExportFlags): Promise<string> {
  const inCluster = format === 'kubernetes' || format === 'compose';
  const config = quietConfig();
  const jobs = await registryJobs();
  return renderExport(format, jobs, {
      url: flags.url ?? (inCluster ? IN_CLUSTER_URL : config.publicUrl),
      secretEnv: flags.secretEnv ?? 'CRON_SECRET',
      // Absolute node path: cron and systemd run with a minimal PATH (nvm installs are not on it).
      cli: `${process.execPath} ${resolve(INSTALL_ROOT, 'bin/curfew.js')}`,
      workdir: resolve(flags.workdir ?? process.cwd()),
      image: flags.image ?? 'curfew:latest',
      selection: flags.job,
      at: new Date(),
    });
}
