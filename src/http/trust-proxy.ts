import type { TrustProxy } from '../config/index.js';

/**
 * TRUST_PROXY in the form Fastify's `trustProxy` takes. A hop count becomes
 * proxy-addr's hop function (`hop 0` is the socket's peer), so `1` trusts
 * exactly the proxy curfew's socket talks to and takes the entry it
 * appended, the rightmost in `X-Forwarded-For`; a CIDR list is handed over
 * as is (proxy-addr walks from the right, skipping trusted addresses).
 * Never `true`, which would trust the leftmost, client-written entry.
 */
export function fastifyTrustProxy(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (trust === false) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return [...trust];
}
