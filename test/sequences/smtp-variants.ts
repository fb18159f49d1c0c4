import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** How the test SMTP server answers. */
export type Behaviour =
  /** 250 for everything. */
  | { kind: 'accept' }
  /** The first `times` DATA replies per recipient are `code` (421 or 451), then 250. */
  | { kind: 'tempfail'; code: 421 | 451; times: number }
  /** 550 to RCPT TO for `recipient`, 250 for everyone else. */
  | { kind: 'reject'; recipient: string }
  /** Reads the whole message, then drops the connection before the final reply. */
  | { kind: 'drop-after-data' }
  /** Reads the whole message and never answers (the client times out). */
  | { kind: 'stall' };

export interface Received {
  readonly to: string;
  readonly subject: string;
  readonly messageId: string;
  readonly headers: string;
  readonly raw: string;
  /** False when the server did not answer 250 (dropped, stalled, refused). */
  readonly accepted: boolean;
}

function header(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const match = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(unfolded);
  return match?.[1]?.trim() ?? '';
}

/**
 * A real smtp-server on loopback whose answers follow a Behaviour that can be
 * changed between ticks. Every message whose data arrived is recorded (with
 * whether it was accepted), so tests count what reached the server per
 * (recipient, subject): a message the server read counts, answered or not.
 */
export class VariantSmtpServer {
  readonly received: Received[] = [];
  behaviour: Behaviour = { kind: 'accept' };
  private server: SMTPServer | undefined;
  private port = 0;
  private readonly tempfails = new Map<string, number>();
  private readonly stalled: (() => void)[] = [];

  async start(): Promise<this> {
    const server = new SMTPServer({
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      size: 10 * 1024 * 1024,
      onRcptTo: (address, _session, callback) => {
        const b = this.behaviour;
        if (b.kind === 'reject' && address.address === b.recipient) {
          const error = Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 });
          callback(error);
          return;
        }
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => this.onMessage(Buffer.concat(chunks).toString('utf8'), session, callback));
      },
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    return this;
  }

  private onMessage(raw: string, session: SMTPServerSession, callback: (error?: Error | null) => void): void {
    const to = session.envelope.rcptTo.map((address) => address.address).join(',');
    const b = this.behaviour;
    const record = (accepted: boolean) =>
      this.received.push({ to, subject: header(raw, 'Subject'), messageId: header(raw, 'Message-ID'), headers: (raw.split(/\r?\n\r?\n/)[0] ?? '').replace(/\r?\n[ \t]+/g, ' '), raw, accepted });
    if (b.kind === 'tempfail') {
      const key = `${to}|${header(raw, 'Subject')}`;
      const seen = this.tempfails.get(key) ?? 0;
      if (seen < b.times) {
        this.tempfails.set(key, seen + 1);
        callback(Object.assign(new Error('4.3.0 try again later'), { responseCode: b.code }));
        return;
      }
    }
    if (b.kind === 'drop-after-data') {
      record(false);
      this.socketOf(session)?.destroy();
      return;
    }
    if (b.kind === 'stall') {
      record(false);
      this.stalled.push(() => this.socketOf(session)?.destroy());
      return;
    }
    record(true);
    callback();
  }

  /** smtp-server keeps its connections in a set; a test may cut one (no public API for that). */
  private socketOf(session: SMTPServerSession): Socket | undefined {
    const connections = (this.server as unknown as { connections: Set<{ id: string; _socket: Socket }> }).connections;
    for (const connection of connections) if (connection.id === session.id) return connection._socket;
    return undefined;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Messages that reached the server, per `recipient|subject`. */
  perRecipientAndSubject(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const message of this.received) {
      const key = `${message.to}|${message.subject}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  /** The largest number of messages any (recipient, subject) received. */
  maxPerRecipientAndSubject(): number {
    return Math.max(0, ...this.perRecipientAndSubject().values());
  }

  async stop(): Promise<void> {
    for (const release of this.stalled.splice(0)) release();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
