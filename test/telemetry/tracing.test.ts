// Traces end to end: a vehicle mint through the real app over HTTP, the real chain and the
// relayer and indexer in-process, with the spans collected by an in-memory exporter. One trace
// must lead from the POST to the block that confirmed the mint and the indexer batch that
// applied it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toBytes } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startTracing } from '../../src/telemetry/tracing.ts';
import type { Tracer } from '../../src/telemetry/tracer.ts';

// The instrumentations patch node:http and pg as they are first required, so the app's modules
// are loaded only after tracing started (as `serve` does).
const exporter = new InMemorySpanExporter();
const tracer: Tracer = await startTracing({ serviceName: 'devices-api-test', exporter, pglite: !process.env.DATABASE_URL });
const { signTyped, startChainApp, until } = await import('../helpers/chain-app.ts');

const alice = privateKeyToAccount(keccak256(toBytes('tracing e2e alice')));
const spans = () => exporter.getFinishedSpans();
const attr = (s: ReadableSpan, k: string) => s.attributes[k];

describe('OpenTelemetry traces', () => {
  let app: Awaited<ReturnType<typeof startChainApp>>;
  before(async () => {
    app = await startChainApp({ tracer });
  });
  after(async () => {
    await app?.close();
    await tracer.shutdown();
  });

  it('follows one mint from its POST through the relayer steps to the indexer batch that applied it', async () => {
    const { t } = app;
    const token = await t.token('alice', alice.address);
    const reg = await t.request('POST', '/v1/user/devices', { token, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
    assert.equal(reg.status, 201, reg.text);
    const id = reg.json.userDevice.id as string;
    const path = `/v1/user/devices/${id}/commands/mint`;
    const payload = (await t.request('GET', path, { token })).json;
    const post = await t.request('POST', path, { token, body: { signature: await signTyped(alice, payload) }, headers: { 'x-request-id': 'trace-me-1' } });
    assert.equal(post.status, 202, post.text);
    const txRequestId = post.json.requestId as string;

    const applied = await until('the indexer.applied span', async () => spans().find((s) => s.name === 'indexer.applied' && attr(s, 'devices_api.tx_request.id') === txRequestId));

    const server = spans().find((s) => s.name === 'POST /v1/user/devices/:userDeviceId/commands/mint' && attr(s, 'devices_api.request_id') === 'trace-me-1');
    assert.ok(server, `no server span for the POST; names: ${[...new Set(spans().map((s) => s.name))].join(', ')}`);
    assert.equal(attr(server, 'http.route'), '/v1/user/devices/:userDeviceId/commands/mint');
    assert.equal(attr(server, 'devices_api.tx_request.id'), txRequestId);
    assert.equal(attr(server, 'devices_api.tx_request.kind'), 'MintVehicle');
    const traceId = server.spanContext().traceId;
    const inTrace = spans().filter((s) => s.spanContext().traceId === traceId);

    // The request's own database statements are children of its span.
    const serverId = server.spanContext().spanId;
    assert.ok(
      inTrace.some((s) => s.parentSpanContext?.spanId === serverId && attr(s, 'db.system.name') === 'postgresql'),
      'database spans under the POST',
    );

    // Every relayer step for this request, in its trace, named by the transaction request id and the HTTP request id.
    for (const step of ['relayer.simulate', 'relayer.sign', 'relayer.broadcast', 'relayer.receipt']) {
      const s = inTrace.find((x) => x.name === step);
      assert.ok(s, `${step} in the POST's trace`);
      assert.equal(s.parentSpanContext?.spanId, serverId, `${step} is a child of the POST`);
      assert.equal(attr(s, 'devices_api.tx_request.id'), txRequestId);
      assert.equal(attr(s, 'devices_api.request_id'), 'trace-me-1');
    }
    const confirmed = inTrace.find((s) => s.name === 'relayer.receipt' && attr(s, 'devices_api.tx_request.status') === 'Confirmed');
    assert.ok(confirmed, 'a receipt span records the confirmation');
    assert.equal(typeof attr(confirmed, 'devices_api.block.number'), 'number');
    const hash = attr(inTrace.find((s) => s.name === 'relayer.sign')!, 'devices_api.tx.hash');
    assert.match(String(hash), /^0x[0-9a-f]{64}$/);

    // The indexer batch is its own trace, linked with the request's trace both ways.
    assert.equal(applied.spanContext().traceId, traceId);
    assert.equal(attr(applied, 'devices_api.tx.hash'), hash);
    const batch = spans().find((s) => s.name === 'indexer.batch' && s.links.some((l) => l.context.spanId === applied.spanContext().spanId));
    assert.ok(batch, 'the indexer batch links to the request');
    assert.deepEqual(attr(batch, 'devices_api.tx_request.ids'), [txRequestId]);
    assert.ok(applied.links.some((l) => l.context.spanId === batch.spanContext().spanId), 'the request links back to the batch');
    assert.equal(typeof attr(batch, 'devices_api.indexer.from_block'), 'number');
    assert.ok(
      spans().some((s) => s.parentSpanContext?.spanId === batch.spanContext().spanId && attr(s, 'db.system.name') === 'postgresql'),
      'the batch transaction statements are children of the batch span',
    );
  });

  it('exports no span for the workers while they find nothing to do', async () => {
    exporter.reset();
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(
      spans().map((s) => s.name),
      [],
    );
  });
});
