// A service that trusts curfew's users, verifying their access tokens in
// process with `curfew/verify` (docs/verify.md). Run it beside curfew:
//
//   CURFEW_URL=http://127.0.0.1:8000 BUS_URL=nats://127.0.0.1:4222 node examples/verify/fastify-app.mjs
//
// CURFEW_URL      where curfew runs (its JWKS is at /.well-known/jwks.json)
// JWT_ISSUER      curfew's issuer (default: CURFEW_URL)
// JWT_AUDIENCE    curfew's audience (default: curfew)
// BUS_URL         optional: curfew's NATS, so revoked sessions are refused at once
// BUS_SUBJECT_PREFIX  curfew's prefix (default: curfew)
// PORT            where this service listens (default 3000; 0 picks a free port)
import Fastify from 'fastify';
import { createVerifier, verifyPlugin } from 'curfew/verify';

const curfewUrl = process.env.CURFEW_URL ?? 'http://127.0.0.1:8000';
const verifier = createVerifier({
  issuer: process.env.JWT_ISSUER ?? curfewUrl,
  audience: process.env.JWT_AUDIENCE ?? 'curfew',
  jwksUrl: new URL('/.well-known/jwks.json', curfewUrl).href,
  busUrl: process.env.BUS_URL || undefined,
  subjectPrefix: process.env.BUS_SUBJECT_PREFIX || undefined,
});
await verifier.ready();

const app = Fastify();

// Public routes live outside the verified scope.
app.get('/health', async () => ({ status: 'ok', revocation_events: verifier.busState() }));

// Every route registered in this scope needs a valid curfew access token
// (the access_token cookie or Authorization: Bearer) and sees request.user.
await app.register(async (secured) => {
  await secured.register(verifyPlugin(verifier));
  secured.get('/whoami', async (request) => {
    const { id, email, role, sessionId } = request.user;
    return { id, email, role, session_id: sessionId };
  });
  secured.get('/orders', async (request) => ({ owner: request.user.id, orders: [] }));
});

const close = async () => {
  await app.close();
  await verifier.close();
  process.exit(0);
};
process.once('SIGTERM', close);
process.once('SIGINT', close);

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
console.log(JSON.stringify({ msg: 'example listening', url: address }));
