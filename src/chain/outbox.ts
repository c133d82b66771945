// The outbox of relayed calls lives in src/db/repositories/transaction-requests.ts; the chain
// workers (and their tests) name it from here.
export { enqueueTransaction, findInFlight, TX_KINDS, type EnqueueInput, type MetaTxRow, type TxKind } from '../db/repositories/transaction-requests.ts';
export { IN_FLIGHT } from '../domain/relay-state.ts';
