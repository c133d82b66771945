// `FIRMWARE_CONNECTORS`: which manufacturers' device clouds can take firmware-update requests,
// as JSON `{"<manufacturer name>": {"baseUrl", "token", "timeoutMs"?}}`. Validated whole at
// startup so a typo is a clear boot error rather than a 501 or a 502 at request time.

export const DEFAULT_CONNECTOR_TIMEOUT_MS = 5_000;
export const MAX_CONNECTOR_TIMEOUT_MS = 60_000;

export interface FirmwareConnectorConfig {
  /** http(s) URL without credentials, query, fragment or trailing slash. */
  readonly baseUrl: string;
  readonly token: string;
  readonly timeoutMs: number;
}

export type FirmwareConnectorsResult =
  | { readonly ok: true; readonly connectors: Map<string, FirmwareConnectorConfig> }
  | { readonly ok: false; readonly problems: string[] };

/** The lookup key for a manufacturer name: trimmed, inner blanks collapsed, lower case. */
export function connectorKey(manufacturerName: string): string {
  return manufacturerName.trim().replace(/\s+/g, ' ').toLowerCase();
}

const FIELDS = new Set(['baseUrl', 'token', 'timeoutMs']);
// Visible ASCII only: the token goes into a header, so blanks or line breaks must not pass.
const TOKEN = /^[\x21-\x7e]+$/;

/**
 * Parses the setting. Unset or blank → no connectors (the feature is off: every manufacturer
 * answers 501). Problems name the manufacturer and field but never quote a token.
 */
export function parseFirmwareConnectors(json: string | undefined): FirmwareConnectorsResult {
  const connectors = new Map<string, FirmwareConnectorConfig>();
  if (json === undefined || json.trim() === '') return { ok: true, connectors };

  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    // The parser's message may quote the text around the error, which can be a token.
    return { ok: false, problems: ['FIRMWARE_CONNECTORS is not valid JSON'] };
  }
  if (!isRecord(parsed)) {
    return { ok: false, problems: ['FIRMWARE_CONNECTORS must be a JSON object: {"<manufacturer>": {"baseUrl", "token", "timeoutMs"?}}'] };
  }

  const problems: string[] = [];
  for (const [name, entry] of Object.entries(parsed)) {
    const key = connectorKey(name);
    const where = `FIRMWARE_CONNECTORS[${JSON.stringify(name)}]`;
    if (key === '') {
      problems.push(`${where}: the manufacturer name is blank`);
      continue;
    }
    if (connectors.has(key)) {
      problems.push(`${where}: manufacturer "${key}" is configured more than once (names are case-insensitive)`);
      continue;
    }
    if (!isRecord(entry)) {
      problems.push(`${where}: must be an object with baseUrl and token`);
      continue;
    }
    const before = problems.length;
    for (const field of Object.keys(entry)) {
      if (!FIELDS.has(field)) problems.push(`${where}: unknown field "${field}" (expected baseUrl, token, timeoutMs)`);
    }
    const baseUrl = parseBaseUrl(entry.baseUrl, where, problems);
    const token = entry.token;
    if (typeof token !== 'string' || token === '') {
      problems.push(`${where}.token: required, a non-empty string`);
    } else if (!TOKEN.test(token)) {
      problems.push(`${where}.token: must be visible ASCII characters without blanks`);
    }
    const timeoutMs = 'timeoutMs' in entry ? entry.timeoutMs : DEFAULT_CONNECTOR_TIMEOUT_MS;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_CONNECTOR_TIMEOUT_MS) {
      problems.push(`${where}.timeoutMs: must be a whole number of milliseconds from 1 to ${MAX_CONNECTOR_TIMEOUT_MS}`);
    }
    if (problems.length === before && baseUrl !== null && typeof token === 'string' && typeof timeoutMs === 'number') {
      connectors.set(key, { baseUrl, token, timeoutMs });
    }
  }
  return problems.length === 0 ? { ok: true, connectors } : { ok: false, problems };
}

function parseBaseUrl(value: unknown, where: string, problems: string[]): string | null {
  const field = `${where}.baseUrl`;
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`${field}: required, an http(s) URL`);
    return null;
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    problems.push(`${field}: not a valid URL`);
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`${field}: must use http or https, not ${url.protocol.slice(0, -1)}`);
    return null;
  }
  if (url.username !== '' || url.password !== '') {
    // Credentials in a URL end up in logs; the token has its own field.
    problems.push(`${field}: must not contain credentials (put the secret in "token")`);
    return null;
  }
  if (/[?#]/.test(url.href)) {
    problems.push(`${field}: must not have a query or fragment`);
    return null;
  }
  return url.href.replace(/\/+$/, '');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
