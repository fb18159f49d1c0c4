import { Writable } from 'node:stream';
import type { Clock } from '../src/clock.js';
import type { Storage } from '../src/db/database.js';
import { AlertMonitor } from '../src/alerts/monitor.js';
import { JobAlertsRepository } from '../src/db/repositories/job-alerts.js';
import { JobControlsRepository } from '../src/db/repositories/job-controls.js';
import { JobLeasesRepository } from '../src/db/repositories/job-leases.js';
import { InProcessScheduler } from '../src/jobs/scheduler.js';
import { DefaultJobsService } from '../src/jobs/service.js';
import { createLogger } from '../src/logger.js';
import { RecordingLedger, type AlertRecorder } from './alerts.js';
import { simDefinitions, type BodyRecorder } from './jobs.js';
import { Owner, type World } from './world.js';

class Sink extends Writable {
  override _write(_chunk: Buffer, _encoding: string, callback: () => void): void {
    callback();
  }
}

/** Every method call goes through World.track: counted, dropped after a crash, held during a pause. */
function guard<T extends object>(target: T, world: World, owner: Owner): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => world.track(owner, () => (value as (...a: unknown[]) => Promise<unknown>).apply(object, args));
    },
  });
}

/**
 * One incarnation of a curfew process: the real DefaultJobsService and
 * InProcessScheduler over guarded repositories, with a virtual clock (world
 * time plus this instance's skew) and virtual timers. The lease repository's
 * clock, standing for the shared database's, is world time without skew.
 */
export class SimInstance {
  readonly owner: Owner;
  readonly service: DefaultJobsService;
  readonly scheduler: InProcessScheduler;
  skewMs: number;
  private readonly recorder: BodyRecorder;

  readonly monitor: AlertMonitor;

  constructor(
    readonly id: string,
    private readonly world: World,
    storage: Storage,
    options: { seed: number; recorder: BodyRecorder; alerts: AlertRecorder; skewMs: number; alertIntervalMs: number },
  ) {
    const { seed, recorder } = options;
    this.recorder = recorder;
    this.skewMs = options.skewMs;
    this.owner = new Owner(id);
    const clock: Clock = { now: () => world.now + this.skewMs };
    const timers = world.timersFor(this.owner);
    const ledger = guard(new RecordingLedger(storage, options.alerts), world, this.owner);
    // The database's clock is world time, shared by every instance and never skewed: leases are judged on it.
    const leases = guard(new JobLeasesRepository(storage, { now: () => world.now }), world, this.owner);
    const logger = createLogger({ level: 'silent', destination: new Sink() });
    this.service = new DefaultJobsService({
      ledger,
      leases,
      controls: guard(new JobControlsRepository(storage), world, this.owner),
      clock,
      logger,
      instanceId: id,
      definitions: simDefinitions({ seed, owner: this.owner, timers, recorder, ledger }),
      timers,
    });
    this.scheduler = new InProcessScheduler({ service: this.service, clock, logger, timers });
    // The real alert monitor on its own loop (not after every run: a full status() per finished run would
    // multiply the simulation's queries several times over).
    const service = this.service;
    this.monitor = new AlertMonitor({
      clock,
      logger,
      status: options.alerts.watch(id, clock.now(), clock.now, () => service.status()),
      store: guard(new JobAlertsRepository(storage), world, this.owner),
      sinks: [options.alerts.sink()],
      instanceId: id,
      intervalMs: options.alertIntervalMs,
      timers,
    });
  }

  get up(): boolean {
    return this.owner.state === 'up';
  }

  start(): void {
    this.scheduler.start();
    this.monitor.start();
  }

  /** kill -9: nothing of this incarnation runs again; its leases are left to expire. */
  crash(): void {
    this.recorder.stop(this.owner, true);
    this.owner.crash();
  }

  pause(): void {
    this.recorder.stop(this.owner, false);
    this.owner.pause();
  }

  resume(): void {
    this.recorder.resume(this.owner);
    this.owner.resume();
  }
}
