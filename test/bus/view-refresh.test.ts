import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { NatsTransport } from '../../src/bus/nats-transport.js';
import type { BusState, BusTransport, MessageHandler } from '../../src/bus/transport.js';
import { refreshOnRevocationEvents } from '../../src/bus/view-refresh.js';
import { eventually, MACHINE_NATS, natsUnavailable, testPrefix } from './support.js';

const skip = await natsUnavailable();
if (skip) console.log(`# skipped: ${skip}`);

/** A transport that only records subscriptions, so the test can deliver messages by hand. */
class ListeningTransport implements BusTransport {
  readonly subscriptions: Array<{ subject: string; handler: MessageHandler }> = [];
  serve(): void {}
  subscribe(subject: string, handler: MessageHandler): void {
    this.subscriptions.push({ subject, handler });
  }
  async publish(): Promise<void> {}
  state(): BusState {
    return 'connected';
  }
  onConnected(): void {}
  async close(): Promise<void> {}
  deliver(subject: string): void {
    for (const entry of this.subscriptions) entry.handler(subject, new TextEncoder().encode('{}'));
  }
}

/** A refresh that finishes when the test says so. */
function controlledRefresh() {
  const pending: Array<() => void> = [];
  return {
    calls: () => pending.length,
    refresh: () => new Promise<void>((resolve) => pending.push(resolve)),
    finishLast: () => pending[pending.length - 1]?.(),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the revocation view follows the bus events of every instance', () => {
  it('subscribes to every event of its prefix, with no queue group', () => {
    const transport = new ListeningTransport();
    refreshOnRevocationEvents(transport, 'acme.curfew', async () => undefined, pino({ level: 'silent' }));
    assert.deepEqual(transport.subscriptions.map((entry) => entry.subject), ['acme.curfew.events.>']);
  });

  it('refreshes on a revocation event; events during a refresh cause one more refresh, not one each', async () => {
    const transport = new ListeningTransport();
    const view = controlledRefresh();
    refreshOnRevocationEvents(transport, 'curfew', view.refresh, pino({ level: 'silent' }));
    transport.deliver('curfew.events.session.revoked');
    assert.equal(view.calls(), 1);
    transport.deliver('curfew.events.user.logged_out_everywhere');
    transport.deliver('curfew.events.sessions.revoked_all');
    transport.deliver('curfew.events.session.revoked');
    assert.equal(view.calls(), 1, 'still the first refresh');
    view.finishLast();
    await settle();
    assert.equal(view.calls(), 2, 'one more refresh covers the three events');
    view.finishLast();
    await settle();
    assert.equal(view.calls(), 2, 'and then nothing');
  });

  it('ignores keys.rotated (not a revocation) and survives a failing refresh', async () => {
    const transport = new ListeningTransport();
    let calls = 0;
    refreshOnRevocationEvents(transport, 'curfew', async () => {
      calls += 1;
      throw new Error('database away');
    }, pino({ level: 'silent' }));
    transport.deliver('curfew.events.keys.rotated');
    assert.equal(calls, 0);
    transport.deliver('curfew.events.user.deactivated');
    await settle();
    transport.deliver('curfew.events.session.revoked');
    await settle();
    assert.equal(calls, 2, 'a failed refresh does not stop the next');
  });
});

describe('NatsTransport.subscribe on the real NATS', { skip: skip ?? false }, () => {
  it('delivers every message on the wildcard, with its subject, to a subscription made before the connection', async () => {
    const prefix = testPrefix();
    const transport = new NatsTransport({ url: MACHINE_NATS }, pino({ level: 'silent' }));
    const seen: string[] = [];
    transport.subscribe(`${prefix}.events.>`, (subject) => seen.push(subject));
    transport.start();
    try {
      await eventually(() => transport.state() === 'connected', 10_000, 'the connection');
      await transport.publish(`${prefix}.events.session.revoked`, new TextEncoder().encode('{}'), 'one');
      await transport.publish(`${prefix}.auth.verify`, new TextEncoder().encode('{}'), 'two');
      await eventually(() => seen.length > 0, 10_000, 'the event');
      assert.deepEqual(seen, [`${prefix}.events.session.revoked`]);
    } finally {
      await transport.close();
    }
  });
});
