/** The verifier's subscription to curfew's revocation events (the official `nats` client, loaded only when used). */

export interface EventListener {
  state(): 'connected' | 'disconnected';
  close(): Promise<void>;
}

export interface ListenOptions {
  /** NATS server(s), comma-separated. */
  readonly servers: string;
  /** curfew's BUS_SUBJECT_PREFIX. */
  readonly prefix: string;
  /** Called per event with the subject after `<prefix>.events.` (e.g. `session.revoked`) and the JSON payload. */
  readonly onEvent: (kind: string, payload: Record<string, unknown>) => void;
}

/**
 * Subscribes to `<prefix>.events.>`; the client reconnects by itself (and
 * resubscribes). Events published while this process was disconnected are
 * not replayed (see docs/verify.md for a JetStream consumer when that matters).
 */
export async function listenForRevocations(options: ListenOptions): Promise<EventListener> {
  const { connect } = await import('nats');
  const nc = await connect({
    servers: options.servers.split(',').map((server) => server.trim()),
    name: 'curfew-verify',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
  });
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') connected = false;
      else if (status.type === 'reconnect') connected = true;
    }
  })().catch(() => undefined);
  const root = `${options.prefix}.events.`;
  const decoder = new TextDecoder();
  nc.subscribe(`${root}>`, {
    callback: (error, msg) => {
      if (error) return;
      try {
        const payload: unknown = JSON.parse(decoder.decode(msg.data));
        if (typeof payload === 'object' && payload !== null) options.onEvent(msg.subject.slice(root.length), payload as Record<string, unknown>);
      } catch {
        // Not JSON: not one of curfew's events; ignore it.
      }
    },
  });
  // The subscription is on the server once this round trip returns.
  await nc.flush();
  return {
    state: () => (connected && !nc.isClosed() ? 'connected' : 'disconnected'),
    async close() {
      if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
    },
  };
}
