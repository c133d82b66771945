// Client for one manufacturer's device cloud, speaking the protocol in docs/firmware-connector.md.
// Every answer is validated strictly: anything that is not exactly the documented shape becomes
// a typed error, never a default, so a broken cloud cannot make an update look successful.
import { readCappedBody } from '../http-client/read-capped-body.ts';

export type CloudUpdateStatus = 'pending' | 'in_progress' | 'succeeded' | 'failed';
/** `UpdateTask.status` in the API. */
export type UpdateTaskStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed';

export interface CloudFirmwareState {
  /** Null when the device has never reported a version. */
  readonly currentVersion: string | null;
  /** Null when the manufacturer offers no release for this device. */
  readonly latestVersion: string | null;
  readonly lastSeenAt: Date | null;
}

export interface CloudUpdate {
  readonly updateId: string;
  readonly status: CloudUpdateStatus;
  /** The cloud's reason for a failure, cleaned and capped; null otherwise or when not given. */
  readonly error: string | null;
}

export interface FirmwareConnector {
  getState(serial: string): Promise<CloudFirmwareState>;
  /**
   * Asks the cloud to install `toVersion`. Pass a stable `idempotencyKey` (e.g. the task id) so
   * that retrying after a timeout cannot start a second update.
   */
  requestUpdate(serial: string, toVersion: string, options?: { readonly idempotencyKey?: string }): Promise<CloudUpdate>;
  getUpdate(serial: string, updateId: string): Promise<CloudUpdate>;
}

export interface FirmwareConnectorOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly timeoutMs: number;
  /** Used in error messages, e.g. "AutoPi". */
  readonly manufacturer?: string | undefined;
  readonly fetch?: typeof fetch | undefined;
}

/** Most bytes read from a cloud answer; the documented ones are a few hundred. */
export const MAX_CLOUD_RESPONSE_BYTES = 64 * 1024;
const MAX_ERROR_CHARS = 500;

// ---------------------------------------------------------------------------------------------
// Errors. `statusCode` is what the API should answer; messages never contain the token.

export abstract class FirmwareConnectorError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;
}

export type UnavailableReason = 'timeout' | 'unreachable' | 'server_error' | 'busy';

/** The cloud did not answer in time, could not be reached, or answered 5xx/429 (→ 502/503/504). */
export class ConnectorUnavailableError extends FirmwareConnectorError {
  override readonly name = 'ConnectorUnavailableError';
  readonly code = 'FIRMWARE_CLOUD_UNAVAILABLE';
  readonly statusCode: number;
  constructor(
    readonly reason: UnavailableReason,
    message: string,
    /** Seconds, from the cloud's Retry-After, when it gave one. */
    readonly retryAfter: number | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.statusCode = reason === 'timeout' ? 504 : reason === 'busy' ? 503 : 502;
  }
}

/**
 * The cloud refused the request: 401/403 (our token is wrong — a configuration problem, not
 * the caller's), a redirect, or another unexpected status (→ 502).
 */
export class ConnectorRejectedError extends FirmwareConnectorError {
  override readonly name = 'ConnectorRejectedError';
  readonly code = 'FIRMWARE_CLOUD_REJECTED';
  readonly statusCode = 502;
  constructor(
    readonly reason: 'unauthorized' | 'unexpected_status',
    readonly cloudStatus: number,
    message: string,
  ) {
    super(message);
  }
}

/** The cloud answered something other than the documented shape (→ 502). */
export class ConnectorProtocolError extends FirmwareConnectorError {
  override readonly name = 'ConnectorProtocolError';
  readonly code = 'FIRMWARE_CLOUD_BAD_RESPONSE';
  readonly statusCode = 502;
}

/** The manufacturer's cloud does not know this serial (cloud 404) (→ 424: nothing to update through). */
export class DeviceUnknownToCloudError extends FirmwareConnectorError {
  override readonly name = 'DeviceUnknownToCloudError';
  readonly code = 'DEVICE_UNKNOWN_TO_FIRMWARE_CLOUD';
  readonly statusCode = 424;
  constructor(
    readonly serial: string,
    message: string,
  ) {
    super(message);
  }
}

