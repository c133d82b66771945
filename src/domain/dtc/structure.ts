// What a DTC's characters say by themselves (SAE J2012 §5): which vehicle system reports it,
// whether SAE or the manufacturer defines its meaning, and the subsystem group.
import { parseDtc } from './code.ts';
import type { ParsedDtc } from './code.ts';
import { describeFailureType } from './failure-type.ts';

export type DtcSystem = 'Powertrain' | 'Chassis' | 'Body' | 'Network';
export type DtcDefinedBy = 'SAE' | 'Manufacturer';

export interface DecodedDtc extends ParsedDtc {
  readonly system: DtcSystem;
  readonly definedBy: DtcDefinedBy;
  readonly subsystem: string;
  /** What the failure-type byte means, when one was given. */
  readonly failureTypeMeaning: string | null;
}

const SYSTEMS: Readonly<Record<string, DtcSystem>> = { P: 'Powertrain', C: 'Chassis', B: 'Body', U: 'Network' };

const FUEL_AIR_AUX = 'Fuel and air metering and auxiliary emission controls';
const TRANSMISSION = 'Transmission';
const HYBRID = 'Hybrid and electric propulsion';
export const RESERVED = 'Reserved by SAE';
export const MANUFACTURER_GROUP = 'Manufacturer-controlled group';

// Third character of P0 codes; manufacturers mostly follow the same grouping for P1 codes.
const P0_GROUPS: Readonly<Record<string, string>> = {
  '0': FUEL_AIR_AUX,
  '1': 'Fuel and air metering',
  '2': 'Fuel and air metering (injector circuits)',
  '3': 'Ignition system or misfire',
  '4': 'Auxiliary emission controls',
  '5': 'Vehicle speed, idle control and auxiliary inputs',
  '6': 'Computer and auxiliary outputs',
  '7': TRANSMISSION,
  '8': TRANSMISSION,
  '9': TRANSMISSION,
  A: HYBRID,
  B: HYBRID,
  C: HYBRID,
  D: HYBRID,
  E: RESERVED,
  F: RESERVED,
};

// Third character of P2 codes: the overflow of the P0 groups.
const P2_GROUPS: Readonly<Record<string, string>> = {
  '0': FUEL_AIR_AUX,
  '1': FUEL_AIR_AUX,
  '2': FUEL_AIR_AUX,
  '3': 'Ignition system or misfire',
  '4': 'Auxiliary emission controls',
  '5': 'Auxiliary inputs',
  '6': 'Computer and auxiliary outputs',
  '7': TRANSMISSION,
  '8': TRANSMISSION,
  '9': TRANSMISSION,
  A: FUEL_AIR_AUX,
  B: FUEL_AIR_AUX,
  C: FUEL_AIR_AUX,
  D: RESERVED,
  E: RESERVED,
  F: RESERVED,
};

// Third character of U0 codes.
const U0_GROUPS: Readonly<Record<string, string>> = {
  '0': 'Network electrical',
  '1': 'Network communication (lost communication)',
  '2': 'Network communication (lost communication)',
  '3': 'Network software (incompatibility)',
  '4': 'Network data (invalid data)',
  '5': 'Network data (invalid data)',
};

/** Decodes a code (a string in any accepted form, or an already parsed one). */
export function decodeDtc(code: string | ParsedDtc): DecodedDtc {
  const parsed = typeof code === 'string' ? parseDtc(code) : code;
  if (!parsed) throw new RangeError(`not a DTC: ${JSON.stringify(code)}`);
  const letter = parsed.base.charAt(0);
  const second = parsed.base.charAt(1);
  const third = parsed.base.charAt(2);
  const system = SYSTEMS[letter] as DtcSystem;
  const definedBy = definedByOf(letter, second, third);
  // Fields copied one by one: V8 (Node 20) takes a slow path for `{ ...parsed, more }`, about
  // a microsecond per object, and this runs for every submitted code.
  return {
    code: parsed.code,
    base: parsed.base,
    failureType: parsed.failureType,
    system,
    definedBy,
    subsystem: subsystemOf(letter, second, third, definedBy),
    failureTypeMeaning: parsed.failureType === null ? null : describeFailureType(parsed.failureType),
  };
}

// P1, P30-P33, and B1/B2, C1/C2, U1/U2 belong to manufacturers; the rest to SAE.
function definedByOf(letter: string, second: string, third: string): DtcDefinedBy {
  if (second === '1') return 'Manufacturer';
  if (second === '2') return letter === 'P' ? 'SAE' : 'Manufacturer';
  if (second === '3' && letter === 'P') return third <= '3' ? 'Manufacturer' : 'SAE';
  return 'SAE';
}

function subsystemOf(letter: string, second: string, third: string, definedBy: DtcDefinedBy): string {
  if (letter === 'P') {
    if (second === '0' || second === '1') return P0_GROUPS[third] as string;
    if (second === '2') return P2_GROUPS[third] as string;
    if (definedBy === 'Manufacturer') return MANUFACTURER_GROUP;
    return third === '4' ? 'Cylinder deactivation' : RESERVED;
  }
  if (definedBy === 'Manufacturer') return MANUFACTURER_GROUP;
  // C3, B3 and U3 are held back by SAE for future use.
  if (second === '3') return RESERVED;
  if (letter === 'U') return U0_GROUPS[third] ?? RESERVED;
  // J2012 assigns no subgroups inside the SAE chassis and body ranges.
  return letter === 'C' ? 'Chassis systems (brakes, steering, suspension)' : 'Body systems (restraints, comfort, lighting)';
}
