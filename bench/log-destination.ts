// `npm run bench -- log-destination`: CPU per access line by log destination,
// each in its own process writing to a pipe this process drains (as under
// systemd or Docker), one line per event-loop turn:
//   none       the line is built and dropped (the floor)
//   string-4k  SonicBoom's string mode with ~4 KiB writes (the destination before issue 15's last change)
//   shipped    stdoutDestination(): buffer mode, ~32 KiB writes
// Bounded: BENCH_ROUNDS alternating rounds of BENCH_LINES lines per variant; medians.
import { spawn } from 'node:child_process';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const VARIANTS = ['none', 'string-4k', 'shipped'] as const;

function once(variant: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/log-destination-server.ts', variant], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => {
      const match = /RESULT ([\d.]+)/.exec(err);
      if (code === 0 && match) resolve(Number(match[1]));
      else reject(new Error(`${variant} exited with ${String(code)}: ${err}`));
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export default async function main(): Promise<void> {
  const results = new Map<string, number[]>(VARIANTS.map((variant) => [variant, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const variant of VARIANTS) {
      process.stderr.write(`[bench log-destination] round ${round + 1}/${ROUNDS}: ${variant}\n`);
      results.get(variant)?.push(await once(variant));
    }
  }
  const floor = median(results.get('none') ?? []);
  const lines = [
    `| destination (median of ${ROUNDS} alternating processes) | CPU µs per line | over the floor | rounds |`,
    '|---|---:|---:|---|',
    ...VARIANTS.map((variant) => {
      const values = results.get(variant) ?? [];
      const us = median(values);
      return `| ${variant} | ${us.toFixed(2)} | ${variant === 'none' ? '–' : (us - floor).toFixed(2)} | ${values.map((v) => v.toFixed(2)).join(', ')} |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
