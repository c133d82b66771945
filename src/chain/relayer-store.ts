// The relayer's reads and writes of meta_transaction_requests and relayer_accounts.
//
// Concurrency rule: every write is a compare-and-set on the state the worker read (status, and the
// nonce or hash it saw), so replicas racing on one row cannot both move it; the only place where
// replicas must serialize is nonce allocation, which holds the relayer_accounts row lock for a few
// statements. No transaction here spans an RPC call (PGlite has a single connection).
import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Address, Hex } from 'viem';
import type { Database } from '../db/engine.ts';
import { metaTransactionRequests as mtr, relayerAccounts } from '../db/schema.ts';
import { newKsuid } from '../domain/ids.ts';
import { TRANSITIONS_TO, type TxStatus } from '../domain/relay-state.ts';
import type { MetaTxRow } from './outbox.ts';

/** Kind of the rows the relayer writes itself to spend a nonce whose own request had to fail. */
export const NONCE_FILLER_KIND = 'NonceFiller';

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export interface PreparedCall {
  id: string;
  gasLimit: bigint;
}

export function createRelayerStore(database: Database, relayer: Address) {
  const { db } = database;
  const from = relayer.toLowerCase();

  return {
    /** Requests not yet given a nonce (they still need simulating), oldest first. */
    awaitingPreparation(limit: number): Promise<MetaTxRow[]> {
      return db
        .select()
        .from(mtr)
        .where(and(eq(mtr.status, 'Unsubmitted'), isNull(mtr.nonce)))
        .orderBy(asc(mtr.createdAt), asc(mtr.id))
        .limit(limit);
    },

    /** A request that reverted in simulation: Failed, unless someone else already moved it. */
    async failUnprepared(id: string, reason: string): Promise<MetaTxRow | undefined> {
      const [row] = await db
        .update(mtr)
        .set({ status: 'Failed', failureReason: reason, updatedAt: sql`now()` })
        .where(and(eq(mtr.id, id), eq(mtr.status, 'Unsubmitted'), isNull(mtr.nonce)))
        .returning();
      return row;
    },

    /**
     * Gives each still-unprepared request the next nonce, in request order, with its gas and fees.
     * The relayer_accounts row lock serializes replicas; the account is created at the chain's
     * pending count, and never goes below it (another user of the key, or a restored database).
     */
    async assignNonces(calls: PreparedCall[], fees: Fees, chainPendingNonce: bigint): Promise<MetaTxRow[]> {
      if (calls.length === 0) return [];
      const gasById = new Map(calls.map((c) => [c.id, c.gasLimit]));
      return db.transaction(async (tx) => {
        await tx.insert(relayerAccounts).values({ address: from, nextNonce: chainPendingNonce }).onConflictDoNothing();
        const [account] = await tx.select().from(relayerAccounts).where(eq(relayerAccounts.address, from)).for('update');
        let next = account && account.nextNonce > chainPendingNonce ? account.nextNonce : chainPendingNonce;
        const free = await tx
          .select({ id: mtr.id })
          .from(mtr)
          .where(and(inArray(mtr.id, [...gasById.keys()]), eq(mtr.status, 'Unsubmitted'), isNull(mtr.nonce)))
          .orderBy(asc(mtr.createdAt), asc(mtr.id))
          .for('update', { skipLocked: true });
        const assigned: MetaTxRow[] = [];
        for (const { id } of free) {
          const [row] = await tx
            .update(mtr)
            .set({
              fromAddress: from,
              nonce: next,
              gasLimit: gasById.get(id)!,
              maxFeePerGas: fees.maxFeePerGas,
              maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
              updatedAt: sql`now()`,
            })
            .where(eq(mtr.id, id))
            .returning();
          if (row) assigned.push(row);
          next += 1n;
        }
        await tx.update(relayerAccounts).set({ nextNonce: next, updatedAt: sql`now()` }).where(eq(relayerAccounts.address, from));
        return assigned;
      });
    },

    /** Requests with a nonce of ours but no signed bytes yet (a crash can leave them so). */
    awaitingSignature(limit: number): Promise<MetaTxRow[]> {
      return db
        .select()
        .from(mtr)
        .where(and(eq(mtr.status, 'Unsubmitted'), isNotNull(mtr.nonce), isNull(mtr.signedTx), eq(mtr.fromAddress, from)))
        .orderBy(asc(mtr.nonce))
        .limit(limit);
    },

    /**
     * Stores signed bytes once: a row that already has some keeps them (another replica signed
     * first), so only one signed transaction per request can ever be broadcast.
     */
    async storeSigned(signed: { id: string; nonce: bigint; signedTx: Hex; hash: Hex }[]): Promise<number> {
      if (signed.length === 0) return 0;
      return db.transaction(async (tx) => {
        let n = 0;
        for (const s of signed) {
          const rows = await tx
            .update(mtr)
            .set({ signedTx: s.signedTx, hash: s.hash, updatedAt: sql`now()` })
            .where(and(eq(mtr.id, s.id), eq(mtr.status, 'Unsubmitted'), eq(mtr.nonce, s.nonce), isNull(mtr.signedTx)))
            .returning({ id: mtr.id });
          n += rows.length;
        }
        return n;
      });
    },

    /** Signed but not known to be broadcast, in nonce order. */
    awaitingBroadcast(limit: number): Promise<MetaTxRow[]> {
      return db
        .select()
        .from(mtr)
        .where(and(eq(mtr.status, 'Unsubmitted'), isNotNull(mtr.signedTx)))
        .orderBy(asc(mtr.nonce))
        .limit(limit);
    },

    async markSubmitted(ids: string[]): Promise<number> {
      if (ids.length === 0) return 0;
      const rows = await db
        .update(mtr)
        .set({ status: 'Submitted', attempts: sql`${mtr.attempts} + 1`, updatedAt: sql`now()` })
        .where(and(inArray(mtr.id, ids), inArray(mtr.status, [...TRANSITIONS_TO.Submitted]), isNotNull(mtr.signedTx)))
        .returning({ id: mtr.id });
      return rows.length;
    },

    /** Counts a refused broadcast; returns the new attempt count. */
    async recordRefusal(id: string, hash: string): Promise<number | undefined> {
      const [row] = await db
        .update(mtr)
        .set({ attempts: sql`${mtr.attempts} + 1`, updatedAt: sql`now()` })
        .where(and(eq(mtr.id, id), eq(mtr.hash, hash), eq(mtr.status, 'Unsubmitted')))
        .returning({ attempts: mtr.attempts });
      return row?.attempts;
    },

    /**
     * The nonce was spent by a transaction that is not ours (our bytes are unknown to the node):
     * our call did not run, and never can with that nonce. Back to "unprepared" so it is
     * simulated again and gets a fresh nonce.
     */
    async resetForRepreparation(id: string, hash: string): Promise<boolean> {
      const rows = await db
        .update(mtr)
        .set({
          status: 'Unsubmitted',
          nonce: null,
          gasLimit: null,
          maxFeePerGas: null,
          maxPriorityFeePerGas: null,
          signedTx: null,
          hash: null,
          blockHash: null,
          blockNumber: null,
          updatedAt: sql`now()`,
        })
        .where(and(eq(mtr.id, id), eq(mtr.hash, hash), inArray(mtr.status, ['Unsubmitted', ...TRANSITIONS_TO.Unsubmitted])))
        .returning({ id: mtr.id });
      return rows.length > 0;
    },

    /**
     * Fails a request whose signed transaction the node keeps refusing, and hands its nonce to a
     * zero-value self-transfer so the nonces after it are not stuck behind a gap. One transaction:
     * the nonce is never both free and unowned.
     */
    async failAndFillNonce(row: MetaTxRow, reason: string, fees: Fees): Promise<MetaTxRow | undefined> {
      return db.transaction(async (tx) => {
        const [failed] = await tx
          .update(mtr)
          .set({ status: 'Failed', failureReason: reason, updatedAt: sql`now()` })
          .where(and(eq(mtr.id, row.id), eq(mtr.hash, row.hash!), eq(mtr.status, 'Unsubmitted')))
          .returning();
        if (!failed) return undefined;
        if (row.kind !== NONCE_FILLER_KIND) {
          await tx.insert(mtr).values({
            id: newKsuid(),
            userId: null,
            kind: NONCE_FILLER_KIND,
            status: 'Unsubmitted',
            toAddress: from,
            data: '0x',
            fromAddress: from,
            nonce: row.nonce,
            gasLimit: 21_000n,
            maxFeePerGas: fees.maxFeePerGas,
            maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
            subject: { replaces: row.id },
          });
        }
        return failed;
      });
    },

    /** Broadcast requests still being watched (Submitted, Mined), in nonce order. */
    inFlight(limit: number): Promise<MetaTxRow[]> {
      return db
        .select()
        .from(mtr)
        .where(inArray(mtr.status, ['Submitted', 'Mined']))
        .orderBy(asc(mtr.nonce))
        .limit(limit);
    },

    /** Moves a request from its current status to `to` with the given fields; undefined if it had moved already. */
    async transition(
      row: Pick<MetaTxRow, 'id' | 'status' | 'hash'>,
      to: TxStatus,
      fields: Partial<Pick<MetaTxRow, 'blockHash' | 'blockNumber' | 'failureReason'>> = {},
    ): Promise<MetaTxRow | undefined> {
      if (!TRANSITIONS_TO[to].includes(row.status as TxStatus)) throw new Error(`illegal transition ${row.status} → ${to}`);
      const [updated] = await db
        .update(mtr)
        .set({ ...fields, status: to, updatedAt: sql`now()` })
        .where(and(eq(mtr.id, row.id), eq(mtr.status, row.status), row.hash ? eq(mtr.hash, row.hash) : isNull(mtr.hash)))
        .returning();
      return updated;
    },

  };
}

export type RelayerStore = ReturnType<typeof createRelayerStore>;
