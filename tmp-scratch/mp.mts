import net from 'node:net';
import { startTestApp } from '../test/helpers/app.ts';
const t = await startTestApp();
const port = new URL(t.url).port;
function raw(req: string): Promise<string> {
  return new Promise((resolve) => { const c = net.connect(Number(port), '127.0.0.1', () => c.end(req)); let out=''; c.on('data', d => out += d); c.on('close', () => resolve(out)); setTimeout(() => { resolve(out + ' [timeout]'); c.destroy(); }, 3000); c.on('error', () => resolve(out + ' [err]')); });
}
const cases: Record<string,string> = {
  noBoundary: 'POST /api/v1/login/ HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
  truncated: 'POST /api/v1/login/ HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 40\r\nConnection: close\r\n\r\n--XX\r\nContent-Disposition: form-data; name="e',
  truncated2: 'POST /api/v1/register/ HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 60\r\nConnection: close\r\n\r\n--XX\r\nContent-Disposition: form-data; name="email"\r\n\r\nab',
  garbage: 'POST /api/v1/register/ HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 10\r\nConnection: close\r\n\r\nzzzzzzzzzz',
  file: 'POST /api/v1/register/ HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 83\r\nConnection: close\r\n\r\n--XX\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\nab\r\n--XX--\r\n',
  nul: 'POST /api/v1/login/ HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 45\r\nConnection: close\r\n\r\n{"email":"a\\u0000b@example.com","password":"x"}',
  upg: 'POST /health HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n',
};
const fix = (r: string) => { const [h, b = ''] = r.split('\r\n\r\n'); return h.replace(/Content-Length: \d+/, `Content-Length: ${Buffer.byteLength(b) + (r.includes('truncated') ? 10 : 0)}`) + '\r\n\r\n' + b; };
for (const [name, req0] of Object.entries(cases)) { const req = name.startsWith('truncated') ? req0 : fix(req0); console.log(name, JSON.stringify((await raw(req)).split('\r\n\r\n').map(s=>s.slice(0,300)))); }
process.on('exit', () => console.log(t.logs.lines.filter(l => /"level":(40|50)/.test(l)).map(l=>l.slice(0,400)).join('\n')));
await t.stop();
