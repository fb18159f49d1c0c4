import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** What Fastify's `trustProxy` option gets from curfew: `fastifyTrustProxy(TRUST_PROXY)` (trust-proxy.ts). */
export type FastifyTrustProxy = boolean | readonly string[] | ((address: string, hop: number) => boolean);

/** `(req) => client IP` as Fastify's `request.ip` computes it. */
export type ClientIp = (req: IncomingMessage) => string | undefined;

/**
 * The client address of a raw request, computed exactly as Fastify's
 * `request.ip` is for the same `trustProxy` value (its `getTrustProxyFn`,
 * then the last address `proxy-addr` keeps), so the early answers log and
 * decide on the same address the routes see. Without a trusted proxy it is
 * the socket's peer.
 */
export function clientIpResolver(trustProxy: FastifyTrustProxy): ClientIp {
  if (trustProxy === false) return (req) => req.socket.remoteAddress;
  const trust = trustFunction(trustProxy);
  return (req) => {
    const all = proxyAddr.all(req, trust);
    return all[all.length - 1];
  };
}

/** Mirrors Fastify 5's getTrustProxyFn (lib/request.js) for the forms curfew passes. */
function trustFunction(trustProxy: Exclude<FastifyTrustProxy, false>): (address: string, hop: number) => boolean {
  if (trustProxy === true) return () => true;
  if (typeof trustProxy === 'function') return trustProxy;
  return proxyAddr.compile([...trustProxy]);
}
