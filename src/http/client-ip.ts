import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** What Fastify's `trustProxy` option accepts (curfew passes TRUST_PROXY's value). */
export type TrustProxy = boolean | number | string | readonly string[];

/** `(req) => client IP` as Fastify's `request.ip` computes it. */
export type ClientIp = (req: IncomingMessage) => string | undefined;

/**
 * The client address of a raw request, computed exactly as Fastify's
 * `request.ip` is for the same `trustProxy` value (its `getTrustProxyFn`,
 * then the last address `proxy-addr` keeps), so the early answers log and
 * decide on the same address the routes see. Without a trusted proxy it is
 * the socket's peer.
 */
export function clientIpResolver(trustProxy: TrustProxy): ClientIp {
  if (trustProxy === false) return (req) => req.socket.remoteAddress;
  const trust = trustFunction(trustProxy);
  return (req) => {
    const all = proxyAddr.all(req, trust);
    return all[all.length - 1];
  };
}

/** Mirrors Fastify 5's getTrustProxyFn (lib/request.js). */
function trustFunction(trustProxy: Exclude<TrustProxy, false>): (address: string, hop: number) => boolean {
  if (trustProxy === true) return () => true;
  // Fastify fails closed on a bare hop count: the peer cannot be validated.
  if (typeof trustProxy === 'number') return () => false;
  if (typeof trustProxy === 'string') return proxyAddr.compile(trustProxy.split(',').map((value) => value.trim()));
  return proxyAddr.compile([...trustProxy]);
}
