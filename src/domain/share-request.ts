// Parsing what an owner asks to share (grantee, privilege ids, expiry) and deriving a share's
// status from the relayed requests and the indexed privileges. Pure: no I/O.
import { isPrivilegeId, PRIVILEGE_IDS } from './privileges.ts';
import { isInFlight } from './relay-state.ts';

export { privilegeName } from './privileges.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** Lower-case address, or why `raw` is not one. */
export function parseGrantee(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string' || !ADDRESS.test(raw)) return { ok: false, message: 'grantee must be an Ethereum address (0x followed by 40 hex digits).' };
  return { ok: true, value: raw.toLowerCase() };
}

/** Privilege ids from `1,3` (query) or `[1, 3]` (body): known ids, sorted, without repeats. */
export function parsePrivilegeIds(raw: unknown): Parsed<number[]> {
  const parts = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : Array.isArray(raw) ? raw.map((v) => String(v).trim()) : null;
  if (!parts || parts.length === 0 || parts.every((p) => p === '')) return { ok: false, message: 'privileges must list at least one privilege id, e.g. 1,3.' };
  const ids = new Set<number>();
  for (const p of parts) {
    const id = /^[0-9]{1,6}$/.test(p) ? Number(p) : NaN;
    if (!isPrivilegeId(id)) return { ok: false, message: `privileges: unknown privilege id "${p}"; known ids are ${PRIVILEGE_IDS.join(', ')} (GET /v1/privileges).` };
    ids.add(id);
  }
  return { ok: true, value: [...ids].sort((a, b) => a - b) };
}

/** Unix seconds of an RFC 3339 time strictly after `now` and at most `maxDays` ahead. */
export function parseExpiresAt(raw: unknown, now: Date, maxDays: number): Parsed<number> {
  const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
  const ms = typeof raw === 'string' && rfc3339.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) return { ok: false, message: 'expiresAt must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z.' };
  const seconds = Math.floor(ms / 1000);
  if (seconds * 1000 <= now.getTime()) return { ok: false, message: `expiresAt ${raw} is not in the future.` };
  if (ms > now.getTime() + maxDays * 86_400_000) return { ok: false, message: `expiresAt ${raw} is more than ${maxDays} days ahead (SHARE_MAX_DAYS).` };
  return { ok: true, value: seconds };
}

export type ShareStatus = 'Pending' | 'Active' | 'Expired' | 'Revoked' | 'Failed';

/** A SetPrivileges request as the shares list needs it (its subject, parsed). */
export interface ShareRequest {
  id: string;
  action: 'grant' | 'revoke';
  grantee: string;
  privileges: number[];
  /** Unix seconds; 0 for a revocation. */
  expires: number;
  status: string;
  createdAt: Date;
  updatedAt: Date;
}

/** An indexed privilege of the vehicle (nft_privileges row). */
export interface HeldPrivilege {
  grantee: string;
  privilege: number;
  expiry: Date;
}

export interface ShareView {
  grantee: string;
  privileges: { id: number; expiresAt: Date }[];
  status: ShareStatus;
  requestId: string | null;
  /** When the share was asked for or seen; newest first. */
  since: Date;
}

export const SHARE_HISTORY_MS = 30 * 86_400_000;

/**
 * One entry per grant request (plus privileges granted on chain without one, e.g. by the owner's
 * own setPrivilege call). A confirmed grant is Active while the chain still holds its privileges
 * with its expiry; Expired once that expiry passed unless a later change of the grantee's
 * privileges came first; Revoked otherwise (a revocation, a newer grant, or a transfer, which
 * deletes the vehicle's privileges). Ended shares are listed for 30 days.
 */
export function deriveShares(requests: ShareRequest[], held: HeldPrivilege[], now: Date): ShareView[] {
  const t = now.getTime();
  const heldKey = (g: string, p: number) => `${g}:${p}`;
  const holding = new Map(held.map((h) => [heldKey(h.grantee, h.privilege), h.expiry.getTime()]));
  const explained = new Set<string>();
  const out: ShareView[] = [];
  const ordered = [...requests].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  for (const [i, r] of ordered.entries()) {
    if (r.action !== 'grant') continue;
    const expMs = r.expires * 1000;
    const privileges = (ids: number[]) => ids.map((id) => ({ id, expiresAt: new Date(expMs) }));
    let status: ShareStatus;
    let shown = r.privileges;
    if (isInFlight(r.status)) status = 'Pending';
    else if (r.status === 'Failed') status = 'Failed';
    else {
      const own = r.privileges.filter((p) => holding.get(heldKey(r.grantee, p)) === expMs);
      for (const p of own) explained.add(heldKey(r.grantee, p));
      const live = expMs > t ? own : [];
      const laterChange = ordered.slice(i + 1).find((x) => x.grantee === r.grantee && x.status === 'Confirmed' && x.privileges.some((p) => r.privileges.includes(p)));
      if (live.length > 0) {
        status = 'Active';
        shown = live;
      } else if (expMs <= t && !(laterChange && laterChange.updatedAt.getTime() < expMs)) status = 'Expired';
      else status = 'Revoked';
    }
    const ended = status === 'Failed' || status === 'Revoked' ? r.updatedAt.getTime() : status === 'Expired' ? expMs : t;
    if (t - ended > SHARE_HISTORY_MS) continue;
    out.push({ grantee: r.grantee, privileges: privileges(shown), status, requestId: r.id, since: r.createdAt });
  }
  // Privileges on chain that no request of this service explains, grouped by grantee and expiry.
  const direct = new Map<string, ShareView>();
  for (const h of held) {
    if (explained.has(heldKey(h.grantee, h.privilege))) continue;
    const e = h.expiry.getTime();
    if (t - e > SHARE_HISTORY_MS) continue;
    const key = `${h.grantee}:${e}`;
    let v = direct.get(key);
    if (!v) direct.set(key, (v = { grantee: h.grantee, privileges: [], status: e > t ? 'Active' : 'Expired', requestId: null, since: h.expiry }));
    v.privileges.push({ id: h.privilege, expiresAt: h.expiry });
  }
  out.push(...direct.values());
  for (const v of out) v.privileges.sort((a, b) => a.id - b.id);
  return out.sort((a, b) => b.since.getTime() - a.since.getTime());
}
