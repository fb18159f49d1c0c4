// A separate curfew instance for multi-process tests: builds the app from
// the environment (shared PostgreSQL), runs sequence ticks back to back until
// one finds nothing to do, prints the summed counts as JSON and exits.
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';

const app = await createApp(loadConfig());
await app.start({ listen: false, background: false });
const total: Record<string, number> = {};
process.stdout.write('ready\n');
for (;;) {
  const counts = await app.services.sequences.tickNow();
  for (const [name, value] of Object.entries(counts)) total[name] = (total[name] ?? 0) + value;
  if ((counts.processed ?? 0) === 0 && (counts.queued ?? 0) === 0) break;
}
process.stdout.write(`${JSON.stringify(total)}\n`);
await app.stop();