/** The cloud has no record of an update it gave us an id for (cloud 404) (→ 502). */
export class UpdateUnknownToCloudError extends FirmwareConnectorError {
  override readonly name = 'UpdateUnknownToCloudError';
  readonly code = 'FIRMWARE_UPDATE_UNKNOWN_TO_CLOUD';
  readonly statusCode = 502;
  constructor(
    readonly updateId: string,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Pure helpers.

const TASK_STATUS: Record<CloudUpdateStatus, UpdateTaskStatus> = {
  pending: 'Pending',
  in_progress: 'InProgress',
  succeeded: 'Succeeded',
  failed: 'Failed',
};

export function mapCloudStatus(status: CloudUpdateStatus): UpdateTaskStatus {
  return TASK_STATUS[status];
}

export function isTerminalStatus(status: UpdateTaskStatus): boolean {
  return status === 'Succeeded' || status === 'Failed';
}

export type FirmwareUpdatePlan =
  | { readonly kind: 'current'; readonly version: string }
  | { readonly kind: 'update'; readonly fromVersion: string | null; readonly toVersion: string }
  | { readonly kind: 'no-release' };

/**
 * What an update request should do given the cloud's state: nothing when the device already
 * runs the latest release (→ 200 Succeeded), install the latest otherwise. Versions are compared
 * as opaque strings: manufacturers' schemes differ, and "latest" is the cloud's judgement.
 */
export function planFirmwareUpdate(state: CloudFirmwareState): FirmwareUpdatePlan {
  if (state.latestVersion === null) return { kind: 'no-release' };
  if (state.currentVersion === state.latestVersion) return { kind: 'current', version: state.currentVersion };
  return { kind: 'update', fromVersion: state.currentVersion, toVersion: state.latestVersion };
}

// ---------------------------------------------------------------------------------------------
// The client.

export function createFirmwareConnector(opts: FirmwareConnectorOptions): FirmwareConnector {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const base = opts.baseUrl.replace(/\/+$/, '');
  const cloud = opts.manufacturer ? `${opts.manufacturer}'s device cloud` : 'the device cloud';
  const devicePath = (serial: string) => `/devices/${encodeURIComponent(serial)}/firmware`;

  async function send(method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The abort stops a cooperative fetch; the race also covers one that ignores its signal.
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new ConnectorUnavailableError('timeout', `${cloud} did not answer within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
    });
    const exchange = async (): Promise<Answer> => {
      let res: Response;
      try {
        res = await doFetch(base + path, {
          method,
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${opts.token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: controller.signal,
          // Following a redirect would hand the token to wherever it points.
          redirect: 'manual',
        });
      } catch (err) {
        if (controller.signal.aborted) throw new ConnectorUnavailableError('timeout', `${cloud} did not answer within ${opts.timeoutMs} ms`);
        throw new ConnectorUnavailableError('unreachable', `${cloud} could not be reached`, null, { cause: err });
      }
      const text = await readCappedBody(res, MAX_CLOUD_RESPONSE_BYTES).catch((err: unknown) => {
        if (controller.signal.aborted) throw new ConnectorUnavailableError('timeout', `${cloud} did not answer within ${opts.timeoutMs} ms`);
        throw new ConnectorUnavailableError('unreachable', `${cloud} broke off its answer`, null, { cause: err });
      });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), text };
    };
    try {
      return await Promise.race([exchange(), timedOut]);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }

  /** Turns every non-2xx answer into its error; `notFound` builds the 404 one. */
  function expectSuccess(answer: Answer, notFound: () => FirmwareConnectorError): unknown {
    const { status } = answer;
    if (status === 404) throw notFound();
    if (status === 401 || status === 403) {
      throw new ConnectorRejectedError('unauthorized', status, `${cloud} refused our credentials (HTTP ${status}); check FIRMWARE_CONNECTORS`);
    }
    if (status === 503 || status === 429) {
      throw new ConnectorUnavailableError('busy', `${cloud} is temporarily unavailable (HTTP ${status})`, retryAfterSeconds(answer.retryAfter));
    }
    if (status >= 500) throw new ConnectorUnavailableError('server_error', `${cloud} failed (HTTP ${status})`);
    if (status < 200 || status > 299) {
      throw new ConnectorRejectedError('unexpected_status', status, `${cloud} answered HTTP ${status}, which the protocol does not allow`);
    }
    if (answer.text === null) throw new ConnectorProtocolError(`${cloud} sent an answer larger than ${MAX_CLOUD_RESPONSE_BYTES} bytes`);
    try {
      return JSON.parse(answer.text);
    } catch {
      throw new ConnectorProtocolError(`${cloud} sent an answer that is not JSON`);
    }
  }

  const bad = (what: string) => new ConnectorProtocolError(`${cloud} sent a malformed answer: ${what}`);
  const deviceUnknown = (serial: string) => () =>
    new DeviceUnknownToCloudError(serial, `${cloud} does not know device ${serial}; it may not have connected to it yet`);

  return {
    async getState(serial) {
      const json = expectSuccess(await send('GET', devicePath(serial)), deviceUnknown(serial));
      return parseState(json, bad);
    },

    async requestUpdate(serial, toVersion, options) {
      const headers = options?.idempotencyKey === undefined ? undefined : { 'idempotency-key': options.idempotencyKey };
      const answer = await send('POST', `${devicePath(serial)}/updates`, { toVersion }, headers);
      return parseUpdate(expectSuccess(answer, deviceUnknown(serial)), null, bad);
    },

    async getUpdate(serial, updateId) {
      const answer = await send('GET', `${devicePath(serial)}/updates/${encodeURIComponent(updateId)}`);
      const json = expectSuccess(
        answer,
        () => new UpdateUnknownToCloudError(updateId, `${cloud} has no record of update ${updateId} for device ${serial}`),
      );
      return parseUpdate(json, updateId, bad);
    },
  };
}

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  /** Null when the body passed the byte cap. */
  readonly text: string | null;
}

function retryAfterSeconds(header: string | null): number | null {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return null;
  return Number(header.trim());
}

// ---------------------------------------------------------------------------------------------
// Validation of the cloud's answers.

const VERSION = /^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$/;
const UPDATE_ID = /^[0-9A-Za-z][0-9A-Za-z._:-]{0,127}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const STATUSES: ReadonlySet<string> = new Set<CloudUpdateStatus>(['pending', 'in_progress', 'succeeded', 'failed']);

type Bad = (what: string) => ConnectorProtocolError;

function parseState(json: unknown, bad: Bad): CloudFirmwareState {
  if (!isRecord(json)) throw bad('expected an object');
  for (const field of ['currentVersion', 'latestVersion', 'lastSeenAt']) {
    if (!(field in json)) throw bad(`"${field}" is missing (send null when unknown)`);
  }
  return {
    currentVersion: parseVersion(json.currentVersion, 'currentVersion', bad),
    latestVersion: parseVersion(json.latestVersion, 'latestVersion', bad),
    lastSeenAt: parseTime(json.lastSeenAt, 'lastSeenAt', bad),
  };
}

function parseVersion(v: unknown, field: string, bad: Bad): string | null {
  if (v === null) return null;
  if (typeof v !== 'string' || !VERSION.test(v)) throw bad(`"${field}" is not a version string`);
  return v;
}

function parseTime(v: unknown, field: string, bad: Bad): Date | null {
  if (v === null) return null;
  if (typeof v !== 'string' || !ISO_TIME.test(v)) throw bad(`"${field}" is not an ISO 8601 date-time`);
  const t = new Date(v);
  if (Number.isNaN(t.getTime())) throw bad(`"${field}" is not a real date-time`);
  return t;
}

/** `expectedId` null: a new update (any valid id); otherwise the answer must be about that update. */
function parseUpdate(json: unknown, expectedId: string | null, bad: Bad): CloudUpdate {
  if (!isRecord(json)) throw bad('expected an object');
  const { updateId, status, error } = json;
  if (typeof updateId !== 'string' || !UPDATE_ID.test(updateId)) throw bad('"updateId" is missing or not a valid id');
  if (expectedId !== null && updateId !== expectedId) throw bad(`asked about update ${expectedId}, got ${updateId}`);
  if (typeof status !== 'string' || !STATUSES.has(status)) {
    throw bad('"status" must be one of pending, in_progress, succeeded, failed');
  }
  if (error !== undefined && error !== null && typeof error !== 'string') throw bad('"error" must be a string or null');
  return {
    updateId,
    status: status as CloudUpdateStatus,
    error: typeof error === 'string' ? cleanCloudText(error) : null,
  };
}

// The cloud's error text reaches API clients: controls stripped, blanks collapsed, capped.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

function cleanCloudText(raw: string): string | null {
  const text = raw.replace(CONTROLS, ' ').replace(/\s+/g, ' ').trim();
  if (text === '') return null;
  const chars = Array.from(text);
  return chars.length <= MAX_ERROR_CHARS ? text : `${chars.slice(0, MAX_ERROR_CHARS - 1).join('')}…`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
