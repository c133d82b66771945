// Use cases for a vehicle's diagnostic trouble codes: submit (describe offline, store, optionally
// enrich), read the history, clear the latest query. Writes are the owner's (requireOwned); the
// history is also readable by a grantee holding privilege 1 (requirePrivilege).
import type { Db } from '../db/engine.ts';
import * as repo from '../db/repositories/error-code-queries.ts';
import * as dtcRepo from '../db/repositories/dtc.ts';
import { decodeDtc, describeDtc, normaliseMake, parseDtcList } from '../domain/dtc/index.ts';
import type { DtcCatalog, DtcDescription, DtcOverrides } from '../domain/dtc/index.ts';
import { cachedEnricher, type DtcEnricher, type DtcExplanationCache, type EnrichLogger } from '../dtc/enrichment.ts';
import { createMonotonicKsuids } from '../domain/ids.ts';
import { createBatcher } from '../domain/batcher.ts';
import { createImportedTitles } from './imported-titles.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { DEVICE_NOT_FOUND, type Page, type VehicleService } from './vehicles.ts';
import { NON_LOCATION_DATA } from '../domain/privileges.ts';
import type { UserDeviceRow } from '../db/repositories/user-devices.ts';
import { emitEvent, emitEvents } from '../events/outbox.ts';
import { errorCodesEvent } from '../events/payloads.ts';

/** One code in a response; `explanation` only when enrichment is on and answered in time. */
export interface ErrorCodeView extends DtcDescription {
  explanation?: string;
}

/** One submission waiting for the batched insert: the row, and what its event carries. */
interface Submission {
  row: repo.NewErrorCodeQuery;
  vehicle: UserDeviceRow;
  view: DtcDescription[];
}

export interface ErrorCodesResult {
  errorCodes: ErrorCodeView[];
  clearedAt: Date | null;
}

export interface ErrorCodeQueryView {
  id: string;
  errorCodes: ErrorCodeView[];
  requestedAt: Date;
  clearedAt: Date | null;
}

export interface ErrorCodeServiceDeps {
  db: Db;
  vehicles: Pick<VehicleService, 'requireOwned' | 'requirePrivilege'>;
  catalog: DtcCatalog;
  /** How long imported titles are kept in memory (default IMPORTED_TITLES_TTL_MS). */
  importedTitlesTtlMs?: number;
  now?: () => number;
  /** Optional longer explanations; `timeoutMs` bounds how long a request waits for them. */
  enrichment?: { enricher: DtcEnricher; timeoutMs: number; logger?: EnrichLogger } | undefined;
}

/**
 * Provider calls allowed in flight per process. Each distinct (code, make) costs one paid call
 * until cached, and there are millions of them; past this cap a code simply gets no explanation
 * this time, so a flood of submissions cannot turn into a flood of provider calls.
 */
export const MAX_ENRICH_IN_FLIGHT = 16;

/** A `devices-api dtc import` reaches new submissions within this (README, "Error codes"). */
export const IMPORTED_TITLES_TTL_MS = 10_000;

