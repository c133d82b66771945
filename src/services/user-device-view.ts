// Renders vehicle rows (plus their batch-loaded relations) into the API's UserDevice shape.
import { getAddress } from 'viem';
import type { UserDevice } from '../domain/views.ts';
import type { Db, Tx } from '../db/engine.ts';
import * as repo from '../db/repositories/user-devices.ts';
import { requestsById } from '../db/repositories/transaction-requests.ts';
import { isInFlight, type TxStatus } from '../domain/relay-state.ts';
import type { AftermarketDeviceRow, IntegrationRow, MetaTxRow, PrivilegeRow, SyntheticWithRequest, UserDeviceRow } from '../db/repositories/user-devices.ts';

export interface Relations {
  privileges: PrivilegeRow[];
  aftermarket: AftermarketDeviceRow[];
  requests: MetaTxRow[];
  /** Synthetic devices of the page's vehicles, newest first (repo.syntheticDevicesFor). */
  synthetic?: SyntheticWithRequest[];
  /** Every integration this service knows (repo.allIntegrations): compatibleIntegrations. */
  integrations?: IntegrationRow[];
}

const checksum = (a: string) => getAddress(a) as string;

function groupPrivileges(rows: PrivilegeRow[]): Map<bigint, UserDevice['privilegedUsers']> {
  const out = new Map<bigint, UserDevice['privilegedUsers']>();
  for (const p of rows) {
    let users = out.get(p.tokenId);
    if (!users) out.set(p.tokenId, (users = []));
    const address = checksum(p.userAddress);
    let user = users.find((u) => u.address === address);
    if (!user) users.push((user = { address, privileges: [] }));
    user.privileges.push({ id: p.privilege, expiry: p.expiry, updatedAt: p.updatedAt });
  }
  return out;
}

type Integration = UserDevice['integrations'][number];

/**
 * One entry per integration that has a synthetic device for the vehicle (the newest attempt):
 * status Active once minted, Failed when the mint failed, else Pending; the synthetic device
 * block carries the mint request's status, hash and failure reason.
 */
function groupIntegrations(rows: SyntheticWithRequest[]): Map<bigint, Integration[]> {
  const out = new Map<bigint, Integration[]>();
  for (const { device: sd, request } of rows) {
    let list = out.get(sd.vehicleTokenId);
    if (!list) out.set(sd.vehicleTokenId, (list = []));
    const integrationId = sd.integrationTokenId.toString();
    if (list.some((i) => i.integrationId === integrationId)) continue; // an older attempt
    const reqStatus = request?.status;
    const status = sd.tokenId !== null ? 'Active' : reqStatus === 'Failed' ? 'Failed' : 'Pending';
    list.push({
      integrationId,
      status,
      externalId: null,
      createdAt: sd.createdAt,
      updatedAt: sd.updatedAt,
      tokenId: sd.integrationTokenId,
      syntheticDevice: {
        ...(sd.tokenId !== null ? { tokenId: sd.tokenId } : {}),
        address: checksum(sd.address),
        ...(request?.hash ? { txHash: request.hash } : {}),
        status: mintStatus(reqStatus, sd.tokenId !== null) ?? 'Unsubmitted',
        failureReason: request?.failureReason ?? null,
      },
    });
  }
  return out;
}

export function renderUserDevices(rows: UserDeviceRow[], rel: Relations, publicBaseUrl: string): UserDevice[] {
  const privileges = groupPrivileges(rel.privileges);
  const adByVehicle = new Map(rel.aftermarket.map((a) => [a.vehicleTokenId, a]));
  const requests = new Map(rel.requests.map((r) => [r.id, r]));
  const integrations = groupIntegrations(rel.synthetic ?? []);
  const known = rel.integrations ?? [];
  return rows.map((r) => {
    const def = r.definition;
    const mint = r.mintRequestId ? requests.get(r.mintRequestId) : undefined;
    const ad = r.tokenId !== null ? adByVehicle.get(r.tokenId) : undefined;
    const nft: UserDevice['nft'] =
      r.tokenId !== null || mint
        ? {
            tokenId: r.tokenId,
            ownerAddress: r.ownerAddress ? checksum(r.ownerAddress) : null,
            tokenUri: r.tokenId !== null ? `${publicBaseUrl}/v1/vehicle/${r.tokenId}` : null,
            txHash: mint?.hash ?? null,
            status: mintStatus(mint?.status, r.tokenId !== null),
            failureReason: mint?.failureReason ?? null,
          }
        : null;
    return {
      id: r.id,
      vin: r.vin,
      vinConfirmed: r.vinConfirmed,
      name: r.name,
      customImageUrl: r.customImageUrl,
      countryCode: r.countryCode,
      // The definition catalog (vPIC) has no pictures, so an unminted vehicle has none.
      imageUrl: r.tokenId !== null ? `${publicBaseUrl}/v1/vehicle/${r.tokenId}/image` : null,
      deviceDefinition: {
        definitionId: def.id,
        deviceDefinitionId: def.id,
        name: def.name,
        make: def.make,
        type: { type: 'Vehicle' as const, make: def.make.name, model: def.model, year: def.year },
        deviceAttributes: def.attributes,
        verified: def.verified,
      },
      metadata: r.metadata,
      // On-chain integrations carry no region: each applies in every country (as the original, `country` is the vehicle's).
      compatibleIntegrations: known.map((i) => ({ id: i.tokenId.toString(), tokenId: i.tokenId, vendor: i.name, country: r.countryCode })),
      integrations: r.tokenId !== null ? (integrations.get(r.tokenId) ?? []) : [],
      aftermarketDevice: ad ? { serial: ad.serial, tokenId: ad.tokenId, address: checksum(ad.address) } : null,
      nft,
      optedInAt: r.optedInAt,
      privilegedUsers: r.tokenId !== null ? (privileges.get(r.tokenId) ?? []) : [],
      createdAt: r.createdAt,
    };
  });
}

/** Loads the relations of `rows` (one round of queries, whatever their number) and renders them. */
export async function loadUserDevices(db: Db | Tx, rows: UserDeviceRow[], publicBaseUrl: string, now: Date): Promise<UserDevice[]> {
  if (rows.length === 0) return [];
  const tokenIds = rows.flatMap((r) => (r.tokenId !== null ? [r.tokenId] : []));
  const requestIds = rows.flatMap((r) => (r.mintRequestId ? [r.mintRequestId] : []));
  const [privileges, aftermarket, requests, synthetic, integrations] = await Promise.all([
    repo.privilegesFor(db, tokenIds, now),
    repo.aftermarketDevicesFor(db, tokenIds),
    requestsById(db, requestIds),
    repo.syntheticDevicesFor(db, tokenIds),
    repo.allIntegrations(db),
  ]);
  return renderUserDevices(rows, { privileges, aftermarket, requests, synthetic, integrations }, publicBaseUrl);
}

/**
 * A mint transaction's status as shown with what it minted. A token id is set only by the
 * indexer, from a block at CHAIN_CONFIRMATIONS depth, so the mint is Confirmed then even while
 * the relayer, which follows receipts on its own loop, still records Submitted or Mined (a
 * vehicle.minted event built in the indexer's transaction would otherwise say Submitted).
 */
export function mintStatus(requestStatus: string | undefined, minted: boolean): TxStatus | null {
  if (minted && (requestStatus === undefined || isInFlight(requestStatus))) return 'Confirmed';
  return (requestStatus as TxStatus | undefined) ?? null;
}
