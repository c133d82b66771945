// Powertrain type from what vPIC says about fuel. Pure.
//
// vPIC rarely fills "Electrification Level" (2 patterns in the bundled data), so fuel types carry
// the signal, following vPIC's coding: a hybrid is primary gasoline/diesel + secondary electric,
// a plug-in hybrid primary electric + secondary gasoline (Chevrolet Volt), a BEV electric alone,
// a fuel-cell car "Fuel Cell" (or hydrogen).
import type { PowertrainType } from './types.ts';

export interface FuelFacts {
  primaryFuel?: string | undefined;
  secondaryFuel?: string | undefined;
  electrificationLevel?: string | undefined;
  /** Free text such as vPIC's "Engine Model" / "Other Engine Info" ("HEV", "PHEV", "Plug-in"). */
  engineInfo?: string | undefined;
}

const isElectric = (fuel: string) => /electric/i.test(fuel);
const isFuelCell = (fuel: string) => /fuel cell|hydrogen/i.test(fuel);

/** The powertrain of one decoded vehicle. */
export function powertrainOf(facts: FuelFacts): PowertrainType {
  const level = fromElectrificationLevel(facts.electrificationLevel);
  if (level) return level;
  const primary = facts.primaryFuel?.trim() ?? '';
  const secondary = facts.secondaryFuel?.trim() ?? '';
  const info = facts.engineInfo ?? '';
  if (isFuelCell(primary) || isFuelCell(secondary)) return 'FCEV';
  if (isElectric(primary)) return secondary === '' || isElectric(secondary) ? 'BEV' : 'PHEV';
  if (isElectric(secondary)) return /\bPHEV\b|plug-?in/i.test(info) ? 'PHEV' : 'HEV';
  if (/\bPHEV\b|plug-?in hybrid/i.test(info)) return 'PHEV';
  if (/\bHEV\b|hybrid/i.test(info)) return 'HEV';
  return 'ICE';
}

export interface FuelPatternCounts {
  /** Fuel name → how many of the model's patterns give it, per vPIC element. */
  primary: ReadonlyMap<string, number>;
  secondary: ReadonlyMap<string, number>;
  electrification: ReadonlyMap<string, number>;
}

/**
 * The powertrain of a model-year from the fuel patterns that can apply to it. Conservative:
 * anything but a unanimous answer is ICE (the default), because one model name often covers
 * both combustion and electric variants (F-150, Kona); the VIN decode knows better.
 */
export function modelPowertrain(counts: FuelPatternCounts): PowertrainType {
  const [level, ...otherLevels] = counts.electrification.keys();
  if (level !== undefined && otherLevels.length === 0) {
    const fromLevel = fromElectrificationLevel(level);
    if (fromLevel) return fromLevel;
  }
  const primaries = [...counts.primary];
  const only = primaries[0];
  if (!only || primaries.length > 1) return 'ICE';
  const [fuel, primaryCount] = only;
  const secondaries = [...counts.secondary];
  // A secondary fuel counts only when it is the one and covers every primary pattern (Prius);
  // a partial one marks some variants only (BMW i3 with range extender).
  const s = secondaries[0];
  const secondaryFuel = secondaries.length === 1 && s && s[1] >= primaryCount ? s[0] : undefined;
  return powertrainOf({ primaryFuel: fuel, secondaryFuel });
}

function fromElectrificationLevel(level: string | undefined): PowertrainType | undefined {
  if (!level) return undefined;
  if (/^BEV\b/i.test(level)) return 'BEV';
  if (/^FCEV\b/i.test(level)) return 'FCEV';
  if (/\bPHEV\b|plug-in/i.test(level)) return 'PHEV';
  if (/\bHEV\b|hybrid/i.test(level)) return 'HEV';
  return undefined;
}
