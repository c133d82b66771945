// The events the API side emits, built from what the service already has at hand, so each call
// site is one line: `await emitEvent(tx, vehicleEvent('vehicle.registered', row, view))`.
// `data` is the resource as the API shows it, plus `userDeviceId` for everything about a vehicle
// and `serial` for devices (issue 15).
import type { UserDevice } from '../http/schemas.ts';
import type { UserDeviceRow } from '../db/repositories/user-devices.ts';
import type { DocumentView } from '../services/documents.ts';
import type { MetaTxRow } from '../db/repositories/transaction-requests.ts';
import { toTransactionRequest } from '../domain/views.ts';
import type { NewEvent } from './outbox.ts';

type VehicleRef = Pick<UserDeviceRow, 'id' | 'userId' | 'tokenId'>;

export function vehicleEvent(type: 'vehicle.registered' | 'vehicle.deleted' | 'vehicle.minted', row: VehicleRef, view: UserDevice): NewEvent {
  return { type, userId: row.userId, vehicleTokenId: row.tokenId, resource: row.id, data: { userDeviceId: row.id, ...view } };
}

/** One error-code query as GET …/error-codes lists it. */
export interface ErrorCodeQueryData {
  id: string;
  errorCodes: readonly object[];
  requestedAt: Date;
  clearedAt: Date | null;
}

export function errorCodesEvent(type: 'error_codes.reported' | 'error_codes.cleared', vehicle: VehicleRef, query: ErrorCodeQueryData): NewEvent {
  return { type, userId: vehicle.userId, vehicleTokenId: vehicle.tokenId, resource: vehicle.id, data: { userDeviceId: vehicle.id, ...query } };
}

/** Documents are their owner's alone (no privilege reaches them), so no vehicle token. */
export function documentEvent(type: 'document.created' | 'document.deleted', userId: string, view: DocumentView): NewEvent {
  return { type, userId, resource: view.id, data: { ...view } };
}

/**
 * transaction.failed for each failed request a user caused (the relayer's own nonce fillers have
 * none): the request as GET /v1/transactions/{requestId} shows it, its kind, and the vehicle or
 * device it was about.
 */
export function transactionFailedEvents(rows: readonly MetaTxRow[]): NewEvent[] {
  return rows.flatMap((row) => {
    if (!row.userId) return [];
    const { userDeviceId, serial, vehicleTokenId } = row.subject;
    const token = vehicleTokenId && /^\d+$/.test(vehicleTokenId) ? BigInt(vehicleTokenId) : null;
    return [
      {
        type: 'transaction.failed' as const,
        userId: row.userId,
        vehicleTokenId: token,
        resource: userDeviceId ?? serial ?? row.id,
        data: { ...toTransactionRequest(row), kind: row.kind, ...(userDeviceId ? { userDeviceId } : {}), ...(serial ? { serial } : {}) },
      },
    ];
  });
}
