import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NONCE_HEADER, SIGNATURE_HEADER, SIGNATURE_WINDOW_SECONDS, SLOT_HEADER, TIMESTAMP_HEADER, signRequest } from '../../src/triggers/signature.js';
import { safeEqual } from '../../src/tokens/secrets.js';

/**
 * A small real HTTP server on loopback that answers like curfew's trigger
 * routes (issue 3) and the seeds' routes, and verifies every credential mode
 * with src/triggers/signature.ts. Used until (and beside) the real routes:
 * it lets a test force a 409, 429, 5xx sequence or a hang.
 */
export interface RecordedCall {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly authenticated: boolean;
}

export interface ForcedAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Never answer (for timeouts). */
  readonly hang?: boolean;
}

export class FakeCurfew {
  readonly calls: RecordedCall[] = [];
  /** Slots the slot route answered, in order. */
  readonly slotsHandedOut: string[] = [];
  /** Answers to give to authenticated trigger calls, in order, before the normal answer. */
  readonly forced: ForcedAnswer[] = [];
  /** Body of a normal 2xx answer for /cron/jobs/<name>/run. */
  jobStatus: 'ok' | 'failed' = 'ok';
  /** Seed 000's route demands a CSRF cookie + matching X-CSRFToken when true. */
  requireCsrf = false;
  allowQueryToken = true;
  private readonly usedSignatures = new Set<string>();
  private readonly hanging: ServerResponse[] = [];
  private nextRunId = 100;

  private constructor(
    private readonly server: Server,
    readonly secret: string,
    readonly url: string,
  ) {}

  static async start(secret: string): Promise<FakeCurfew> {
    let fake: FakeCurfew | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => fake?.handle(request, response, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeCurfew(server, secret, `http://127.0.0.1:${port}`);
    return fake;
  }

  /** Forgets calls, forced answers, seen signatures and switches. */
  reset(): void {
    this.calls.length = 0;
    this.slotsHandedOut.length = 0;
    this.forced.length = 0;
    this.usedSignatures.clear();
    this.jobStatus = 'ok';
    this.requireCsrf = false;
  }

  /** Calls that reached a trigger route (not the CSRF token route). */
  triggerCalls(): RecordedCall[] {
    return this.calls.filter((call) => !call.url.startsWith('/api/cronjob/csrf-token') && !/\/slot\/?$/.test(call.url));
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authenticate(request: IncomingMessage, body: Buffer): boolean {
    const headers = request.headers;
    const signature = headers[SIGNATURE_HEADER];
    const timestamp = headers[TIMESTAMP_HEADER];
    if (typeof signature === 'string' && typeof timestamp === 'string') {
      if (Math.abs(Date.now() / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS) return false;
      const nonce = headers[NONCE_HEADER];
      if (typeof nonce !== 'string' || this.usedSignatures.has(nonce)) return false;
      const slot = headers[SLOT_HEADER];
      const expected = signRequest(this.secret, request.method ?? 'GET', request.url ?? '/', timestamp, body, { nonce, slot: typeof slot === 'string' ? slot : undefined });
      if (!safeEqual(signature, expected)) return false;
      this.usedSignatures.add(nonce);
      return true;
    }
    const authorization = headers.authorization;
    if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) return safeEqual(authorization.slice(7), this.secret);
    const header = headers['x-cron-secret'];
    if (typeof header === 'string') return safeEqual(header, this.secret);
    const token = new URL(request.url ?? '/', 'http://x').searchParams.get('token');
    if (token !== null && this.allowQueryToken) return safeEqual(token, this.secret);
    return false;
  }

  private send(response: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  }

  private handle(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://x').pathname.replace(/\/$/, '');
    if (method === 'GET' && path === '/api/cronjob/csrf-token') {
      this.calls.push({ method, url: request.url ?? '', headers: request.headers, authenticated: false });
      response.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'csrftoken=csrf-abc123; Path=/; SameSite=Lax' });
      response.end(JSON.stringify({ ok: true }));
      return;
    }
    if (method === 'GET' && /^\/cron\/jobs\/[a-z0-9-]+\/slot$/.test(path)) {
      // curfew's slot route: the current minute, as an every-minute job would run it.
      const authenticated = this.authenticate(request, body);
      this.calls.push({ method, url: request.url ?? '', headers: request.headers, authenticated });
      if (!authenticated) return this.send(response, 401, { error: { code: 'CRON_UNAUTHORIZED', message: 'A valid cron credential is required.' } });
      const slot = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
      this.slotsHandedOut.push(slot);
      return this.send(response, 200, { job: path.split('/')[3], slot });
    }
    const known =
      path === '/cron/run' ||
      /^\/cron\/jobs\/[a-z0-9-]+\/run$/.test(path) ||
      (method === 'DELETE' && path === '/api/cronjob/cron/check-inactive-users') ||
      (method === 'POST' && path === '/api/v1/auth/cron/flush-tokens');
    const authenticated = known && this.authenticate(request, body);
    this.calls.push({ method, url: request.url ?? '', headers: request.headers, authenticated });
    if (!known) return this.send(response, 404, { error: { code: 'ROUTE_NOT_FOUND', message: `No route ${method} ${path}.` } });
    if (!authenticated) return this.send(response, 401, { error: { code: 'UNAUTHENTICATED', message: 'A valid cron credential is required.' } });
    if (this.requireCsrf) {
      const cookie = request.headers.cookie ?? '';
      if (!cookie.includes('csrftoken=csrf-abc123') || request.headers['x-csrftoken'] !== 'csrf-abc123') {
        return this.send(response, 403, { error: { code: 'CSRF_FAILED', message: 'CSRF token missing.' } });
      }
    }
    const forced = this.forced.shift();
    if (forced?.hang) {
      this.hanging.push(response);
      return;
    }
    if (forced) return this.send(response, forced.status, forced.body ?? {}, forced.headers);
    const id = this.nextRunId++;
    if (path === '/api/v1/auth/cron/flush-tokens') return this.send(response, 200, { status: 'success', message: 'Expired tokens flushed successfully.' });
    if (path === '/api/cronjob/cron/check-inactive-users') return this.send(response, 200, { ok: true });
    if (path === '/cron/run') return this.send(response, 200, { ok: true, message: 'Schedule executed.', data: { cron_run_id: id, duration_ms: 3, runs: [] } });
    const job = path.split('/')[3];
    return this.send(response, 200, { ok: this.jobStatus === 'ok', data: { id, job, status: this.jobStatus, counts: {}, ...(this.jobStatus === 'failed' ? { error: 'boom' } : {}) } });
  }
}