export function createErrorCodeService(deps: ErrorCodeServiceDeps) {
  const { db, vehicles, catalog, enrichment } = deps;
  const provider = enrichment && bounded(enrichment.enricher, MAX_ENRICH_IN_FLIGHT);
  const titles = createImportedTitles({ db, ttlMs: deps.importedTitlesTtlMs ?? IMPORTED_TITLES_TTL_MS, capacity: 50_000, now: deps.now });
  // Ties on requested_at (one batch, or PGlite's millisecond clock) fall back to the id.
  const nextId = createMonotonicKsuids();

  // Concurrent submissions share one insert of the queries and one of their events, and one commit (see createBatcher).
  const insertWithEvents = (items: readonly Submission[]) =>
    db.transaction(async (tx) => {
      const stamps = await repo.insertQueries(tx, items.map((i) => i.row));
      await emitEvents(
        tx,
        items.map(({ row, vehicle, view }) =>
          errorCodesEvent('error_codes.reported', vehicle, { id: row.id, errorCodes: view, requestedAt: stamps.get(row.id)!, clearedAt: null }),
        ),
      );
    });
  const store = createBatcher(
    async (items: Submission[]): Promise<Array<'stored' | 'vehicle-gone'>> => {
      try {
        await insertWithEvents(items);
        return items.map(() => 'stored');
      } catch (err) {
        if (!isForeignKeyViolation(err)) throw err;
        // A vehicle was deleted between its access check and the insert: store each on its own.
        return Promise.all(
          items.map(async (item) => {
            try {
              await insertWithEvents([item]);
              return 'stored' as const;
            } catch (e) {
              if (isForeignKeyViolation(e)) return 'vehicle-gone' as const;
              throw e;
            }
          }),
        );
      }
    },
    { maxBatch: 50, maxInFlight: 6 },
  );

  /** Explanations by base code, or an empty map; never throws and never waits past the budget. */
  async function explain(bases: string[], make: string | null, overrides: DtcOverrides): Promise<Map<string, string>> {
    if (!enrichment || !provider) return new Map();
    try {
      const key = normaliseMake(make);
      // One read for every code up front, so cached answers cost no per-code round trip.
      const cached = await dtcRepo.explanationsFor(db, bases, key);
      const cache: DtcExplanationCache = {
        get: async (code) => cached.get(code),
        set: (code, m, text) => dtcRepo.saveExplanation(db, code, m, text),
      };
      // The base code's own title: the failure-type byte refines a fault, it does not change it.
      const titled = bases.map((code) => ({ code, title: describeDtc(code, { catalog, make, overrides }).description }));
      const enricher = cachedEnricher(provider, cache, enrichment.logger);
      return await enricher.explainWithin(titled, make, enrichment.timeoutMs);
    } catch (err) {
      enrichment.logger?.warn({ detail: err instanceof Error ? err.message : String(err) }, 'dtc enrichment skipped');
      return new Map();
    }
  }

  return {
    async submit(user: AuthUser, userDeviceId: string, rawCodes: unknown): Promise<ErrorCodesResult> {
      const vehicle = await vehicles.requireOwned(user, userDeviceId);
      const parsed = parseDtcList(rawCodes);
      if (!parsed.ok) throw badRequest(parsed.message);
      if (parsed.codes.length === 0) return { errorCodes: [], clearedAt: null };
      const make = vehicle.definition.make.name;
      const bases = [...new Set(parsed.codes.map((c) => c.base))];
      const overrides = await titles.overridesFor(bases, make);
      const described = parsed.codes.map((c) => describeDtc(c, { catalog, make, overrides }));
      // Stored and enriched side by side: the explanation budget is the only wait it adds.
      const [, explanations] = await Promise.all([
        store({ row: { id: nextId(), userDeviceId, codes: described.map(stored) }, vehicle, view: described }).then((outcome) => {
          if (outcome === 'vehicle-gone') throw notFound(DEVICE_NOT_FOUND);
        }),
        explain(bases, make, overrides),
      ]);
      return {
        errorCodes: described.map((d, i) => {
          const explanation = explanations.get(parsed.codes[i]!.base);
          return explanation === undefined ? d : { ...d, explanation };
        }),
        clearedAt: null,
      };
    },

    /** The owner, or a grantee holding VEHICLE_NON_LOCATION_DATA: error codes are vehicle data, not location. */
    async history(user: AuthUser, userDeviceId: string, limit: number, cursor?: string): Promise<Page<ErrorCodeQueryView>> {
      await vehicles.requirePrivilege(user, userDeviceId, NON_LOCATION_DATA, "read this vehicle's error codes");
      if (cursor !== undefined && !(await repo.queryExists(db, userDeviceId, cursor))) {
        throw badRequest(`cursor "${cursor}" is not an error-code query of this vehicle; pass the nextCursor of the previous page.`);
      }
      const rows = await repo.listQueries(db, userDeviceId, limit + 1, cursor);
      const more = rows.length > limit;
      const items = (more ? rows.slice(0, limit) : rows).map((r) => ({
        id: r.id,
        errorCodes: r.codes.map(fromStored),
        requestedAt: r.requestedAt,
        clearedAt: r.clearedAt,
      }));
      return { items, ...(more ? { nextCursor: items[items.length - 1]!.id } : {}) };
    },

    async clearLatest(user: AuthUser, userDeviceId: string): Promise<ErrorCodesResult> {
      const vehicle = await vehicles.requireOwned(user, userDeviceId);
      const latest = await repo.latestQuery(db, userDeviceId);
      if (!latest) throw notFound('No error codes have been submitted for this vehicle yet; nothing to clear.');
      const alreadyCleared = () => conflict('The most recent error codes of this vehicle are already cleared; submit new ones first.');
      if (latest.clearedAt) throw alreadyCleared();
      // Conditional update: of two concurrent clears exactly one wins, the other gets the 409.
      return db.transaction(async (tx) => {
        const cleared = await repo.markCleared(tx, latest.id);
        if (!cleared) throw alreadyCleared();
        const errorCodes = cleared.codes.map(fromStored);
        await emitEvent(tx, errorCodesEvent('error_codes.cleared', vehicle, { id: cleared.id, errorCodes, requestedAt: cleared.requestedAt, clearedAt: cleared.clearedAt }));
        return { errorCodes, clearedAt: cleared.clearedAt };
      });
    },
  };
}

export type ErrorCodeService = ReturnType<typeof createErrorCodeService>;

/** Answers null instead of calling `inner` while `max` calls are already running. */
function bounded(inner: DtcEnricher, max: number): DtcEnricher {
  let inFlight = 0;
  return {
    async explain(code, title, make) {
      if (inFlight >= max) return null;
      inFlight++;
      try {
        return await inner.explain(code, title, make);
      } finally {
        inFlight--;
      }
    },
  };
}

function stored(d: DtcDescription): repo.StoredErrorCode {
  return [d.code, d.description];
}

function fromStored(c: repo.StoredErrorCode): ErrorCodeView {
  if (!Array.isArray(c)) return c as ErrorCodeView;
  const [code, description] = c;
  const d = decodeDtc(code);
  return { code, description, system: d.system, definedBy: d.definedBy, subsystem: d.subsystem };
}

function isForeignKeyViolation(err: unknown): boolean {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (e.code === '23503') return true;
  }
  return false;
}
