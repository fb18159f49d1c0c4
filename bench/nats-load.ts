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

/** The `subject` that sends each request to its own reply subject (no responder). */
export const LOOPBACK = '';

/** One inbox subscription answering any number of phases, one phase at a time. */
export class NatsLoad {
  private readonly inbox = createInbox();
  private readonly subscription: Subscription;
  private onReply: (index: number, length: number) => void = () => undefined;

  /** @param pumpOnReply open loop: also send what has come due when an answer arrives (see openLoop). */
  constructor(
    private readonly nc: NatsConnection,
    private readonly pumpOnReply = true,
  ) {
    const prefixLength = this.inbox.length + 1;
    this.subscription = nc.subscribe(`${this.inbox}.*`, {
      callback: (_error, msg) => this.onReply(Number(msg.subject.slice(prefixLength)), msg.data.length),
    });
  }

  /**
   * Sends `total` requests at `rate`/s, waits for the answers (at most
   * `timeoutMs` after the last send) and reports. `expectedLength` is the
   * answer's size in bytes. `subject` LOOPBACK publishes each request to its
   * own reply subject: the round trip through nats-server with no responder
   * (the floor under every responder's figures; answers are the request).
   *
   * Sends happen whenever this process's loop runs: on a 1 ms timer (Node's
   * finest), and, with `pumpOnReply` (the default), also after each answer,
   * sending whatever has come due. A timer alone fires every 1–2 ms and sends
   * a batch of rate/1000–rate/500 requests, the first of them up to ~2 ms
   * behind their schedule, and that lag counts in every latency (it is this
   * generator's, not the responder's); answers arrive every few tens of
   * microseconds at these rates, so sending on them spreads the requests
   * close to their schedule at no cost. Neither waits for an answer: the
   * offered rate stays whatever the responder does.
   */
  openLoop(subject: string, payload: Uint8Array, expectedLength: number, rate: number, total: number, timeoutMs = 5000): Promise<LoadResult> {
    const phase = new Phase(total, expectedLength);
    const lag = new Float64Array(total);
    const interval = 1000 / rate;
    return new Promise((resolve) => {
      const start = performance.now() + 2;
      let deadline: NodeJS.Timeout | undefined;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(deadline);
        if (this.onReply === onReply) this.onReply = () => undefined;
        resolve(phase.result(start, lag));
      };
      const pump = () => {
        const now = performance.now();
        const due = Math.min(total, Math.floor((now - start) / interval) + 1);
        while (phase.next < due) {
          const at = start + phase.next * interval;
          lag[phase.next] = now - at;
          this.send(phase, subject, payload, at);
        }
      };
      const onReply = (index: number, length: number) => {
        if (phase.answered(index, length) && phase.received === total) finish();
        else if (this.pumpOnReply && phase.next < total) pump();
      };
      this.onReply = onReply;
      // The last request may be sent from onReply and answered before this
      // timer runs again: then the phase is over, and a deadline set now would
      // fire 5 s later in the middle of another phase and take its answers.
      const tick = () => {
        if (finished) return;
        pump();
        if (phase.next < total) setTimeout(tick, 1);
        else deadline = setTimeout(finish, timeoutMs);
      };
      setTimeout(tick, Math.max(0, start - performance.now()));
    });
  }

  /** Keeps `inFlight` requests outstanding for `seconds`; latency from each send. */
  closedLoop(subject: string, payload: Uint8Array, expectedLength: number, inFlight: number, seconds: number, timeoutMs = 5000): Promise<LoadResult> {
    // Room for 200,000 answers a second (a loopback NATS round trip here peaks near 45,000).
    const phase = new Phase(Math.ceil(seconds * 200_000), expectedLength);
    return new Promise((resolve) => {
      const start = performance.now();
      const end = start + seconds * 1000;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(deadline);
        this.onReply = () => undefined;
        resolve(phase.result(start));
      };
      this.onReply = (index, length) => {
        if (!phase.answered(index, length)) return;
        const now = performance.now();
        if (now < end && phase.next < phase.capacity) this.send(phase, subject, payload, now);
        else if (phase.received === phase.next) finish();
      };
      for (let k = 0; k < inFlight; k += 1) this.send(phase, subject, payload, performance.now());
      const deadline = setTimeout(finish, seconds * 1000 + timeoutMs);
    });
  }

  private send(phase: Phase, subject: string, payload: Uint8Array, from: number): void {
    phase.from[phase.next] = from;
    const reply = `${this.inbox}.${phase.next}`;
    this.nc.publish(subject === LOOPBACK ? reply : subject, payload, { reply });
    phase.next += 1;
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}

/** One phase's requests: when each latency counts from, when it was answered. */
class Phase {
  /** Per request: the time its latency counts from (scheduled or actual send). */
  readonly from: Float64Array;
  private readonly latency: Float64Array;
  next = 0;
  received = 0;
  private unexpected = 0;

  constructor(
    readonly capacity: number,
    private readonly expectedLength: number,
  ) {
    this.from = new Float64Array(capacity);
    this.latency = new Float64Array(capacity).fill(Number.NaN);
  }

  /** Records an answer; false for one that is not of this phase or came twice. */
  answered(index: number, length: number): boolean {
    if (!(index >= 0 && index < this.next) || !Number.isNaN(this.latency[index] as number)) return false;
    this.latency[index] = performance.now() - (this.from[index] as number);
    if (length !== this.expectedLength) this.unexpected += 1;
    this.received += 1;
    return true;
  }

  /** `lag`: open loop only, each request's send delay behind its schedule. */
  result(start: number, lag?: Float64Array): LoadResult {
    // An unanswered request counts as infinitely late, so losses cannot flatter the tail.
    const answered = this.latency.subarray(0, this.next).map((value) => (Number.isNaN(value) ? Number.POSITIVE_INFINITY : value)).sort();
    const lags = lag ? Float64Array.from(lag.subarray(0, this.next)).sort() : undefined;
    return {
      rps: this.received / ((performance.now() - start) / 1000),
      sent: this.next,
      received: this.received,
      unexpected: this.unexpected,
      p50: percentile(answered, 50),
      p99: percentile(answered, 99),
      p999: percentile(answered, 99.9),
      max: answered.length > 0 ? (answered[answered.length - 1] as number) : Number.NaN,
      sendLagP99: lags ? percentile(lags, 99) : Number.NaN,
    };
  }
}
