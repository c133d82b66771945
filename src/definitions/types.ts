// What the rest of the service sees of a vehicle definition (API.md §1 `deviceDefinition`).

export const POWERTRAIN_TYPES = ['ICE', 'HEV', 'PHEV', 'BEV', 'FCEV'] as const;
export type PowertrainType = (typeof POWERTRAIN_TYPES)[number];

export interface DefinitionAttribute {
  readonly name: string;
  readonly value: string;
}

export interface DeviceDefinition {
  /** The slug id, `ford_bronco_2021`. */
  readonly id: string;
  /** "2021 Ford Bronco". */
  readonly name: string;
  /** `id` is the make's slug, `name` its vPIC spelling. */
  readonly make: { readonly id: string; readonly name: string };
  readonly model: string;
  readonly year: number;
  readonly powertrainType: PowertrainType;
  /** Always starts with `powertrain_type`; a decoded VIN adds what vPIC knew about that vehicle. */
  readonly attributes: readonly DefinitionAttribute[];
}

export interface DefinitionCatalog {
  /** Resolves once the vPIC data is loaded; rejects if it cannot be. */
  ready(): Promise<void>;
  /** Null when the VIN is malformed or vPIC cannot tell its make, model and year. */
  decodeVin(vin: string): Promise<DeviceDefinition | null>;
  /** Null unless the make and model exist together in vPIC and the year is 1981..next year. */
  findById(id: string): Promise<DeviceDefinition | null>;
  close(): Promise<void>;
}
