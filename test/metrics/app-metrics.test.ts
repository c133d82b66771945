// Operator metrics: documents stored and DTC lookups by source, on the app's /metrics.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createDtcLookupCounter, registerDocumentGauges } from '../../src/metrics/app-metrics.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { uploadDoc } from '../e2e/documents-helpers.ts';

const sample = async (registry: Registry, name: string, labels = '') => {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('registerDocumentGauges', () => {
  it('reads the totals at most once per ttl, and not at all until scraped', async () => {
    const registry = new Registry();
    let reads = 0;
    let clock = 0;
    registerDocumentGauges(registry, async () => ({ count: ++reads, bytes: 100 * reads }), 1000, () => clock);
    assert.equal(reads, 0);
    assert.equal(await sample(registry, 'documents_stored_bytes'), 100);
    assert.equal(await sample(registry, 'documents_stored'), 1);
    clock = 999;
    assert.equal(await sample(registry, 'documents_stored_bytes'), 100);
    clock = 1000;
    assert.equal(await sample(registry, 'documents_stored_bytes'), 200);
    assert.equal(reads, 2);
  });

  it('keeps the last value while the database fails, and asks again at the next scrape', async () => {
    const registry = new Registry();
    let fail = false;
    registerDocumentGauges(registry, async () => {
      if (fail) throw new Error('down');
      return { count: 3, bytes: 42 };
    }, 0);
    assert.equal(await sample(registry, 'documents_stored_bytes'), 42);
    fail = true;
    assert.equal(await sample(registry, 'documents_stored_bytes'), 42);
    fail = false;
    assert.equal(await sample(registry, 'documents_stored'), 3);
  });
});

describe('createDtcLookupCounter', () => {
  it('shows every source from the start and counts each lookup under its source', async () => {
    const registry = new Registry();
    const count = createDtcLookupCounter(registry);
    for (const s of ['imported_make', 'imported', 'bundled', 'structure', 'enrichment']) assert.equal(await sample(registry, 'dtc_lookups_total', `{source="${s}"}`), 0);
    count('bundled');
    count('bundled');
    count('enrichment');
    assert.equal(await sample(registry, 'dtc_lookups_total', '{source="bundled"}'), 2);
    assert.equal(await sample(registry, 'dtc_lookups_total', '{source="enrichment"}'), 1);
  });
});

describe('operator metrics on /metrics', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t?.close());

  it('counts the bytes of uploaded documents and each DTC lookup by the source of its title', async () => {
    const token = await t.token('metrics-user');
    const up = await uploadDoc(t, token, { data: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(4087)]) });
    assert.equal(up.status, 201, JSON.stringify(up.json));
    const reg = await t.request('POST', '/v1/user/devices', { token, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
    assert.equal(reg.status, 201, reg.text);
    // P0301 has a bundled title; P1ABC is manufacturer-specific, described from its structure.
    const sub = await t.request('POST', `/v1/user/devices/${reg.json.userDevice.id}/error-codes`, { token, body: { queryDeviceErrorCodes: { errorCodes: ['P0301', 'P1ABC', 'P0302'] } } });
    assert.equal(sub.status, 200, sub.text);

    const text = (await t.request('GET', '/metrics')).text;
    const value = (name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1]);
    assert.equal(value('documents_stored_bytes'), 4096);
    assert.equal(value('documents_stored'), 1);
    assert.equal(value('dtc_lookups_total{source="bundled"}'), 2);
    assert.equal(value('dtc_lookups_total{source="structure"}'), 1);
    assert.equal(value('dtc_lookups_total{source="enrichment"}'), 0);
  });
});
