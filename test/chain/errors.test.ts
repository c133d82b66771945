import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicClient, encodeErrorResult, http as httpTransport, RpcRequestError, type Address, type PublicClient } from 'viem';
import { dimoRegistryAbi } from '../../src/chain/abi/index.ts';
import { ChainUnavailableError, checkChain, isRpcUnavailable, reasonFromRevertData, revertContextFor, revertReasonOf } from '../../src/chain/errors.ts';
import { roleId, type RegistryDeployment } from '../../src/chain/deploy.ts';

const addr = (n: number): Address => `0x${n.toString(16).padStart(40, '0')}`;
const deployment: RegistryDeployment = {
  registry: addr(1),
  manufacturerId: addr(2),
  integrationId: addr(3),
  vehicleId: addr(4),
  aftermarketDeviceId: addr(5),
  syntheticDeviceId: addr(6),
  deployBlock: 0n,
};

async function serve(handler: http.RequestListener) {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const client = (url: string) => createPublicClient({ transport: httpTransport(url, { retryCount: 0 }) }) as PublicClient;

describe('chain errors', () => {
  it('turns registry revert data into the human reason, naming NFTs and roles', () => {
    const ctx = revertContextFor(deployment);
    const data = (errorName: string, args: readonly unknown[]) => encodeErrorResult({ abi: dimoRegistryAbi, errorName: errorName as never, args: args });
    assert.equal(reasonFromRevertData(data('DeviceAlreadyClaimed', [7n]), ctx), 'Aftermarket device 7 already claimed.');
    assert.equal(reasonFromRevertData(data('InvalidNode', [deployment.vehicleId, 9n]), ctx), 'Vehicle 9 does not exist.');
    assert.equal(reasonFromRevertData(data('InvalidNode', [deployment.aftermarketDeviceId, 9n]), ctx), 'Aftermarket device 9 does not exist.');
    assert.equal(
      reasonFromRevertData(data('AccessControlUnauthorizedAccount', [addr(7), roleId('CLAIM_AD_ROLE')]), ctx),
      `Account ${addr(7)} lacks the role CLAIM_AD_ROLE.`,
    );
    assert.equal(reasonFromRevertData('0x12345678', ctx), 'Transaction reverted: 0x12345678');
    assert.equal(reasonFromRevertData('0x', ctx), 'Transaction reverted without a reason.');
  });

  it('finds revert data inside a node’s JSON-RPC error and ignores errors that are not reverts', () => {
    const revert = new RpcRequestError({ body: {}, url: 'x', error: { code: 3, message: 'execution reverted', data: encodeErrorResult({ abi: dimoRegistryAbi, errorName: 'OwnersDoNotMatch' }) } });
    assert.equal(revertReasonOf(revert), 'The vehicle and the aftermarket device have different owners.');
    const other = new RpcRequestError({ body: {}, url: 'x', error: { code: -32000, message: 'insufficient funds for gas * price + value' } });
    assert.equal(revertReasonOf(other), undefined);
  });

  it('calls a closed port or an HTTP 503 unavailable, and a JSON-RPC error not', async () => {
    const down = await serve((_req, res) => res.writeHead(503).end('no healthy upstream'));
    const rpcError = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: 0, error: { code: -32601, message: 'method not found' } })));
    const closed = await serve(() => {});
    const closedUrl = closed.url;
    await closed.close();
    try {
      for (const url of [closedUrl, down.url]) {
        const err = await client(url).getBlockNumber().catch((e: unknown) => e);
        assert.ok(isRpcUnavailable(err), `${url}: ${String(err)}`);
        await assert.rejects(checkChain({ publicClient: client(url) }), ChainUnavailableError);
      }
      const answered = await client(rpcError.url).getBlockNumber().catch((e: unknown) => e);
      assert.equal(isRpcUnavailable(answered), false);
    } finally {
      await Promise.all([down.close(), rpcError.close()]);
    }
  });
});
