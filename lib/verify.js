// The `curfew/verify` entry (package.json "exports"). curfew ships its
// TypeScript sources and runs them through tsx (no build step); tsImport
// loads this module's sources in a scope of its own, so importing it
// does not register a TypeScript loader for the rest of your process.
import { tsImport } from 'tsx/esm/api';

const verify = await tsImport('../src/verify/index.ts', import.meta.url);

export const { createVerifier, verifyPlugin, verifyMiddleware, tokenFromRequest } = verify;
