import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// Ajv comes with Fastify (its validator); the 2020-12 dialect is what OpenAPI 3.1 schemas use.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

interface MediaType {
  schema?: object;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
type Operation = { requestBody?: { content?: Record<string, MediaType> }; responses?: Record<string, unknown> };

/** The account-lifecycle routes (issue 14) and the body each must document. */
const ROUTES: ReadonlyArray<[string, string, boolean]> = [
  ['/api/v1/activate/resend/', 'post', true],
  ['/api/v1/password/reset/', 'post', true],
  ['/api/v1/password/reset/confirm/', 'post', true],
  ['/api/v1/password/change/', 'post', true],
  ['/api/v1/email/change/', 'post', true],
  ['/api/v1/email/confirm/{token}', 'get', false],
  ['/api/v1/me/', 'delete', true],
  ['/api/v1/admin/users/', 'get', false],
  ['/api/v1/admin/users/{id}/', 'get', false],
  ['/api/v1/admin/users/{id}/', 'patch', true],
];

describe('OpenAPI: every account-lifecycle route is documented, and its examples validate', () => {
  let t: TestApp;
  let paths: Record<string, Record<string, Operation>>;
  before(async () => {
    t = await startTestApp();
    paths = ((await (await fetch(`${t.url}/openapi.json`)).json()) as { paths: typeof paths }).paths;
  });
  after(async () => {
    await t.stop();
  });

  for (const [path, method, hasBody] of ROUTES) {
    it(`${method.toUpperCase()} ${path}`, () => {
      const operation = paths[path]?.[method];
      assert.ok(operation, 'in the document');
      assert.ok(operation.responses && Object.keys(operation.responses).some((status) => status.startsWith('4')), 'documents its refusals');
      if (!hasBody) return;
      const media = operation.requestBody?.content?.['application/json'];
      assert.ok(media?.schema, 'a JSON body schema');
      const examples = media.example !== undefined ? [media.example] : Object.values(media.examples ?? {}).map((entry) => entry.value);
      assert.ok(examples.length > 0, 'at least one example');
      const validate = new Ajv2020({ strict: false }).compile(media.schema);
      for (const example of examples) assert.ok(validate(example), `${JSON.stringify(example)}: ${JSON.stringify(validate.errors)}`);
      // And the schema can fail: an unknown field is refused.
      assert.equal(validate({ ...(examples[0] as object), unexpected: 1 }), false);
    });
  }
});
