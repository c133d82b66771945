// Firmware updates through the manufacturer's device cloud (API.md §2, docs/firmware-connector.md).
// Truthful by construction: a task says Succeeded only when the cloud said the device runs the
// new version (or it already did); a failed call to the cloud never changes a task's status.
import type { Db } from '../db/engine.ts';
import { recordFirmware, type AftermarketDeviceRow } from '../db/repositories/aftermarket-devices.ts';
import * as tasks from '../db/repositories/firmware-tasks.ts';
import type { FirmwareTaskRow } from '../db/repositories/firmware-tasks.ts';
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
import { toUpdateTask, type UpdateTask } from '../domain/views.ts';
import { requireReadableDevice } from './aftermarket-devices.ts';

export interface FirmwareUpdateDeps {
  db: Db;
  /** Parsed FIRMWARE_CONNECTORS, keyed by `connectorKey(manufacturer name)`. */
  connectors: ReadonlyMap<string, FirmwareConnectorConfig>;
  /** Test seam; default `createFirmwareConnector`. */
  createConnector?: typeof createFirmwareConnector;
  now?: () => Date;
  log?: { warn(obj: object, msg: string): void };
}

export type FirmwareRequestOutcome = { created: boolean; task: UpdateTask };

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

/** A Failed task says why: the cloud's reason, else that the cloud said so. */
const failureReason = (status: UpdateTaskStatus, error: string | undefined | null): string | null =>
  status === 'Failed' ? (error ?? 'The device cloud reported the update as failed.') : null;

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
    const saved = await tasks.updateUnfinished(db, task.id, { status, failureReason: failureReason(status, update.error), updatedAt: at });
    if (status === 'Succeeded' && task.toVersion !== null) await recordFirmware(db, task.aftermarketTokenId, { firmwareVersion: task.toVersion }, at);
    if (saved) return saved;
    // Another poll settled it first: read what it stored.
    return (await tasks.findTask(db, task.id)) ?? task;
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
      const open = await tasks.unfinishedFor(db, row.tokenId);
      if (open) {
        const current = await refresh(open, row);
        if (!isTerminalStatus(current.status as UpdateTaskStatus)) return { created: true, task: toUpdateTask(current) };
      }

      const state = await call(() => connector.getState(devSerial));
      const at = now();
      await recordFirmware(db, row.tokenId, { firmwareVersion: state.currentVersion, lastSeenAt: state.lastSeenAt }, at);
      const plan = planFirmwareUpdate(state);
      if (plan.kind === 'no-release') {
        throw conflict(`${row.manufacturerName} offers no firmware release for AftermarketDevice ${devSerial}.`);
      }
      const base = { userId: user.id, aftermarketTokenId: row.tokenId, serial: devSerial, manufacturer: row.manufacturerName ?? '', requestedAt: at, updatedAt: at };
      if (plan.kind === 'current') {
        const task = await tasks.insertTask(db, { ...base, id: newKsuid(at), status: 'Succeeded', fromVersion: plan.version, toVersion: plan.version });
        return { created: false, task: toUpdateTask(task) };
      }

      const id = newKsuid(at);
      await tasks.insertTask(db, { ...base, id, status: 'Pending', fromVersion: plan.fromVersion, toVersion: plan.toVersion });
      let update;
      try {
        update = await connector.requestUpdate(devSerial, plan.toVersion, { idempotencyKey: id });
      } catch (err) {
        // The request did not go through (as far as we know): no task may claim an update is under way.
        await tasks.deleteTask(db, id);
        throw toAppError(err);
      }
      const status = mapCloudStatus(update.status);
      const task = await tasks.updateTask(db, id, { cloudUpdateId: update.updateId, status, failureReason: failureReason(status, update.error), updatedAt: now() });
      return { created: true, task: toUpdateTask(task!) };
    },

    /** GET …/by-serial/{serial}/update/{taskId}: the task, polled from the cloud while unfinished. */
    async get(user: AuthUser, serial: string, taskId: string): Promise<UpdateTask> {
      const row = await requireReadableDevice(db, user, serial);
      const task = await tasks.findForDevice(db, row.tokenId, taskId);
      if (!task) throw notFound(`Firmware update task ${taskId} not found.`);
      return toUpdateTask(await refresh(task, row));
    },
  };
}

export type FirmwareUpdateService = ReturnType<typeof createFirmwareUpdateService>;
