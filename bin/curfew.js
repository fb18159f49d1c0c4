#!/usr/bin/env node
// The published entry point. TypeScript sources run through tsx's loader, so
// neither `npm start` nor `npx curfew` needs a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
