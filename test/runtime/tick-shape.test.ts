import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { retainedTickObject } from '../../src/runtime/tick-shape.js';

const MODULE = fileURLToPath(new URL('../../src/runtime/tick-shape.ts', import.meta.url));

/**
 * Runs a child that queues ticks, forces two full GCs while no tick object is
 * alive, queues more ticks, and prints the feedback of `process.nextTick`
 * (V8's %DebugPrint). Returns the IC states of the tick literal's computed
 * property definitions.
 */
function literalStatesAfterGc(retain: boolean): string[] {
  const script = `
    ${retain ? `await import(${JSON.stringify(MODULE)});` : ''}
    const tick = () => new Promise((resolve) => process.nextTick(resolve));
    for (let i = 0; i < 200; i++) await tick();
    await new Promise((resolve) => setTimeout(resolve, 5));
    globalThis.gc(); globalThis.gc();
    for (let i = 0; i < 200; i++) await tick();
    new Function('f', '%DebugPrint(f)')(process.nextTick);
  `;
  // V8 prints with C stdio, which can lose its tail at exit on a pipe: a file keeps all of it.
  const dir = mkdtempSync(join(tmpdir(), 'curfew-tick-shape-'));
  const outPath = join(dir, 'stdout.txt');
  const out = openSync(outPath, 'w');
  try {
    const child = spawnSync(process.execPath, ['--allow-natives-syntax', '--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', out, 'pipe'],
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(child.status, 0, child.stderr);
  } finally {
    closeSync(out);
  }
  const stdout = readFileSync(outPath, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return [...stdout.matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((match) => match[1] ?? '');
}

describe('retainTickObjectShape', () => {
  it('holds a tick object: the two async-id symbols, the callback and the args', async () => {
    await new Promise<void>((resolve) => process.nextTick(resolve));
    const retained = retainedTickObject();
    assert.ok(retained !== undefined);
    assert.equal(Object.getOwnPropertySymbols(retained).length, 2);
    assert.deepEqual(Object.keys(retained), ['callback', 'args']);
  });

  it('keeps nextTick on the fast path through a full GC that would otherwise make it megamorphic', (t) => {
    const without = literalStatesAfterGc(false);
    if (without.length === 0) {
      // Another V8 prints its feedback differently (or has no such IC): nothing to check here.
      t.skip(`this Node (${process.version}) prints no DefineKeyedOwnPropertyInLiteral feedback`);
      return;
    }
    // The control: a full GC with no tick object alive frees the literal's maps, and the cache goes megamorphic.
    assert.ok(without.includes('MEGAMORPHIC'), `expected the control to go megamorphic: ${without.join(', ')}`);
    const withRetention = literalStatesAfterGc(true);
    assert.deepEqual(withRetention, without.map(() => 'MONOMORPHIC'));
  });
});
