// The relayer's reads and writes of meta_transaction_requests and relayer_accounts.
//
// Concurrency rule: every write is a compare-and-set on the state the worker read (status, and the
// nonce or hash it saw), so replicas racing on one row cannot both move it; the only place where
// replicas must serialize is nonce allocation, which holds the relayer_accounts row lock for a few
// statements. No transaction here spans an RPC call (PGlite has a single connection).
import { and, asc, eq, inArray, isNotNull, isNull, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Address, Hex } from 'viem';
import type { Database, Db, Tx } from '../db/engine.ts';
import { emitEvents } from '../events/outbox.ts';
import { transactionFailedEvents } from '../events/payloads.ts';
import { metaTransactionRequests as mtr, relayerAccounts } from '../db/schema.ts';
import { newKsuid } from '../domain/ids.ts';
import { TRANSITIONS_TO, type TxStatus } from '../domain/relay-state.ts';
import type { MetaTxRow, TxKind } from '../db/repositories/transaction-requests.ts';

/** Kind of the rows the relayer writes itself to spend a nonce whose own request had to fail. */
export const NONCE_FILLER_KIND = 'NonceFiller' satisfies TxKind;

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export interface PreparedCall {
  id: string;
  gasLimit: bigint;
}

export type WatchedRow = MetaTxRow & { stale: boolean };

/** A transition the track pass decided on: compare-and-set on (id, status, hash). */
export interface Transition {
  row: Pick<MetaTxRow, 'id' | 'status' | 'hash'>;
  blockHash?: string | null;
  blockNumber?: bigint | null;
  failureReason?: string | null;
}

/**
 * `CASE id WHEN … THEN … END` over a batch, so one statement updates many rows with their own
 * values (PGlite runs statements one at a time; one per row would dominate a tick). Values are
 * sent as text and cast once, which both drivers and PGlite type the same way.
 */
function caseById(items: readonly { id: string; value: string | null }[], cast: 'bigint' | 'numeric' | 'text'): SQL {
  const whens = sql.join(
    items.map((i) => sql`when ${i.id} then ${i.value}`),
    sql` `,
  );
  return sql`(case ${mtr.id} ${whens} end)::${sql.raw(cast)}`;
}

