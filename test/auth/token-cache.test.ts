import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenCache } from '../../src/tokens/token-cache.js';

const entry = (expiresAt: number) => ({ expiresAt });

describe('TokenCache (found by signature, confirmed by the whole token)', () => {
  it('answers only for the very token that was stored, even when another shares its signature segment', () => {
    const cache = new TokenCache<{ expiresAt: number }>();
    const stored = entry(2000);
    cache.set('header.payload-a.sig', stored);
    assert.equal(cache.get('header.payload-a.sig', 1000), stored);
    assert.equal(cache.get('header.payload-b.sig', 1000), undefined, 'same last segment, other token: a miss');
    assert.equal(cache.get('sig', 1000), undefined);
    cache.delete('header.payload-b.sig');
    assert.equal(cache.get('header.payload-a.sig', 1000), stored, 'deleting another token leaves this one');
    cache.delete('header.payload-a.sig');
    assert.equal(cache.get('header.payload-a.sig', 1000), undefined);
  });

  it('drops an entry at its expiry', () => {
    const cache = new TokenCache<{ expiresAt: number }>();
    cache.set('a.b.c', entry(2000));
    assert.ok(cache.get('a.b.c', 1999));
    assert.equal(cache.get('a.b.c', 2000), undefined);
    assert.equal(cache.size, 0);
  });

  it('evicts the oldest entry when full, but not for a token already held', () => {
    const cache = new TokenCache<{ expiresAt: number }>(2);
    cache.set('a.b.one', entry(9000));
    cache.set('a.b.two', entry(9000));
    cache.set('a.b.two', entry(9000));
    assert.ok(cache.get('a.b.one', 0), 'refreshing a held token evicts nothing');
    cache.set('a.b.three', entry(9000));
    assert.equal(cache.get('a.b.one', 0), undefined, 'the oldest went');
    assert.ok(cache.get('a.b.two', 0));
    assert.ok(cache.get('a.b.three', 0));
    assert.equal(cache.size, 2);
  });
});
