// A NATS request load generator for bench/verify.ts that is not itself the
// bottleneck. nats.js `request()` builds two Error objects (stack traces) and
// a timer per call: profiled at 64 in flight, the bench client spent ~30 % of
// its CPU in them and ~16 % in GC, and it saturated before the responder did
// (the responder was ~80 % idle). Here every request is a plain publish with
// a reply subject on one wildcard inbox, `<inbox>.<index>`; replies are
// matched by index into preallocated arrays, so there is no promise, timer
// or error per request.
//
// Two shapes:
//   openLoop    a fixed total sent at a fixed rate whatever the answers do
//               (arrivals from many independent services); latency counted
//               from each request's scheduled time, so a stalled generator
//               or responder shows up in the tail instead of hiding it
//               (no coordinated omission)
//   closedLoop  K requests in flight, each sent when one returns (saturation
//               throughput; its latency is mostly K / rate queueing)
import { createInbox, type NatsConnection, type Subscription } from 'nats';

export interface LoadResult {
  /** Answers per second over the phase. */
  readonly rps: number;
  /** Requests sent and answers received (within the timeout), and answers whose length was not the expected one. */
  readonly sent: number;
  readonly received: number;
  readonly unexpected: number;
  /** Latency from the scheduled send (open loop) or the send (closed loop), ms. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** Open loop only: p99 of the time from the scheduled send to the actual send (the generator's own lag), ms. */
  readonly sendLagP99: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** One inbox subscription answering any number of phases, one phase at a time. */
export class NatsLoad {
  private readonly inbox = createInbox();
  private readonly subscription: Subscription;
  private onReply: (index: number, length: number) => void = () => undefined;

  constructor(private readonly nc: NatsConnection) {
    const prefixLength = this.inbox.length + 1;
    this.subscription = nc.subscribe(`${this.inbox}.*`, {
      callback: (_error, msg) => this.onReply(Number(msg.subject.slice(prefixLength)), msg.data.length),
    });
  }

  /**
   * Sends `total` requests at `rate`/s (in 1 ms batches: the timer's
   * granularity), waits for the answers (at most `timeoutMs` after the last
   * send) and reports. `expectedLength` is the answer's size in bytes.
   */
  openLoop(subject: string, payload: Uint8Array, expectedLength: number, rate: number, total: number, timeoutMs = 5000): Promise<LoadResult> {
    const scheduled = new Float64Array(total);
    const lag = new Float64Array(total);
    const latency = new Float64Array(total).fill(Number.NaN);
    let next = 0;
    let received = 0;
    let unexpected = 0;
    const interval = 1000 / rate;
    return new Promise((resolve) => {
      const start = performance.now() + 2;
      let finished = false;
      let deadline: NodeJS.Timeout | undefined;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(deadline);
        this.onReply = () => undefined;
        const elapsed = (performance.now() - start) / 1000;
        resolve(summarise(latency, lag, { sent: next, received, unexpected, elapsed, open: true }));
      };
      this.onReply = (index, length) => {
        if (!(index >= 0 && index < next) || !Number.isNaN(latency[index] as number)) return;
        latency[index] = performance.now() - (scheduled[index] as number);
        if (length !== expectedLength) unexpected += 1;
        received += 1;
        if (received === total) finish();
      };
      const tick = () => {
        const now = performance.now();
        const due = Math.min(total, Math.floor((now - start) / interval) + 1);
        while (next < due) {
          const at = start + next * interval;
          scheduled[next] = at;
          lag[next] = performance.now() - at;
          this.nc.publish(subject, payload, { reply: `${this.inbox}.${next}` });
          next += 1;
        }
        if (next < total) setTimeout(tick, 1);
        else deadline = setTimeout(finish, timeoutMs);
      };
      setTimeout(tick, Math.max(0, start - performance.now()));
    });
  }

  /** Keeps `inFlight` requests outstanding for `seconds`; latency from each send. */
  closedLoop(subject: string, payload: Uint8Array, expectedLength: number, inFlight: number, seconds: number, timeoutMs = 5000): Promise<LoadResult> {
    const capacity = 1 << 22;
    const sentAt = new Float64Array(capacity);
    const latency = new Float64Array(capacity).fill(Number.NaN);
    let next = 0;
    let received = 0;
    let unexpected = 0;
    return new Promise((resolve) => {
      const start = performance.now();
      const end = start + seconds * 1000;
      let finished = false;
      let deadline: NodeJS.Timeout | undefined;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(deadline);
        this.onReply = () => undefined;
        const elapsed = (performance.now() - start) / 1000;
        resolve(summarise(latency.subarray(0, next), new Float64Array(0), { sent: next, received, unexpected, elapsed, open: false }));
      };
      const send = () => {
        sentAt[next] = performance.now();
        this.nc.publish(subject, payload, { reply: `${this.inbox}.${next}` });
        next += 1;
      };
      this.onReply = (index, length) => {
        if (!(index >= 0 && index < next) || !Number.isNaN(latency[index] as number)) return;
        const now = performance.now();
        latency[index] = now - (sentAt[index] as number);
        if (length !== expectedLength) unexpected += 1;
        received += 1;
        if (now < end && next < capacity) send();
        else if (received === next) finish();
      };
      for (let k = 0; k < inFlight; k += 1) send();
      deadline = setTimeout(finish, seconds * 1000 + timeoutMs);
    });
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}

function summarise(latency: Float64Array, lag: Float64Array, counts: { sent: number; received: number; unexpected: number; elapsed: number; open: boolean }): LoadResult {
  // An unanswered request counts as infinitely late, so losses cannot flatter the tail.
  const answered = latency.map((value) => (Number.isNaN(value) ? Number.POSITIVE_INFINITY : value)).sort();
  const lags = Float64Array.from(lag).sort();
  return {
    rps: counts.received / counts.elapsed,
    sent: counts.sent,
    received: counts.received,
    unexpected: counts.unexpected,
    p50: percentile(answered, 50),
    p99: percentile(answered, 99),
    p999: percentile(answered, 99.9),
    max: answered.length > 0 ? (answered[answered.length - 1] as number) : Number.NaN,
    sendLagP99: counts.open ? percentile(lags, 99) : Number.NaN,
  };
}
