import { ConfigError, type Config } from '../config/index.js';

/**
 * A ConfigError naming PORT (or HOST) when the server cannot listen: the port
 * is taken, needs privileges, or the address is not on this machine.
 * Undefined for anything else.
 */
export function listenError(error: unknown, config: Pick<Config, 'host' | 'port'>): ConfigError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const where = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ConfigError('PORT', `${where} is already in use (another curfew, or another program: ss -ltnp 'sport = :${config.port}'); stop it or set PORT to a free port`);
    case 'EACCES':
      return new ConfigError('PORT', `${where} needs privileges to listen on; use a port above 1023 (e.g. PORT=8000) behind your proxy`);
    case 'EADDRNOTAVAIL':
      return new ConfigError('HOST', `${config.host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 (every interface) or one of its own addresses`);
    default:
      return undefined;
  }
}
