// The OpenAPI document is complete enough for generated clients and linters: every operation is
// named and described, every request and JSON answer is a named schema, and the answers every
// route can give (401, 429, 503) are listed.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { openapiDocument } from '../../scripts/openapi-document.ts';
import { documentedSchema } from '../../src/http/plugins/docs.ts';

type Operation = Record<string, any> & { operationId?: string; responses: Record<string, any> };
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

describe('the OpenAPI document', () => {
  let doc: any;
  let ops: [string, Operation][];
  before(async () => {
    doc = await openapiDocument();
    ops = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m): [string, Operation] => [`${m.toUpperCase()} ${path}`, item[m]!]),
    );
  });

  it('names and describes every operation, each name once', () => {
    assert.ok(ops.length >= 36, `only ${ops.length} operations: the chain routes are missing`);
    for (const [name, op] of ops) {
      assert.match(op.operationId ?? '', /^[a-z][A-Za-z]+$/, `${name} has no operationId`);
      assert.ok(op.summary && op.description, `${name} needs a summary and a description`);
    }
    const ids = ops.map(([, op]) => op.operationId);
    assert.equal(new Set(ids).size, ids.length, 'operationIds repeat');
    const byId = Object.fromEntries(ops.map(([name, op]) => [op.operationId, name]));
    // the data-sdk's method names
    assert.equal(byId.getClaimingPayload, 'GET /v1/aftermarket/device/by-serial/{serial}/commands/claim');
    assert.equal(byId.signPairingPayload, 'POST /v1/user/devices/{userDeviceId}/aftermarket/commands/pair');
    assert.equal(byId.createVehicleFromVin, 'POST /v1/user/devices/fromvin');
  });

  it('refers every request body and JSON answer to a named component schema', () => {
    const named = (schema: any) => schema?.$ref?.startsWith('#/components/schemas/') || schema?.items?.$ref?.startsWith('#/components/schemas/');
    for (const [name, op] of ops) {
      for (const [type, media] of Object.entries<any>(op.requestBody?.content ?? {})) {
        assert.ok(named(media.schema), `${name}: its ${type} body is not a named schema`);
      }
      for (const [status, answer] of Object.entries<any>(op.responses)) {
        const json = answer.content?.['application/json'];
        if (json) assert.ok(named(json.schema), `${name}: its ${status} answer is not a named schema`);
      }
    }
    for (const ref of JSON.stringify(doc).match(/#\/components\/schemas\/[^"]+/g) ?? []) {
      assert.ok(doc.components.schemas[ref.split('/').pop()!], `${ref} is not in components.schemas`);
    }
  });

  it('marks public operations with security [] and lists 401, 429 and 503 where they apply', () => {
    for (const [name, op] of ops) {
      assert.ok(Array.isArray(op.security), `${name} has no security`);
      if (op.security.length) assert.ok(op.responses['401'], `${name} takes a token but lists no 401`);
      assert.ok(op.responses['503'], `${name} lists no 503`);
      if (!['GET /health', 'GET /ready'].includes(name)) assert.ok(op.responses['429'], `${name} lists no 429`);
    }
  });

  it('leaves the route schema itself alone (validation and serialization use it)', () => {
    const body = { $id: 'X', type: 'object' };
    const schema = { security: [{ bearerAuth: [] }], body, response: { 200: { $id: 'Y', type: 'object' } } };
    const out = documentedSchema(schema, undefined);
    assert.deepEqual(Object.keys(out.response).sort(), ['200', '401', '429', '503']);
    assert.deepEqual(schema.response, { 200: { $id: 'Y', type: 'object' } });
    assert.deepEqual(body, { $id: 'X', type: 'object' });
  });
});
