import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import { BusOutboxRepository, noEvents, OutboxRecorder, type EventRecorder } from '../db/repositories/bus-outbox.js';
import type { Logger } from '../logger.js';
import { userDeactivated, type BusEvent } from './events.js';
import { NatsTransport } from './nats-transport.js';
import { OutboxPublisher } from './outbox-publisher.js';
import type { BusState, BusTransport } from './transport.js';
import type { Registry } from 'prom-client';
import { busMetrics } from '../metrics/bus-metrics.js';
import { verifyHandler, verifySubject, type TokenVerifier } from './verify-responder.js';
import { refreshOnRevocationEvents } from './view-refresh.js';

export { EVENT_SUBJECTS, EVENT_WILDCARD } from './events.js';
export { VERIFY_SUBJECT, verifySubject } from './verify-responder.js';

/** The bus as the rest of the app sees it (Services.bus). */
export interface Bus {
  /** Whether BUS_URL is set. */
  readonly enabled: boolean;
  /** `off` without BUS_URL, else the connection state. */
  state(): BusState | 'off';
  /** Events waiting in the outbox (0 without a bus). */
  pending(): Promise<number>;
  /**
   * Records an event outside any other transaction and wakes the publisher
   * (for changes whose own transaction did not record it). No-op when off.
   */
  publish(event: BusEvent): Promise<void>;
  /**
   * `curfew.events.user.deactivated` for `userId`. User deactivation is
   * built in another branch; the lead wires it at merge: inside the
   * deactivating transaction through `recorded = await recorder.record(trx, [userDeactivated(id)], now)`
   * and `recorder.committed(recorded)` after the commit (preferred: never sent for a
   * rolled-back change), or by calling this after its commit.
   */
  publishUserDeactivated(userId: number): Promise<void>;
}

/** What createApp needs: the recorder for repositories (built first), then the bus. */
export interface BusParts {
  /** Passed to the repositories that change sessions, marks and keys. */
  readonly recorder: EventRecorder;
  /**
   * Builds the bus once auth exists; `tasks` go beside the other background
   * loops. `refreshRevocations` (the revocation view's refreshNow) runs when
   * a revocation event arrives from any instance.
   */
  connect(
    auth: TokenVerifier,
    registry: Registry,
    refreshRevocations?: () => Promise<void>,
  ): { bus: Bus; tasks: Array<{ name: string; start(): void; stop(): Promise<void> }> };
}

/**
 * The bus area: without BUS_URL nothing is recorded and nothing connects.
 * With it, every instance serves `curfew.auth.verify` in one queue group and
 * publishes the outbox. `transport` replaces the NATS adapter (tests, other brokers).
 */
export function createBusParts(deps: { config: Config; clock: Clock; logger: Logger; storage: Storage; transport?: BusTransport }): BusParts {
  const { config, clock, logger, storage } = deps;
  const url = config.bus.url;
  if (url === undefined && deps.transport === undefined) {
    const off: Bus = {
      enabled: false,
      state: () => 'off',
      pending: async () => 0,
      publish: async () => undefined,
      publishUserDeactivated: async () => undefined,
    };
    return { recorder: noEvents, connect: () => ({ bus: off, tasks: [] }) };
  }
  const recorder = new OutboxRecorder();
  const outbox = new BusOutboxRepository(storage);
  return {
    recorder,
    connect(auth, registry, refreshRevocations) {
      const nats = deps.transport ? undefined : new NatsTransport({ url: url as string, name: `curfew ${config.scheduler.instanceId}` }, logger);
      const transport = deps.transport ?? (nats as NatsTransport);
      const metrics = busMetrics(registry, { state: () => transport.state(), pending: () => outbox.pending() });
      const { subject, queue } = verifySubject(config.bus.subjectPrefix);
      transport.serve(subject, queue, verifyHandler(auth, metrics.countVerify));
      if (refreshRevocations) refreshOnRevocationEvents(transport, config.bus.subjectPrefix, refreshRevocations, logger);
      const publisher = new OutboxPublisher(outbox, transport, clock, logger, {
        pollMs: config.bus.outboxPollMs,
        subjectPrefix: config.bus.subjectPrefix,
        onPublished: metrics.countPublished,
      });
      recorder.listen(publisher);
      const publish = async (event: BusEvent) => {
        recorder.committed(await recorder.record(storage.db, [event], clock.now()));
      };
      const bus: Bus = {
        enabled: true,
        state: () => transport.state(),
        pending: () => outbox.pending(),
        publish,
        publishUserDeactivated: (userId) => publish(userDeactivated(userId)),
      };
      const connection = {
        name: 'bus',
        start: () => nats?.start(),
        stop: () => transport.close(),
      };
      // Publisher first in, last out: stop it before the connection closes.
      return { bus, tasks: [connection, publisher] };
    },
  };
}
