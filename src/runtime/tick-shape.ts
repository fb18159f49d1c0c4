import { executionAsyncResource } from 'node:async_hooks';

/**
 * Keeps V8's hidden classes for Node's `process.nextTick` objects alive for
 * the life of the process, so every stream and HTTP path that queues a tick
 * stays on V8's fast path.
 *
 * Why this exists (Node 20, V8 11.3; measured in bench/RESULTS.md, issue 15,
 * "2026-12-01, the nextTick shape"): `nextTick` builds each queued tick as
 * `{ [async_id_symbol]: …, [trigger_async_id_symbol]: …, callback, args }`.
 * Computed keys make V8 define those properties through the
 * DefineKeyedOwnPropertyInLiteral inline cache, which goes straight from
 * monomorphic to megamorphic the first time it sees a receiver map other than
 * the one it recorded. The maps after the first property are held only weakly
 * (transition arrays and feedback are weak), so a full GC at a moment when no
 * tick object is alive — start-up, or V8's memory reducer in an idle process —
 * frees them; the next tick builds fresh maps, the cache goes megamorphic for
 * good, and from then on every `nextTick` call (several per HTTP request:
 * `resume`, `emitReadable`, `endReadable`, `onwrite`) defines its properties in
 * the V8 runtime: ~8 % of a small request's CPU. Whether a process ends up there
 * depends on its start-up allocation, which is why two processes of one build
 * measured differently.
 *
 * Holding one tick object keeps its map alive, and through each map's (strong)
 * back pointer the whole chain the cache recorded. Must run before the rest of
 * the app is loaded: bin/curfew.js loads it before the app's modules and
 * src/app.ts imports it first. Importing it again does nothing (one module
 * instance); it costs one retained object.
 */
let retained: object | undefined;

/** The retained tick object (undefined until the first tick after import has run). */
export function retainedTickObject(): object | undefined {
  return retained;
}

process.nextTick(() => {
  // Inside a tick callback the execution resource is the tick object itself.
  retained = executionAsyncResource();
});
