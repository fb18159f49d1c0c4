// `npm run bench -- <name> [args...]` runs bench/<name>.ts: its default export
// is called with the remaining arguments. Add a benchmark by adding a file.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(dir)
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && file !== 'run.ts' && !file.includes('-server'))
  .map((file) => file.slice(0, -3))
  .sort();

if (name === undefined || !/^[a-z0-9-]+$/.test(name) || !existsSync(new URL(`./${name}.ts`, import.meta.url))) {
  process.stderr.write(`usage: npm run bench -- <name>\navailable: ${available.join(', ')}\n`);
  process.exit(64);
}

const module = (await import(`./${name}.ts`)) as { default?: (args: string[]) => Promise<void> | void };
if (typeof module.default !== 'function') {
  process.stderr.write(`bench/${name}.ts has no default export to run\n`);
  process.exit(64);
}
try {
  await module.default(args);
} catch (error) {
  process.stderr.write(`bench ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
