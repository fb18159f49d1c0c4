// The SMTP sink for bench/sequences.ts, in its own process: a real smtp-server
// on loopback that accepts everything and counts messages per Message-ID and
// per (recipient, subject). `GET /stats` on the side HTTP port answers
// {total, duplicates}; `POST /reset` clears the counts. Prints
// `READY <smtp url> <stats url>`; stops on SIGTERM.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

const seen = new Map<string, number>();
let total = 0;
let duplicates = 0;

const smtp = new SMTPServer({
  disabledCommands: ['AUTH', 'STARTTLS'],
  logger: false,
  maxClients: 200,
  onData(stream, session, callback) {
    let head = '';
    stream.on('data', (chunk: Buffer) => {
      if (head.length < 4096) head += chunk.toString('latin1');
    });
    stream.on('end', () => {
      const unfolded = (head.split('\r\n\r\n')[0] ?? '').replace(/\r\n[ \t]+/g, ' ');
      const subject = /^Subject: (.*)$/im.exec(unfolded)?.[1] ?? '';
      const key = `${session.envelope.rcptTo.map((a) => a.address).join(',')}|${subject}`;
      const count = (seen.get(key) ?? 0) + 1;
      seen.set(key, count);
      total += 1;
      if (count > 1) duplicates += 1;
      callback();
    });
  },
});
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
const stats = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/reset') {
    seen.clear();
    total = 0;
    duplicates = 0;
  }
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ total, duplicates }));
});
await new Promise<void>((resolve) => stats.listen(0, '127.0.0.1', () => resolve()));
process.once('SIGTERM', () => {
  smtp.close(() => stats.close(() => process.exit(0)));
});
process.stdout.write(`READY smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port} http://127.0.0.1:${(stats.address() as AddressInfo).port}\n`);
