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

/** Privilege 1: reading the vehicle's data other than its location (its error codes, for one). */
export const NON_LOCATION_DATA = 1;

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

export const privilegeName = (id: number): string => privilegeById(id)?.name ?? `PRIVILEGE_${id}`;

/** Names a privilege as errors do: `1 (VEHICLE_NON_LOCATION_DATA)`. */
export const describePrivilege = (id: number): string => `${id} (${privilegeName(id)})`;

/**
 * What a caller who is not the owner may do with a vehicle on which their address holds `held`
 * (unexpired privilege ids) when the route needs `needed`. Holding nothing reads as "no such
 * vehicle", so a stranger learns nothing about which vehicles exist; a grantee, who already
 * sees the vehicle in /shared, is told which privilege is missing.
 */
export type GranteeAccess = { allowed: true } | { allowed: false; status: 404 } | { allowed: false; status: 403; message: string };

export function grantAccess(held: readonly number[], needed: number, what: string): GranteeAccess {
  if (held.includes(needed)) return { allowed: true };
  if (held.length === 0) return { allowed: false, status: 404 };
  const holds = [...new Set(held)].sort((a, b) => a - b).map(describePrivilege).join(', ');
  return {
    allowed: false,
    status: 403,
    message: `privilege ${describePrivilege(needed)} required to ${what}; your address holds ${holds} on this vehicle. Ask its owner to share privilege ${needed}.`,
  };
}
