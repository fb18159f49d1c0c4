import { isIP } from 'node:net';
import { ConfigError } from './config-error.js';

/**
 * Which proxies in front of curfew are trusted to append to
 * `X-Forwarded-For`: none (`false`), the nearest N hops (a number), or the
 * proxies at these addresses (CIDRs, addresses, or proxy-addr's names
 * `loopback`, `linklocal`, `uniquelocal`). Handed to Fastify's `trustProxy`
 * as is: the client address is then the rightmost entry that is not a
 * trusted hop, never the leftmost, client-written one.
 */
export type TrustProxy = false | number | readonly string[];

const NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const TRUE = new Set(['true', 'yes', 'on']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/**
 * Parses `TRUST_PROXY`: unset or `false` trusts nothing; `true` means one
 * proxy (the socket's peer) and is the same as `1`; a whole number N trusts
 * N hops; anything else is a comma list of CIDRs, addresses or the names
 * above. Throws ConfigError naming the variable.
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  if (raw === undefined) return false;
  const value = raw.trim().toLowerCase();
  if (FALSE.has(value)) return false;
  if (TRUE.has(value)) return 1;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 20) throw new ConfigError('TRUST_PROXY', `trusts ${hops} proxy hops; use the number of proxies in front of curfew (usually 1) or their CIDRs`);
    return hops;
  }
  const entries = value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const entry of entries) {
    if (NAMES.has(entry)) continue;
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
    if (family === 0 || !prefixOk) {
      throw new ConfigError(
        'TRUST_PROXY',
        `"${entry}" is not a proxy address or CIDR; use false, true (one proxy), a hop count such as 2, or a list such as 10.0.0.0/8,loopback`,
      );
    }
  }
  return entries.length === 0 ? false : entries;
}
