// Renders an outbox row as the API's TransactionRequest (API.md §2). Minimal stand-in until the
// relayer side's src/services/transactions.ts `toTransactionRequest` lands; then use that one.
import type { MetaTxRow } from '../chain/outbox.ts';
import type { TransactionRequest } from '../http/schemas.ts';

export function renderTransactionRequest(row: MetaTxRow): TransactionRequest {
  return {
    requestId: row.id,
    status: row.status as TransactionRequest['status'],
    ...(row.hash ? { hash: row.hash } : {}),
    ...(row.failureReason ? { failureReason: row.failureReason } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
