// The same service with the Express-style middleware on plain node:http
// (drop it into Express unchanged: `app.use(verifyMiddleware(verifier))`).
//
//   CURFEW_URL=http://127.0.0.1:8000 node examples/verify/http-app.mjs
import { createServer } from 'node:http';
import { createVerifier, verifyMiddleware } from 'curfew/verify';

const curfewUrl = process.env.CURFEW_URL ?? 'http://127.0.0.1:8000';
const verifier = createVerifier({
  issuer: process.env.JWT_ISSUER ?? curfewUrl,
  audience: process.env.JWT_AUDIENCE ?? 'curfew',
  jwksUrl: new URL('/.well-known/jwks.json', curfewUrl).href,
  busUrl: process.env.BUS_URL || undefined,
  subjectPrefix: process.env.BUS_SUBJECT_PREFIX || undefined,
});
await verifier.ready();
const requireUser = verifyMiddleware(verifier);

const server = createServer((req, res) => {
  requireUser(req, res, (error) => {
    if (error) {
      res.statusCode = 500;
      res.end('{"error":{"code":"INTERNAL_ERROR","message":"verification failed"}}');
      return;
    }
    const { id, email, role, sessionId } = req.user;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id, email, role, session_id: sessionId }));
  });
});

process.once('SIGTERM', () => server.close(() => verifier.close().then(() => process.exit(0))));
server.listen(Number(process.env.PORT ?? 3001), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(JSON.stringify({ msg: 'example listening', url: `http://127.0.0.1:${port}` }));
});