export function createRelayerStore(database: Database, relayer: Address) {
  const { db } = database;
  const from = relayer.toLowerCase();

  /** A zero-value self-transfer row that spends `nonce`, the relayer's own request. */
  const filler = (nonce: bigint | null, fees: Fees, subject: Record<string, string>) => ({
    id: newKsuid(),
    userId: null,
    kind: NONCE_FILLER_KIND,
    status: 'Unsubmitted' as const,
    toAddress: from,
    data: '0x',
    fromAddress: from,
    nonce,
    gasLimit: 21_000n,
    maxFeePerGas: fees.maxFeePerGas,
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    subject,
  });

  /** Rows of ours holding a nonce `nonce` matches: every status but Failed without a block (a filler took that nonce over). */
  const holding = (nonce: SQL) =>
    and(
      eq(mtr.fromAddress, from),
      nonce,
      or(inArray(mtr.status, ['Unsubmitted', 'Submitted', 'Mined', 'Confirmed']), and(eq(mtr.status, 'Failed'), isNotNull(mtr.blockNumber))),
    );

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

    /** Requests holding a nonce that no block is known to contain yet (given a nonce, or Submitted). */
    async pendingCount(): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(mtr)
        .where(sql`${mtr.status} = 'Submitted' or (${mtr.status} = 'Unsubmitted' and ${mtr.nonce} is not null)`);
      return Number(row?.n ?? 0);
    },

    /** A request that reverted in simulation: Failed, unless someone else already moved it. */
    async failUnprepared(id: string, reason: string): Promise<MetaTxRow | undefined> {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(mtr)
          .set({ status: 'Failed', failureReason: reason, updatedAt: sql`now()` })
          .where(and(eq(mtr.id, id), eq(mtr.status, 'Unsubmitted'), isNull(mtr.nonce)))
          .returning();
        if (row) await emitEvents(tx, transactionFailedEvents([row]));
        return row;
      });
    },

    /**
     * Gives each still-unprepared request the next nonce, in request order, with its gas and fees.
     * The relayer_accounts row lock serializes replicas; the account is created at the chain's
     * pending count, and never goes below it (another user of the key, or a restored database).
     */
    async assignNonces(calls: PreparedCall[], fees: Fees, chainPendingNonce: bigint): Promise<number> {
      if (calls.length === 0) return 0;
      const gasById = new Map(calls.map((c) => [c.id, c.gasLimit]));
      return db.transaction(async (tx) => {
        await tx.insert(relayerAccounts).values({ address: from, nextNonce: chainPendingNonce }).onConflictDoNothing();
        const [account] = await tx.select().from(relayerAccounts).where(eq(relayerAccounts.address, from)).for('update');
        const first = account && account.nextNonce > chainPendingNonce ? account.nextNonce : chainPendingNonce;
        const free = await tx
          .select({ id: mtr.id })
          .from(mtr)
          .where(and(inArray(mtr.id, [...gasById.keys()]), eq(mtr.status, 'Unsubmitted'), isNull(mtr.nonce)))
          .orderBy(asc(mtr.createdAt), asc(mtr.id))
          .for('update', { skipLocked: true });
        if (free.length === 0) return 0;
        const ids = free.map((f) => f.id);
        await tx
          .update(mtr)
          .set({
            fromAddress: from,
            nonce: caseById(free.map((f, i) => ({ id: f.id, value: String(first + BigInt(i)) })), 'bigint'),
            gasLimit: caseById(free.map((f) => ({ id: f.id, value: String(gasById.get(f.id)!) })), 'bigint'),
            maxFeePerGas: fees.maxFeePerGas,
            maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
            updatedAt: sql`now()`,
          })
          .where(inArray(mtr.id, ids));
        await tx
          .update(relayerAccounts)
          .set({ nextNonce: first + BigInt(free.length), updatedAt: sql`now()` })
          .where(eq(relayerAccounts.address, from));
        return free.length;
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
      const rows = await db
        .update(mtr)
        .set({
          signedTx: caseById(signed.map((s) => ({ id: s.id, value: s.signedTx })), 'text'),
          hash: caseById(signed.map((s) => ({ id: s.id, value: s.hash })), 'text'),
          updatedAt: sql`now()`,
        })
        .where(
          and(
            inArray(mtr.id, signed.map((s) => s.id)),
            eq(mtr.status, 'Unsubmitted'),
            isNull(mtr.signedTx),
            sql`${mtr.nonce} = ${caseById(signed.map((s) => ({ id: s.id, value: String(s.nonce) })), 'bigint')}`,
          ),
        )
        .returning({ id: mtr.id });
      return rows.length;
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
        .where(and(inArray(mtr.id, ids), inArray(mtr.status, ['Unsubmitted', 'Mined']), isNotNull(mtr.signedTx)))
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
        await emitEvents(tx, transactionFailedEvents([failed]));
        if (row.kind !== NONCE_FILLER_KIND) await tx.insert(mtr).values(filler(row.nonce, fees, { replaces: row.id }));
        return failed;
      });
    },

    /** The next nonce the relayer hands out (null before its first). */
    async nextNonce(): Promise<bigint | null> {
      const [row] = await db.select({ next: relayerAccounts.nextNonce }).from(relayerAccounts).where(eq(relayerAccounts.address, from));
      return row?.next ?? null;
    },

    /** The lowest nonce given to a request not yet broadcast (few rows: served by the status index). */
    async lowestUnsentNonce(): Promise<bigint | null> {
      const [row] = await db
        .select({ nonce: mtr.nonce })
        .from(mtr)
        .where(and(eq(mtr.status, 'Unsubmitted'), isNotNull(mtr.nonce), eq(mtr.fromAddress, from)))
        .orderBy(asc(mtr.nonce))
        .limit(1);
      return row?.nonce ?? null;
    },

    /**
     * The rows of ours holding these nonces: every status but Failed without a block (a request
     * whose bytes the node refused, whose nonce a filler took over) and Unsubmitted rows the send
     * pass still owns.
     */
    nonceHolders(nonces: readonly bigint[]): Promise<MetaTxRow[]> {
      if (nonces.length === 0) return Promise.resolve([]);
      return db
        .select()
        .from(mtr)
        .where(holding(inArray(mtr.nonce, [...nonces])))
        .orderBy(asc(mtr.nonce));
    },

    /**
     * A nonce below the next one that no row of ours holds and the chain has not used (the
     * transaction that had it is gone): a zero-value self-transfer spends it, so the nonces
     * above it can be mined. Under the account lock, and only if still unheld.
     */
    async fillUnheldNonce(nonce: bigint, fees: Fees): Promise<boolean> {
      return db.transaction(async (tx) => {
        await tx.select().from(relayerAccounts).where(eq(relayerAccounts.address, from)).for('update');
        const [held] = await tx.select({ id: mtr.id }).from(mtr).where(holding(eq(mtr.nonce, nonce))).limit(1);
        if (held) return false;
        await tx.insert(mtr).values(filler(nonce, fees, { gap: String(nonce) }));
        return true;
      });
    },

    /**
     * Broadcast requests worth a look, in nonce order: Mined ones, and Submitted ones that a block
     * may hold (`minedNonce`: the relayer's transaction count at the latest block) or that have
     * waited `staleAfterMs`.
     */
    inFlight(limit: number, staleAfterMs: number, minedNonce: bigint): Promise<WatchedRow[]> {
      const stale = sql<boolean>`${mtr.updatedAt} < now() - make_interval(secs => ${staleAfterMs / 1000})`;
      return db
        .select({ row: mtr, stale })
        .from(mtr)
        .where(
          or(
            eq(mtr.status, 'Mined'),
            // A Submitted transaction of ours whose nonce no block has reached has no receipt to
            // ask for yet; it is only looked at once stale (was it dropped?).
            and(eq(mtr.status, 'Submitted'), or(lt(mtr.nonce, minedNonce), ne(mtr.fromAddress, from), stale)),
          ),
        )
        .orderBy(asc(mtr.nonce))
        .limit(limit)
        .then((rows) => rows.map((r) => ({ ...r.row, stale: r.stale === true || String(r.stale) === 't' })));
    },

    /**
     * Moves each request to `to` with its fields, if it is still in the status and has the hash
     * it was read with; returns the rows that moved (a replica may have moved the others).
     */
    async transition(to: TxStatus, items: readonly Transition[]): Promise<MetaTxRow[]> {
      if (items.length === 0) return [];
      for (const { row } of items) {
        if (!TRANSITIONS_TO[to].includes(row.status as TxStatus)) throw new Error(`illegal transition ${row.status} → ${to}`);
      }
      const column = <K extends 'blockHash' | 'blockNumber' | 'failureReason'>(key: K, cast: 'bigint' | 'text') =>
        items.some((i) => i[key] !== undefined)
          ? { [key]: caseById(items.map((i) => ({ id: i.row.id, value: i[key] === undefined || i[key] === null ? null : String(i[key]) })), cast) }
          : {};
      const expected = sql.join(
        items.map(({ row }) => sql`(${row.id}, ${row.status}, ${row.hash ?? ''})`),
        sql`, `,
      );
      const move = (q: Db | Tx) =>
        q
          .update(mtr)
          .set({
            ...column('blockHash', 'text'),
            ...column('blockNumber', 'bigint'),
            ...column('failureReason', 'text'),
            status: to,
            updatedAt: sql`now()`,
          })
          .where(sql`(${mtr.id}, ${mtr.status}, coalesce(${mtr.hash}, '')) in (${expected})`)
          .returning();
      if (to !== 'Failed') return move(db);
      // A request becoming Failed is announced in the same transaction (transaction.failed).
      return db.transaction(async (tx) => {
        const moved = await move(tx);
        await emitEvents(tx, transactionFailedEvents(moved));
        return moved;
      });
    },
  };
}

export type RelayerStore = ReturnType<typeof createRelayerStore>;
