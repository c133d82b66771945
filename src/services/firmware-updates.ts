// Firmware updates through the manufacturer's device cloud (API.md §2, docs/firmware-connector.md).
// Truthful by construction: a task says Succeeded only when the cloud said the device runs the
// new version (or it already did); a failed call to the cloud never changes a task's status.
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/engine.ts';
import { aftermarketDevices, firmwareUpdateTasks } from '../db/schema.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { connectorKey, type FirmwareConnectorConfig } from '../firmware/config.ts';
import {
  ConnectorUnavailableError,
  createFirmwareConnector,
  FirmwareConnectorError,
  isTerminalStatus,
  mapCloudStatus,
  planFirmwareUpdate,
  type FirmwareConnector,
  type UpdateTaskStatus,
} from '../firmware/connector.ts';
import { newKsuid } from '../domain/ids.ts';
import { AppError, conflict, ErrorCode, notFound } from '../errors.ts';
import { renderUpdateTask, requireReadableDevice, type AftermarketDeviceRow, type FirmwareTaskRow, type UpdateTaskView } from './aftermarket-devices.ts';

export interface FirmwareUpdateDeps {
  db: Db;
  /** Parsed FIRMWARE_CONNECTORS, keyed by `connectorKey(manufacturer name)`. */
  connectors: ReadonlyMap<string, FirmwareConnectorConfig>;
  /** Test seam; default `createFirmwareConnector`. */
  createConnector?: typeof createFirmwareConnector;
  now?: () => Date;
  log?: { warn(obj: object, msg: string): void };
}

export type FirmwareRequestOutcome = { created: boolean; task: UpdateTaskView };

const NON_TERMINAL: UpdateTaskStatus[] = ['Pending', 'InProgress'];

const STATUS_CODE: Record<number, ErrorCode> = {
  424: ErrorCode.FailedDependency,
  502: ErrorCode.BadGateway,
  503: ErrorCode.ServiceUnavailable,
  504: ErrorCode.GatewayTimeout,
};

/** A connector error as the API answers it: its status, its message, Retry-After passed on. */
export function toAppError(err: unknown): unknown {
  if (!(err instanceof FirmwareConnectorError)) return err;
  const headers: Record<string, string> =
    err instanceof ConnectorUnavailableError && err.retryAfter !== null ? { 'retry-after': String(err.retryAfter) } : {};
  return new AppError(err.statusCode, STATUS_CODE[err.statusCode] ?? ErrorCode.BadGateway, err.message, headers);
}

