import type { FastifyInstance } from 'fastify';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';

/** What every route module receives: the frozen config and the domain services. */
export interface HttpContext {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly services: Services;
}

/** A route group: one file under routes/, registering its routes on the instance. */
export type RouteModule = (app: FastifyInstance, ctx: HttpContext) => void | Promise<void>;
