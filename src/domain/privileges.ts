// The vehicle privileges an owner can share (DIMO's ids and names), listed at GET /v1/privileges.
// The chain stores any uint256 as a privilege id; this catalogue is what the service accepts.

export interface Privilege {
  readonly id: number;
  /** DIMO's identifier (its GraphQL `Privilege` enum spelling). */
  readonly name: string;
  readonly description: string;
}

export const PRIVILEGES: readonly Privilege[] = Object.freeze(
  [
    { id: 1, name: 'VEHICLE_NON_LOCATION_DATA', description: 'Read all of the vehicle’s data except its location, current and historical.' },
    { id: 2, name: 'VEHICLE_COMMANDS', description: 'Send commands to the vehicle, such as locking or unlocking its doors.' },
    { id: 3, name: 'VEHICLE_CURRENT_LOCATION', description: 'Read where the vehicle is now.' },
    { id: 4, name: 'VEHICLE_ALL_TIME_LOCATION', description: 'Read where the vehicle is now and everywhere it has been.' },
    { id: 5, name: 'VEHICLE_VIN_CREDENTIAL', description: 'Read the vehicle’s VIN credential.' },
    { id: 6, name: 'VEHICLE_LIVE_LOCATION', description: 'Follow the vehicle’s location live, as it moves.' },
    { id: 7, name: 'VEHICLE_RAW_DATA', description: 'Read the raw, undecoded data the vehicle’s devices send.' },
    { id: 8, name: 'VEHICLE_APPROXIMATE_LOCATION', description: 'Read the vehicle’s approximate location (an area, not a point).' },
  ].map((p) => Object.freeze(p)),
);

export const PRIVILEGE_IDS: readonly number[] = Object.freeze(PRIVILEGES.map((p) => p.id));

const BY_ID: ReadonlyMap<number, Privilege> = new Map(PRIVILEGES.map((p) => [p.id, p]));

/** The privilege with this id, or undefined for an id the service does not know. */
export function privilegeById(id: number | bigint): Privilege | undefined {
  const n = typeof id === 'bigint' ? (id <= BigInt(Number.MAX_SAFE_INTEGER) && id >= 0n ? Number(id) : NaN) : id;
  return BY_ID.get(n);
}

export function isPrivilegeId(id: number | bigint): boolean {
  return privilegeById(id) !== undefined;
}
