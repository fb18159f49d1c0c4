import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../config/index.js';

/** A parsed `CRON_IP_ALLOWLIST`: CIDRs or single addresses, IPv4 and IPv6. */
export interface IpAllowlist {
  /** True when no list is configured, or `ip` falls inside one of its ranges. */
  allows(ip: string): boolean;
}

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * Parses the allow-list once at start-up; a malformed entry stops start-up
 * with a ConfigError naming `CRON_IP_ALLOWLIST`.
 */
export function parseIpAllowlist(entries: readonly string[]): IpAllowlist {
  if (entries.length === 0) return { allows: () => true };
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefixText] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new ConfigError('CRON_IP_ALLOWLIST', `"${entry}" is not an IP address or CIDR range`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
    if (!(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) {
      throw new ConfigError('CRON_IP_ALLOWLIST', `"${entry}" has an invalid prefix length`);
    }
    list.addSubnet(address, prefix, type);
  }
  return {
    allows(ip) {
      // Dual-stack sockets report IPv4 callers as ::ffff:a.b.c.d.
      const mapped = MAPPED_V4.exec(ip)?.[1];
      const candidate = mapped ?? ip;
      const family = isIP(candidate);
      if (family === 0) return false;
      return list.check(candidate, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
