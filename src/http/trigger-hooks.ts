import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestAsyncHookHandler,
  preValidationAsyncHookHandler,
} from 'fastify';
import type { CallerInfo } from '../jobs/types.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Authenticated, GuardRefusal, TriggerGuard } from '../triggers/guard.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../triggers/signature.js';
import { errorAnswer, sendErrorAnswer } from './error-answer.js';
import { throttleRoute } from '../triggers/throttle-key.js';

const EMPTY = Buffer.alloc(0);
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

/**
 * Makes `scope` (an encapsulated plugin holding trigger routes) keep each
 * request body as raw bytes, whatever its content type, so the signature's
 * body hash covers exactly what was sent. Trigger routes take no body
 * parameters: the parsed body is always undefined. Fastify's bodyLimit
 * still applies.
 */
export function keepRawBodies(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    rawBodies.set(request, body as Buffer);
    done(null, undefined);
  });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function queryToken(request: FastifyRequest): string | undefined {
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  if (token === undefined) return undefined;
  return typeof token === 'string' ? token : '';
}

/** The guard's view of a Fastify request; `job` names the job a per-job route runs. */
export function guardedRequest(request: FastifyRequest, job?: (request: FastifyRequest) => string | undefined) {
  return {
    method: request.method,
    url: request.url,
    header: (name: string) => header(request, name),
    queryToken: queryToken(request),
    body: rawBodies.get(request) ?? EMPTY,
    ip: request.ip,
    // Computed only when the throttle asks: refusals never need it. Keyed by the route, not the raw target (issue 16 #11).
    get route() {
      return throttleRoute(request.routeOptions.url ?? request.url, request.params);
    },
    get job() {
      return job?.(request);
    },
  };
}

/** Requests whose credential was already checked in onRequest. */
const authenticated = new WeakMap<FastifyRequest, Authenticated>();

/**
 * The Fastify hooks of the trigger routes, around the domain trigger check
 * (`TriggerGuard`). `triggerCredentialCheck` (onRequest) refuses what it can
 * without the body (not configured 503, allow-list 403, wrong or missing
 * unsigned credential 401), so a flood of wrong secrets is answered before
 * any body parsing and without any database write (most of these never get
 * here: the early answers refuse them first, with the same check).
 * `triggerAdmission` (preValidation) finishes: it verifies signed requests
 * (which need the body), then claims the signature and counts the throttle.
 * `throttled` defaults to true.
 */
export function triggerHooks(
  services: { readonly triggers: TriggerGuard; readonly metrics: Metrics },
  options: {
    readonly throttled?: boolean;
    /** The job a per-job route runs, for X-Curfew-Slot checks (default: none, /cron/run and /cron/status). */
    readonly job?: (request: FastifyRequest) => string | undefined;
  } = {},
): { onRequest: onRequestAsyncHookHandler; preValidation: preValidationAsyncHookHandler } {
  const throttled = options.throttled ?? true;
  return {
    onRequest: async function triggerCredentialCheck(request, reply) {
      if (request.headers[SIGNATURE_HEADER] !== undefined || request.headers[TIMESTAMP_HEADER] !== undefined) return;
      const result = services.triggers.authenticate(guardedRequest(request));
      if (!result.ok) return sendRefusal(services, reply, result);
      authenticated.set(request, result);
    },
    preValidation: async function triggerAdmission(request, reply) {
      const pre = authenticated.get(request);
      const decision = await services.triggers.admit(guardedRequest(request, options.job), { throttled, ...(pre ? { authenticated: pre } : {}) });
      if (decision.ok) return;
      return sendRefusal(services, reply, decision);
    },
  };
}

/**
 * Answers a refusal of the domain trigger check with the shared encoder
 * (the envelope, Retry-After where due; the same bytes as the early
 * refusal) and counts it. The access line carries its code.
 */
export function sendRefusal(services: { readonly metrics: Metrics }, reply: FastifyReply, refusal: GuardRefusal): FastifyReply {
  services.metrics.triggerRejections.inc({ code: refusal.code });
  return sendErrorAnswer(reply, errorAnswer(refusal.status, refusal.code, refusal.message, refusal.headers));
}

/** Who called, for the run ledger (IP, user agent, request id; never a credential). */
export function callerInfo(request: FastifyRequest): CallerInfo {
  const userAgent = header(request, 'user-agent');
  return { ip: request.ip, requestId: request.id, ...(userAgent === undefined ? {} : { userAgent: userAgent.slice(0, 300) }) };
}
