// Kept only for src/composition.ts, which this change may not edit: point its import at
// src/db/repositories/transaction-requests.ts and delete this file.
export type { MetaTxRow } from '../db/repositories/transaction-requests.ts';