export function createFirmwareUpdateService(deps: FirmwareUpdateDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const make = deps.createConnector ?? createFirmwareConnector;

  function connectorFor(row: AftermarketDeviceRow): FirmwareConnector | null {
    const name = row.manufacturerName ?? '';
    const cfg = deps.connectors.get(connectorKey(name));
    return cfg ? make({ ...cfg, manufacturer: name }) : null;
  }

  function requireConnector(row: AftermarketDeviceRow): FirmwareConnector {
    const c = connectorFor(row);
    if (!c) {
      const name = row.manufacturerName ?? `token ${row.manufacturerTokenId ?? 'unknown'}`;
      throw new AppError(501, ErrorCode.NotImplemented, `No firmware connector is configured for manufacturer ${name}; firmware updates for its devices are not available.`);
    }
    return c;
  }

  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toAppError(err);
    }
  }

  /**
   * Asks the cloud how a non-terminal task is doing and stores what it says. A failed poll says
   * nothing about the device: the task is returned unchanged.
   */
  async function refresh(task: FirmwareTaskRow, row: AftermarketDeviceRow): Promise<FirmwareTaskRow> {
    if (isTerminalStatus(task.status as UpdateTaskStatus) || task.cloudUpdateId === null) return task;
    const connector = connectorFor(row);
    if (!connector) return task;
    let update;
    try {
      update = await connector.getUpdate(task.serial, task.cloudUpdateId);
    } catch (err) {
      deps.log?.warn({ err, taskId: task.id }, 'firmware update poll failed; task left as it was');
      return task;
    }
    const status = mapCloudStatus(update.status);
    if (status === task.status) return task;
    const at = now();
    const [saved] = await db
      .update(firmwareUpdateTasks)
      .set({ status, failureReason: status === 'Failed' ? (update.error ?? 'The device cloud reported the update as failed.') : null, updatedAt: at })
      .where(and(eq(firmwareUpdateTasks.id, task.id), inArray(firmwareUpdateTasks.status, NON_TERMINAL)))
      .returning();
    if (status === 'Succeeded' && task.toVersion !== null) {
      await db.update(aftermarketDevices).set({ firmwareVersion: task.toVersion, updatedAt: at }).where(eq(aftermarketDevices.tokenId, task.aftermarketTokenId));
    }
    if (saved) return saved;
    // Another poll settled it first: read what it stored.
    const [current] = await db.select().from(firmwareUpdateTasks).where(eq(firmwareUpdateTasks.id, task.id));
    return current ?? task;
  }

  /** Owner or paired-vehicle owner only: an unclaimed device has nobody to ask for an update. */
  async function requireUpdatable(user: AuthUser, serial: string): Promise<AftermarketDeviceRow> {
    const row = await requireReadableDevice(db, user, serial);
    if (row.ownerAddress === null) {
      throw conflict(`AftermarketDevice ${row.serial} is not claimed; claim it before requesting a firmware update.`);
    }
    return row;
  }

  return {
    /** POST …/by-serial/{serial}/update. `created` false: already current (200) or an update already under way. */
    async request(user: AuthUser, serial: string): Promise<FirmwareRequestOutcome> {
      const row = await requireUpdatable(user, serial);
      const connector = requireConnector(row);
      const devSerial = row.serial!;

      // One update at a time per device: an unfinished one is the answer.
      const [open] = await db
        .select()
        .from(firmwareUpdateTasks)
        .where(and(eq(firmwareUpdateTasks.aftermarketTokenId, row.tokenId), inArray(firmwareUpdateTasks.status, NON_TERMINAL)))
        .limit(1);
      if (open) {
        const current = await refresh(open, row);
        if (!isTerminalStatus(current.status as UpdateTaskStatus)) return { created: true, task: renderUpdateTask(current) };
      }

      const state = await call(() => connector.getState(devSerial));
      const at = now();
      await db
        .update(aftermarketDevices)
        .set({ firmwareVersion: state.currentVersion, lastSeenAt: state.lastSeenAt, updatedAt: at })
        .where(eq(aftermarketDevices.tokenId, row.tokenId));
      const plan = planFirmwareUpdate(state);
      if (plan.kind === 'no-release') {
        throw conflict(`${row.manufacturerName} offers no firmware release for AftermarketDevice ${devSerial}.`);
      }
      const base = { userId: user.id, aftermarketTokenId: row.tokenId, serial: devSerial, manufacturer: row.manufacturerName ?? '', requestedAt: at, updatedAt: at };
      if (plan.kind === 'current') {
        const [task] = await db
          .insert(firmwareUpdateTasks)
          .values({ ...base, id: newKsuid(at), status: 'Succeeded', fromVersion: plan.version, toVersion: plan.version })
          .returning();
        return { created: false, task: renderUpdateTask(task!) };
      }

      const id = newKsuid(at);
      await db.insert(firmwareUpdateTasks).values({ ...base, id, status: 'Pending', fromVersion: plan.fromVersion, toVersion: plan.toVersion });
      let update;
      try {
        update = await connector.requestUpdate(devSerial, plan.toVersion, { idempotencyKey: id });
      } catch (err) {
        // The request did not go through (as far as we know): no task may claim an update is under way.
        await db.delete(firmwareUpdateTasks).where(eq(firmwareUpdateTasks.id, id));
        throw toAppError(err);
      }
      const status = mapCloudStatus(update.status);
      const [task] = await db
        .update(firmwareUpdateTasks)
        .set({
          cloudUpdateId: update.updateId,
          status,
          failureReason: status === 'Failed' ? (update.error ?? 'The device cloud reported the update as failed.') : null,
          updatedAt: now(),
        })
        .where(eq(firmwareUpdateTasks.id, id))
        .returning();
      return { created: true, task: renderUpdateTask(task!) };
    },

    /** GET …/by-serial/{serial}/update/{taskId}: the task, polled from the cloud while unfinished. */
    async get(user: AuthUser, serial: string, taskId: string): Promise<UpdateTaskView> {
      const row = await requireReadableDevice(db, user, serial);
      const [task] = await db
        .select()
        .from(firmwareUpdateTasks)
        .where(and(eq(firmwareUpdateTasks.id, taskId), eq(firmwareUpdateTasks.aftermarketTokenId, row.tokenId)))
        .limit(1);
      if (!task) throw notFound(`Firmware update task ${taskId} not found.`);
      return renderUpdateTask(await refresh(task, row));
    },
  };
}

export type FirmwareUpdateService = ReturnType<typeof createFirmwareUpdateService>;
