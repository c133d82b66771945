// Transaction requests as the API shows them: the `TransactionRequest` body of every 202 that
// relays a call, and `GET /v1/transactions/{requestId}` for the user who caused it.
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/engine.ts';
import { metaTransactionRequests } from '../db/schema.ts';
import type { MetaTxRow } from '../chain/outbox.ts';
import type { AuthUser } from '../auth/verifier.ts';
import type { TxStatus } from '../domain/relay-state.ts';
import { notFound } from '../errors.ts';
import type { TransactionRequest } from '../http/schemas.ts';

export type TransactionRequestRow = Pick<MetaTxRow, 'id' | 'status' | 'hash' | 'blockNumber' | 'failureReason' | 'createdAt' | 'updatedAt'>;

/**
 * The API view of a request. The hash appears once the transaction was broadcast (a signed but
 * unsent transaction is nowhere to be found yet, and may still be re-signed if its nonce is
 * spent elsewhere); a failed request shows it only if it was mined (reverted on chain).
 */
export function toTransactionRequest(row: TransactionRequestRow): TransactionRequest {
  const status = row.status as TxStatus;
  const showHash = row.hash && (status === 'Submitted' || status === 'Mined' || status === 'Confirmed' || (status === 'Failed' && row.blockNumber !== null));
  return {
    requestId: row.id,
    status,
    ...(showHash ? { hash: row.hash! } : {}),
    ...(status === 'Failed' && row.failureReason ? { failureReason: row.failureReason } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function createTransactionService(deps: { db: Db }) {
  return {
    /** The request, if `user` caused it; anyone else gets the same 404 as for an unknown id. */
    async getForUser(user: AuthUser, requestId: string): Promise<TransactionRequest> {
      const [row] = await deps.db
        .select()
        .from(metaTransactionRequests)
        .where(and(eq(metaTransactionRequests.id, requestId), eq(metaTransactionRequests.userId, user.id)));
      if (!row) throw notFound(`Transaction request ${requestId} not found.`);
      return toTransactionRequest(row);
    },
  };
}

export type TransactionService = ReturnType<typeof createTransactionService>;
