import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { OutboxPublisher, type OutboxStore } from '../../src/bus/outbox-publisher.js';
import type { BusState, BusTransport } from '../../src/bus/transport.js';
import { TestClock } from '../../src/clock.js';
import type { BusOutboxRow } from '../../src/db/repositories/bus-outbox.js';

/** An outbox in memory that counts the publisher's queries. */
class MemoryStore implements OutboxStore {
  claims = 0;
  readonly deleted: number[] = [];
  readonly released: number[] = [];
  waiting: BusOutboxRow[] = [];

  async claim(): Promise<BusOutboxRow[]> {
    this.claims += 1;
    const rows = this.waiting;
    this.waiting = [];
    return rows;
  }

  async delete(ids: readonly number[]): Promise<void> {
    this.deleted.push(...ids);
  }

  async release(ids: readonly number[]): Promise<void> {
    this.released.push(...ids);
  }
}

/** A transport whose publishes succeed or fail on demand. */
class FakeTransport implements BusTransport {
  readonly published: Array<{ subject: string; id: string }> = [];
  current: BusState = 'connected';
  refuse = false;
  private readonly listeners: Array<() => void> = [];

  serve(): void {}
  subscribe(): void {}
  async publish(subject: string, _data: Uint8Array, id: string): Promise<void> {
    if (this.refuse) throw new Error('broker gone');
    this.published.push({ subject, id });
  }
  state(): BusState {
    return this.current;
  }
  onConnected(listener: () => void): void {
    this.listeners.push(listener);
  }
  async close(): Promise<void> {}
}

const row = (id: number, claimedUntil: number | null): BusOutboxRow => ({
  id,
  subject: 'curfew.events.session.revoked',
  payload: JSON.stringify({ session_id: `s${id}`, user_id: 1, reason: 'logout' }),
  created_at: 1000,
  claimed_until: claimedUntil,
  attempts: claimedUntil === null ? 0 : 1,
});

/** Lets the publisher's promise chains settle (no wall-clock wait: only queued callbacks run). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function publisher(store: MemoryStore, transport: FakeTransport) {
  return new OutboxPublisher(store, transport, new TestClock(), pino({ level: 'silent' }), { pollMs: 600_000, leaseMs: 5000 });
}

/** A started publisher after its first pass, and the number of claims that pass made. */
async function started() {
  const store = new MemoryStore();
  const transport = new FakeTransport();
  const outbox = publisher(store, transport);
  outbox.start();
  await settle();
  return { store, transport, outbox, claimsAtStart: store.claims };
}

describe('OutboxPublisher: events sent right after their commit', () => {
  it('claims rows at insert only while it can send them (started and connected)', async () => {
    const transport = new FakeTransport();
    const outbox = publisher(new MemoryStore(), transport);
    assert.equal(outbox.claimMs(), undefined, 'stopped: rows are left to a pass');
    outbox.start();
    assert.equal(outbox.claimMs(), 5000);
    transport.current = 'disconnected';
    assert.equal(outbox.claimMs(), undefined, 'bus down: rows are left to a pass');
    await outbox.stop();
  });

  it('sends a commit\'s claimed rows from memory, with no claim query, then deletes them', async () => {
    const { store, transport, outbox, claimsAtStart } = await started();
    outbox.committed([row(7, 6000), row(8, 6000)]);
    await settle();
    assert.deepEqual(transport.published.map((m) => m.id), ['curfew-1000-7', 'curfew-1000-8'], 'in commit order, with the de-duplication id');
    assert.deepEqual(store.deleted, [7, 8]);
    assert.equal(store.claims, claimsAtStart, 'no outbox query between the commit and the publish');
    await outbox.stop();
  });

  it('gives refused rows back to the outbox at once and wakes a pass (at least once)', async () => {
    const { store, transport, outbox, claimsAtStart } = await started();
    transport.refuse = true;
    outbox.committed([row(9, 6000)]);
    await settle();
    await settle();
    assert.deepEqual(store.released, [9], 'released, not left claimed until the lease lapses');
    assert.deepEqual(store.deleted, []);
    assert.ok(store.claims > claimsAtStart, 'a pass was woken to retry');
    await outbox.stop();
  });

  it('leaves unclaimed rows (recorded while the bus was down) to a pass', async () => {
    const { store, transport, outbox, claimsAtStart } = await started();
    store.waiting = [row(10, null)];
    outbox.committed([row(10, null)]);
    await settle();
    assert.ok(store.claims > claimsAtStart, 'woke a pass');
    assert.deepEqual(transport.published.map((m) => m.id), ['curfew-1000-10'], 'sent once, by the pass');
    await outbox.stop();
  });
});
