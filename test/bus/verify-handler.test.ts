import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestMemo, verifyHandler, type TokenVerifier } from '../../src/bus/verify-responder.js';
import type { AccessClaims } from '../../src/tokens/access-tokens.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function claimsFor(userId: number): AccessClaims {
  return { userId, email: `u${userId}@example.com`, role: 'user', sessionId: `s${userId}`, sessionCreatedAt: 1, expiresAt: Date.UTC(2030, 0, 1) } as unknown as AccessClaims;
}

/** A verifier whose cache answers are set by the test; counts full (uncached) verifications. */
function fakeVerifier() {
  const cached = new Map<string, AccessClaims | undefined>();
  const calls = { cached: [] as string[], full: [] as string[] };
  const verifier: TokenVerifier = {
    verifyCachedAccessToken(token) {
      calls.cached.push(token);
      return cached.has(token) ? cached.get(token) : null;
    },
    async verifyAccessToken(token) {
      calls.full.push(token);
      return undefined;
    },
  };
  return { verifier, cached, calls };
}

/** The request as nats.js hands it over: a view into a larger read buffer. */
function requestBytes(body: string): Uint8Array {
  const bytes = encoder.encode(body);
  const buffer = new Uint8Array(bytes.length + 64);
  buffer.set(bytes, 32);
  return buffer.subarray(32, 32 + bytes.length);
}

const answerOf = async (reply: Uint8Array | Promise<Uint8Array>) => JSON.parse(decoder.decode(await reply)) as { valid: boolean; user?: { id: number } };

describe('verify handler: the request memo', () => {
  const signature = 'S'.repeat(86);
  const tokenA = `header.payloadA.${signature}`;
  const tokenB = `header.payloadB.${signature}`;

  it('answers a repeated request the same way, and consults the token check on every request', async () => {
    const { verifier, cached, calls } = fakeVerifier();
    cached.set(tokenA, claimsFor(1));
    const handler = verifyHandler(verifier);
    for (let i = 0; i < 3; i += 1) assert.equal((await answerOf(handler(requestBytes(JSON.stringify({ token: tokenA }))))).user?.id, 1);
    assert.equal(calls.cached.length, 3, 'the revocation/expiry check ran for each request');
    assert.ok(calls.cached.every((token) => token === tokenA));
  });

  it('a remembered request whose session is then revoked is answered valid:false', async () => {
    const { verifier, cached } = fakeVerifier();
    cached.set(tokenA, claimsFor(1));
    const handler = verifyHandler(verifier);
    const body = JSON.stringify({ token: tokenA });
    assert.equal((await answerOf(handler(requestBytes(body)))).valid, true);
    cached.set(tokenA, undefined);
    assert.equal((await answerOf(handler(requestBytes(body)))).valid, false);
  });

  it('a remembered request whose token left the cache goes through full verification', async () => {
    const { verifier, cached, calls } = fakeVerifier();
    cached.set(tokenA, claimsFor(1));
    const handler = verifyHandler(verifier);
    const body = JSON.stringify({ token: tokenA });
    await answerOf(handler(requestBytes(body)));
    cached.delete(tokenA);
    assert.equal((await answerOf(handler(requestBytes(body)))).valid, false);
    assert.deepEqual(calls.full, [tokenA]);
  });

  it('requests that end in the same bytes are told apart by all of their bytes', async () => {
    const { verifier, cached } = fakeVerifier();
    cached.set(tokenA, claimsFor(1));
    cached.set(tokenB, claimsFor(2));
    const handler = verifyHandler(verifier);
    for (let i = 0; i < 2; i += 1) {
      assert.equal((await answerOf(handler(requestBytes(JSON.stringify({ token: tokenA }))))).user?.id, 1);
      assert.equal((await answerOf(handler(requestBytes(JSON.stringify({ token: tokenB }))))).user?.id, 2);
    }
  });

  it('remembers only well-formed requests for tokens the cache knows, and keeps a copy of their bytes', () => {
    const { verifier, cached } = fakeVerifier();
    cached.set(tokenA, claimsFor(1));
    const memo = new RequestMemo();
    const handler = verifyHandler(verifier, undefined, memo);
    handler(requestBytes(JSON.stringify({ token: 'unknown.token.x' })));
    handler(requestBytes('{"token": "x", "extra": 1}'));
    handler(requestBytes('not json'));
    assert.equal(memo.size, 0);
    const request = requestBytes(JSON.stringify({ token: tokenA }));
    handler(request);
    assert.equal(memo.size, 1);
    request.fill(0x20);
    assert.equal(memo.token(requestBytes(JSON.stringify({ token: tokenA }))), tokenA, 'the memo does not alias the read buffer');
  });

  it('is bounded: the oldest request goes first', () => {
    const memo = new RequestMemo(2);
    const bodies = ['a', 'b', 'c'].map((id) => requestBytes(JSON.stringify({ token: `t.${id}.${signature}${id}` })));
    bodies.forEach((body, index) => memo.remember(body, `token ${index}`));
    assert.equal(memo.size, 2);
    assert.equal(memo.token(bodies[0] as Uint8Array), undefined);
    assert.equal(memo.token(bodies[2] as Uint8Array), 'token 2');
  });
});
