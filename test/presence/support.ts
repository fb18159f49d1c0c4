import { WebSocket } from 'ws';
import type { TestApp } from '../helpers/app.js';
import { createUser, loggedInClient } from '../auth/support.js';
import type { HttpClient } from '../helpers/http.js';

export interface PresenceMessage {
  readonly type: string;
  readonly online?: number[];
  readonly offline?: number[];
  readonly user_id?: number;
}

/** A real WebSocket client on loopback that records every message it receives. */
export class Tab {
  readonly messages: PresenceMessage[] = [];
  closed = false;
  /** The close code the socket ended with (4001: the session was revoked). */
  closeCode: number | undefined;
  private waiters: Array<() => void> = [];

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as PresenceMessage);
      this.wake();
    });
    socket.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      this.wake();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves with the first message (from `from` on) that matches, or rejects after `timeoutMs`. */
  async waitFor(match: (message: PresenceMessage) => boolean, what: string, from = 0, timeoutMs = 5000): Promise<PresenceMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Closes and waits for the close handshake. */
  async close(): Promise<void> {
    if (this.closed) return;
    const done = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close();
    await done;
  }
}

export const sawOnline = (id: number) => (message: PresenceMessage) => message.type === 'presence' && (message.online ?? []).includes(id);
export const sawOffline = (id: number) => (message: PresenceMessage) => message.type === 'presence' && (message.offline ?? []).includes(id);

/** Opens `/ws` with the client's cookies; resolves once the server said hello (the connection is recorded). */
export async function openTab(baseUrl: string, http: HttpClient, headers: Record<string, string> = {}): Promise<Tab> {
  const cookie = [...http.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  const socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/ws', { headers: { cookie, ...headers } });
  const tab = new Tab(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
    socket.once('open', () => resolve());
  });
  await tab.waitFor((message) => message.type === 'hello', 'hello');
  return tab;
}

/** The HTTP status an upgrade attempt is answered with (101 when it succeeds). */
export async function upgradeStatus(baseUrl: string, headers: Record<string, string>): Promise<number> {
  const socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/ws', { headers });
  return new Promise<number>((resolve, reject) => {
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      resolve(101);
      socket.close();
    });
    socket.once('error', reject);
  });
}

/** An active user and a logged-in HTTP client for them. */
export async function userWithClient(t: TestApp, name: string): Promise<{ id: number; http: HttpClient }> {
  const email = `${name}@example.test`;
  const row = await createUser(t, { email, password: 'correct horse battery' });
  const http = await loggedInClient(t, email, 'correct horse battery');
  return { id: Number(row.id), http };
}

/** Polls `check` until it returns true (async effects on other connections), or fails after `timeoutMs`: the shared helper. */
export { eventually } from '../helpers/processes.js';
