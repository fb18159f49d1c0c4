// The subset of the `ws` package's API that curfew and its tests use.
// `ws` ships no types and @types/ws is not a dependency; @fastify/websocket
// refers to `ws` for its socket type, so this declaration serves both.
declare module 'ws' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage } from 'node:http';

  export type RawData = Buffer | ArrayBuffer | Buffer[];

  export interface ClientOptions {
    headers?: Record<string, string>;
    handshakeTimeout?: number;
    perMessageDeflate?: boolean;
    origin?: string;
  }

  export interface ServerOptions {
    maxPayload?: number;
    perMessageDeflate?: boolean;
    path?: string;
  }

  export class WebSocket extends EventEmitter {
    static readonly CONNECTING: 0;
    static readonly OPEN: 1;
    static readonly CLOSING: 2;
    static readonly CLOSED: 3;
    readonly CONNECTING: 0;
    readonly OPEN: 1;
    readonly CLOSING: 2;
    readonly CLOSED: 3;
    readonly readyState: 0 | 1 | 2 | 3;
    constructor(address: string | URL, options?: ClientOptions);
    send(data: string | Buffer, options?: { binary?: boolean }, callback?: (error?: Error) => void): void;
    ping(data?: Buffer): void;
    close(code?: number, reason?: string): void;
    terminate(): void;
    /** ws extension: stop answering pings automatically is not possible; pausing stops reading. */
    pause(): void;
    resume(): void;
    on(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this;
    on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'unexpected-response', listener: (request: unknown, response: IncomingMessage) => void): this;
    on(event: 'open' | 'ping' | 'pong', listener: (...args: unknown[]) => void): this;
    once(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this;
    once(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    once(event: 'error', listener: (error: Error) => void): this;
    once(event: 'unexpected-response', listener: (request: unknown, response: IncomingMessage) => void): this;
    once(event: 'open' | 'ping' | 'pong', listener: (...args: unknown[]) => void): this;
  }

  export default WebSocket;
}
