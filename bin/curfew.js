#!/usr/bin/env node
// The published entry point. TypeScript sources run through tsx's loader, so
// neither `npm start` nor `npx curfew` needs a build step.
import { register } from 'tsx/esm/api';

register();
// Before the app's modules load: keeps Node's nextTick objects on V8's fast
// path for the life of the process (why: src/runtime/tick-shape.ts).
await import('../src/runtime/tick-shape.ts');
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
