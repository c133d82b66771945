// Every route in the OpenAPI document, driven from the document itself (so a new route is covered
// without touching this file): what real clients add — an empty body in any Content-Type, an
// unknown query parameter, an unknown body field — changes nothing; and no value a client can
// put in a parameter or a body field (generated with fast-check from the schemas, plus odd
// ones: 1e999, Infinity, NUL, huge numbers) gets a 5xx.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { keccak256, toBytes } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startChainApp, type ChainApp } from '../helpers/chain-app.ts';

interface Schema {
  type?: string | string[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema: Schema;
}
interface Operation {
  method: string;
  path: string;
  params: Parameter[];
  /** The JSON body's schema; undefined when the route takes no JSON body. */
  body?: Schema;
}

type DocOperation = { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> }; responses?: Record<string, { content?: Record<string, unknown> }> };

function operationsOf(doc: { paths: Record<string, Record<string, DocOperation>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      // A stream never ends, so reading its answer would never return (test/http/events-stream.test.ts covers it).
      if (op.responses?.['200']?.content?.['text/event-stream']) continue;
      ops.push({ method: method.toUpperCase(), path, params: op.parameters ?? [], body: op.requestBody?.content['application/json']?.schema });
    }
  }
  return ops;
}

const ODD = ['1e999', 'Infinity', '-Infinity', 'NaN', '-1', '0', '1.5', '0x10', '', ' ', '\u0000', 'a\u0000b', '%', '9'.repeat(90), '-0', 'null', '[]', '{}', '\uD800'];

/** Values for a parameter (always text on the wire): mostly plausible ones from its schema, some odd. */
function paramValue(s: Schema): fc.Arbitrary<string> {
  const plausible: fc.Arbitrary<string>[] = [];
  if (s.type === 'integer' || s.type === 'number') {
    plausible.push(fc.integer({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6 }).map(String));
  } else if (s.pattern) {
    plausible.push(fc.stringMatching(new RegExp(s.pattern)));
  } else if (s.enum) {
    plausible.push(fc.constantFrom(...s.enum.map(String)));
  } else {
    plausible.push(fc.string({ maxLength: s.maxLength ?? 40 }));
  }
  return fc.oneof(...plausible, fc.constantFrom(...ODD), fc.string({ unit: 'binary', maxLength: 300 }));
}

/** A JSON value for a body field: of its schema's type or of any other. */
function fieldValue(s: Schema): fc.Arbitrary<unknown> {
  const own: fc.Arbitrary<unknown>[] = [];
  if (s.type === 'string') own.push(s.pattern ? fc.stringMatching(new RegExp(s.pattern)) : fc.string({ unit: 'binary', maxLength: (s.maxLength ?? 64) + 2 }));
  if (s.type === 'integer' || s.type === 'number') own.push(fc.oneof(fc.integer(), fc.double()));
  if (s.type === 'array') own.push(fc.array(s.items ? fieldValue(s.items) : fc.jsonValue(), { maxLength: 5 }));
  if (s.type === 'object' && s.properties) own.push(bodyValue(s));
  own.push(fc.constantFrom('P0300', '0x' + '1b'.repeat(65), '1e999', '\u0000', 'USA', '1HGCM82633A004352'));
  return fc.oneof(...own, fc.jsonValue({ maxDepth: 2 }));
}

/** An object with any subset of the schema's fields (each of any value), sometimes another JSON value entirely. */
function bodyValue(s: Schema): fc.Arbitrary<unknown> {
  const fields = Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, fieldValue(v)]));
  return fc.oneof({ weight: 4, arbitrary: fc.record(fields, { requiredKeys: [] }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
}

/** A lone surrogate cannot be percent-encoded (URIError): a client sends U+FFFD instead. */
const wellFormed = (v: string) => v.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** Well-formed ids that name nothing: a token id, else a KSUID (also a fine serial). */
const placeholder = (p: Parameter | undefined) => (p?.schema.pattern?.includes('[0-9]{1,78}') ? '999999' : '2ZZZZZZZZZZZZZZZZZZZZZZZZZZ');

function fill(op: Operation, values: Record<string, string>): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(wellFormed(values[name] ?? placeholder(op.params.find((p) => p.name === name)))));
}

