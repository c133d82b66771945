// `GET /v1/transactions/{requestId}`: a relayed call's state, for the user who caused it. (The
// `TransactionRequest` view every 202 answers with is domain/views.ts's toTransactionRequest.)
import type { Db } from '../db/engine.ts';
import { findForUser } from '../db/repositories/transaction-requests.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { toTransactionRequest, type TransactionRequest } from '../domain/views.ts';
import { notFound } from '../errors.ts';

export function createTransactionService(deps: { db: Db }) {
  return {
    /** The request, if `user` caused it; anyone else gets the same 404 as for an unknown id. */
    async getForUser(user: AuthUser, requestId: string): Promise<TransactionRequest> {
      const row = await findForUser(deps.db, user.id, requestId);
      if (!row) throw notFound(`Transaction request ${requestId} not found.`);
      return toTransactionRequest(row);
    },
  };
}

export type TransactionService = ReturnType<typeof createTransactionService>;
