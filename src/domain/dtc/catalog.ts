// The bundled DTC title table and the description every submitted code gets (API.md §4).
import type { ParsedDtc } from './code.ts';
import { normaliseMake } from './make.ts';
import { MANUFACTURER_GROUP, RESERVED, decodeDtc } from './structure.ts';
import type { DecodedDtc, DtcDefinedBy, DtcSystem } from './structure.ts';
import { BODY_CHASSIS } from './titles/body-chassis.ts';
import { NETWORK } from './titles/network.ts';
import { POWERTRAIN_P0 } from './titles/powertrain-p0.ts';
import { POWERTRAIN_P2_P3 } from './titles/powertrain-p2-p3.ts';

export interface DtcCatalog {
  /** The bundled title of a five-character code (no failure-type byte), if it has one. */
  title(base: string): string | undefined;
  /** Every code with a bundled title, sorted. */
  readonly codes: readonly string[];
}

/**
 * Titles imported into the database (`devices-api dtc import`), looked up synchronously — the
 * service loads the rows for a request's codes first. `make` is normalised (see normaliseMake)
 * or null for rows that apply to every make.
 */
export type DtcOverrides = (base: string, make: string | null) => string | undefined;

/** Where a description's title came from (the `source` label of dtc_lookups_total). */
export type DtcTitleSource = 'imported_make' | 'imported' | 'bundled' | 'structure';

export interface DescribeOptions {
  readonly catalog: DtcCatalog;
  /** The vehicle's make, for manufacturer-specific imported titles. */
  readonly make?: string | null;
  readonly overrides?: DtcOverrides;
  /** Told which source answered (for the metrics). */
  readonly onSource?: (source: DtcTitleSource) => void;
}

/** One entry of an error-code response. */
export interface DtcDescription {
  readonly code: string;
  readonly description: string;
  readonly system: DtcSystem;
  readonly definedBy: DtcDefinedBy;
  readonly subsystem: string;
}

/** Builds the bundled table. Call once per process and share the result; it is immutable. */
export function createDtcCatalog(): DtcCatalog {
  const titles = new Map<string, string>();
  for (const [code, title] of [...POWERTRAIN_P0, ...POWERTRAIN_P2_P3, ...NETWORK, ...BODY_CHASSIS]) {
    // Two families claiming one code means a numbering mistake in the table source.
    if (titles.has(code)) throw new Error(`bundled DTC table lists ${code} twice`);
    titles.set(code, title);
  }
  const codes = Object.freeze([...titles.keys()].sort());
  return Object.freeze({ title: (base: string) => titles.get(base), codes });
}

/**
 * Describes a code. The title comes from, in order: an imported title for the vehicle's make,
 * an imported title for all makes, the bundled table, and finally what the code's structure
 * says — so the description is never empty. A failure-type byte adds its meaning in brackets.
 */
export function describeDtc(code: string | ParsedDtc, options: DescribeOptions): DtcDescription {
  const decoded = decodeDtc(code);
  const make = normaliseMake(options.make);
  const [title, source] = titleOf(decoded, make, options);
  options.onSource?.(source);
  return {
    code: decoded.code,
    description: decoded.failureTypeMeaning === null ? title : `${title} (${decoded.failureTypeMeaning})`,
    system: decoded.system,
    definedBy: decoded.definedBy,
    subsystem: decoded.subsystem,
  };
}

function titleOf(decoded: DecodedDtc, make: string | null, options: DescribeOptions): [string, DtcTitleSource] {
  const forMake = nonBlank(make === null ? undefined : options.overrides?.(decoded.base, make));
  if (forMake !== undefined) return [forMake, 'imported_make'];
  const forAll = nonBlank(options.overrides?.(decoded.base, null));
  if (forAll !== undefined) return [forAll, 'imported'];
  const bundled = options.catalog.title(decoded.base);
  if (bundled !== undefined) return [bundled, 'bundled'];
  return [explainStructure(decoded, options.make?.trim() || null), 'structure'];
}

function nonBlank(s: string | undefined): string | undefined {
  return s?.trim() ? s.trim() : undefined;
}

// For codes no table names: say what kind of code it is and where its meaning is defined.
function explainStructure(d: DecodedDtc, make: string | null): string {
  const system = d.system.toLowerCase();
  if (d.definedBy === 'Manufacturer') {
    const group = d.subsystem === MANUFACTURER_GROUP ? '' : ` in the ${lowerFirst(d.subsystem)} group`;
    const owner = make === null ? 'the vehicle manufacturer' : make;
    return `Manufacturer-specific ${system} code${group}; its exact meaning is defined by ${owner}`;
  }
  if (d.subsystem === RESERVED) {
    return `SAE ${system} code in a range SAE reserves for future use; no standard meaning is assigned yet`;
  }
  return `SAE-defined ${system} code in the ${lowerFirst(d.subsystem)} group; no specific title is bundled for it`;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