describe('every route in the OpenAPI document', () => {
  let env: ChainApp;
  let ops: Operation[];
  let token: string;
  /** Real ids where a route takes one, so requests get past the 404 to the code behind it. */
  const known: Record<string, string> = {};

  before(async () => {
    env = await startChainApp({ env: { RATE_LIMIT_MAX: '1000000' } });
    const user = privateKeyToAccount(keccak256(toBytes('every route user')));
    token = await env.t.token('every-route', user.address);
    ops = operationsOf((await env.t.request('GET', '/v1/openapi.json')).json);
    const v = await env.t.request('POST', '/v1/user/devices', { token, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
    known.userDeviceId = v.json.userDevice.id;
  });
  after(async () => env?.close());

  /** A raw request: `body` is sent as given (a string), with exactly the headers given. */
  async function send(method: string, url: string, headers: Record<string, string> = {}, body?: string) {
    const res = await fetch(env.t.url + url, { method, headers: { authorization: `Bearer ${token}`, ...headers }, body, redirect: 'manual' });
    const text = await res.text();
    // An error's message says why; a success may carry anything (a payload's `message` object).
    let message: unknown;
    try {
      message = res.status >= 400 ? JSON.parse(text).message : undefined;
    } catch {
      message = undefined;
    }
    return { status: res.status, message, text };
  }

  // Delete routes get ids that name nothing, so the baseline does not delete what the next request reads.
  const urlOf = (op: Operation) => fill(op, op.method === 'DELETE' ? {} : known);

  describe('leniency: what clients add changes nothing', () => {
    it('has the routes to check', () => assert.ok(ops.length >= 25, `only ${ops.length} operations`));

    it('answers an empty body in any Content-Type as it answers no body at all', async () => {
      const problems: string[] = [];
      for (const op of ops.filter((o) => o.method !== 'GET')) {
        const url = urlOf(op);
        const base = await send(op.method, url);
        for (const type of ['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'application/json; charset=utf-8']) {
          const r = await send(op.method, url, { 'content-type': type }, '');
          if (r.status !== base.status || r.message !== base.message || r.status >= 500) {
            problems.push(`${op.method} ${op.path} empty ${type}: ${r.status} ${r.text.slice(0, 120)} (no body: ${base.status})`);
          }
        }
      }
      assert.deepEqual(problems, []);
    });

    it('still answers 415 for a body with content in a type other than JSON', async () => {
      for (const op of ops.filter((o) => o.body)) {
        const r = await send(op.method, urlOf(op), { 'content-type': 'text/plain' }, 'hello');
        assert.equal(r.status, 415, `${op.method} ${op.path}: ${r.text}`);
      }
    });

    it('ignores unknown query parameters', async () => {
      const problems: string[] = [];
      for (const op of ops) {
        const url = urlOf(op);
        const base = await send(op.method, url);
        const r = await send(op.method, `${url}?_=1700000000&utm_source=newsletter`);
        if (r.status !== base.status || r.message !== base.message || r.status >= 500) {
          problems.push(`${op.method} ${op.path}?_=: ${r.status} ${r.text.slice(0, 120)} (without: ${base.status})`);
        }
      }
      assert.deepEqual(problems, []);
    });

    it('ignores unknown JSON body fields, at the top and in wrapped objects', async () => {
      const problems: string[] = [];
      for (const op of ops.filter((o) => o.body)) {
        const url = urlOf(op);
        const json = { 'content-type': 'application/json' };
        const base = await send(op.method, url, json, '{}');
        const r = await send(op.method, url, json, JSON.stringify({ analyticsTag: 'acc-xyz', clientVersion: 3 }));
        if (r.status !== base.status || r.message !== base.message || r.status >= 500 || r.text.includes('acc-xyz')) {
          problems.push(`${op.method} ${op.path} + unknown field: ${r.status} ${r.text.slice(0, 120)} (without: ${base.status})`);
        }
        for (const [name, s] of Object.entries(op.body!.properties ?? {})) {
          if (s.type !== 'object') continue;
          const w = await send(op.method, url, json, JSON.stringify({ [name]: { analyticsTag: 'acc-xyz' } }));
          const wb = await send(op.method, url, json, JSON.stringify({ [name]: {} }));
          if (w.status !== wb.status || w.message !== wb.message) problems.push(`${op.method} ${op.path} ${name}.unknown: ${w.status} ${w.text.slice(0, 120)}`);
        }
      }
      assert.deepEqual(problems, []);
    });
  });

  describe('no value a client sends gets a 5xx', () => {
    it('holds for generated path, query and body values on every route', async () => {
      const failures: string[] = [];
      for (const op of ops) {
        const path = op.params.filter((p) => p.in === 'path');
        const query = op.params.filter((p) => p.in === 'query');
        const request = fc.record({
          path: fc.record(Object.fromEntries(path.map((p) => [p.name, fc.oneof(paramValue(p.schema), ...(known[p.name] ? [fc.constant(known[p.name]!)] : []))]))),
          query: fc.record(Object.fromEntries(query.map((p) => [p.name, paramValue(p.schema)])), { requiredKeys: [] }),
          body: op.body ? bodyValue(op.body) : fc.constant(undefined),
        });
        await fc.assert(
          fc.asyncProperty(request, async (r) => {
            // DELETE only with generated ids: a real one would go, and later runs would test less.
            const values = op.method === 'DELETE' ? Object.fromEntries(Object.entries(r.path).filter(([, v]) => !Object.values(known).includes(v))) : r.path;
            const qs = new URLSearchParams(r.query as Record<string, string>).toString();
            const url = fill(op, values) + (qs ? `?${qs}` : '');
            const headers: Record<string, string> = r.body === undefined ? {} : { 'content-type': 'application/json' };
            const res = await send(op.method, url, headers, r.body === undefined ? undefined : JSON.stringify(r.body));
            // Recorded rather than failed, so every route runs and the report lists them all.
            if (res.status >= 500 && res.status !== 501) {
              failures.push(`${op.method} ${url} ${JSON.stringify(r.body)?.slice(0, 200)}: ${res.status} ${res.text.slice(0, 200)}`);
            }
          }),
          { numRuns: 30 },
        );
      }
      assert.deepEqual(failures, []);
    });
  });
});
