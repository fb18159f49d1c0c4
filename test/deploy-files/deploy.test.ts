import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { sidecarLoop } from '../../src/deploy-files/compose.js';

/**
 * No container engine runs here, so the deployment files are checked
 * statically: they parse, and every curfew command they run exists in the CLI.
 */
function cliHelp(args: readonly string[]): number | null {
  return spawnSync(process.execPath, ['bin/curfew.js', ...args, '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }).status;
}

interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
}

const compose = parse(readFileSync('docker-compose.yaml', 'utf8')) as { services: Record<string, Service> };
const dockerfile = readFileSync('Dockerfile', 'utf8');

describe('docker-compose.yaml', () => {
  it('has curfew, PostgreSQL and a cron sidecar in the right order', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['cron', 'curfew', 'postgres']);
    assert.match(compose.services.postgres?.image ?? '', /^postgres:/);
    assert.equal(compose.services.curfew?.depends_on?.postgres?.condition, 'service_healthy');
    assert.equal(compose.services.cron?.depends_on?.curfew?.condition, 'service_healthy');
    assert.match(compose.services.curfew?.environment?.DATABASE_URL ?? '', /^postgres:\/\/curfew:\$\{POSTGRES_PASSWORD\}@postgres:5432\/curfew$/);
  });

  it('the sidecar runs `curfew trigger --due` every minute, as `curfew export compose` writes it', () => {
    const command = compose.services.cron?.command;
    assert.deepEqual(command, [sidecarLoop('http://curfew:8000', 'CRON_SECRET')]);
  });

  it('secrets are only ${VAR} references', () => {
    for (const service of Object.values(compose.services)) {
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        if (/SECRET|PASSWORD|KEY/.test(name)) assert.match(value, /^\$\{[A-Z_]+(:\?[^}]*)?\}$/, name);
      }
    }
  });

  it('every curfew command it runs exists (`node bin/curfew.js <cmd> --help` exits 0)', () => {
    const commands = new Set<string>();
    for (const service of Object.values(compose.services)) {
      const text = [service.command ?? []].flat().join(' ');
      for (const match of text.matchAll(/bin\/curfew\.js (\w+)((?: --?[\w-]+)*)/g)) commands.add(match[1] ?? '');
    }
    commands.add(/^CMD \["(\w+)"\]$/m.exec(dockerfile)?.[1] ?? 'missing CMD');
    assert.deepEqual([...commands].sort(), ['serve', 'trigger']);
    for (const command of commands) assert.equal(cliHelp([command]), 0, command);
  });

  it('every option the sidecar passes is one `curfew trigger` knows', () => {
    const help = spawnSync(process.execPath, ['bin/curfew.js', 'trigger', '--help'], { encoding: 'utf8' }).stdout;
    const options = [...sidecarLoop('http://curfew:8000', 'CRON_SECRET').matchAll(/ (--[a-z-]+)/g)].map((match) => match[1] ?? '');
    assert.ok(options.length >= 4);
    for (const option of options) assert.ok(help.includes(option), option);
  });
});

describe('Dockerfile', () => {
  it('is multi-stage on a supported Node line (not 20: end of life April 2026), installs production deps only, runs as non-root, checks /ready', () => {
    const bases = [...dockerfile.matchAll(/^FROM node:(\d+)-slim/gm)].map((match) => Number(match[1]));
    assert.equal(bases.length, 2);
    for (const major of bases) assert.ok(major >= 22 && major % 2 === 0, `node:${major} is an LTS line still supported in late 2026`);
    assert.match(dockerfile, /RUN npm ci --omit=dev/);
    assert.match(dockerfile, /^USER 1000:1000$/m);
    assert.match(dockerfile, /^HEALTHCHECK .*\n?.*\/ready/m);
    assert.match(dockerfile, /^ENTRYPOINT \["node", "bin\/curfew.js"\]$/m);
    // better-sqlite3 can compile when no prebuilt binary downloads: toolchain + local node headers in the deps stage.
    const deps = dockerfile.slice(0, dockerfile.lastIndexOf('\nFROM '));
    assert.match(deps, /apt-get install -y --no-install-recommends python3 make g\+\+/);
    assert.match(deps, /^ENV npm_config_nodedir=\/usr\/local$/m);
    const tsx = (JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> }).dependencies.tsx;
    assert.ok(tsx, 'tsx is a runtime dependency, so --omit=dev keeps it');
  });
});
