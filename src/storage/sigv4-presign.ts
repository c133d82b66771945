// AWS Signature V4 query-string signing for a GET (a presigned URL). Written here because the
// SDK's presigner is a separate package this project does not depend on; the algorithm is small
// and is tested against AWS's published example.
import { createHash, createHmac } from 'node:crypto';

export interface SigV4Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface PresignGetInput {
  /** Origin, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:9000`. */
  readonly origin: string;
  /** Path segments after the origin, unencoded (e.g. `[bucket, ...key.split('/')]`). */
  readonly pathSegments: readonly string[];
  /** Extra query parameters (e.g. `response-content-disposition`), unencoded. */
  readonly query?: Readonly<Record<string, string>>;
  readonly credentials: SigV4Credentials;
  readonly region: string;
  readonly service?: string;
  readonly expiresInSeconds: number;
  readonly now: Date;
}

/** A presigned GET URL with only the `host` header signed and an unsigned payload. */
export function presignGetUrl(input: PresignGetInput): string {
  const url = new URL(input.origin);
  const service = input.service ?? 's3';
  const longDate = input.now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); // YYYYMMDDTHHMMSSZ
  const shortDate = longDate.slice(0, 8);
  const scope = `${shortDate}/${input.region}/${service}/aws4_request`;

  const query: Record<string, string> = {
    ...input.query,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${input.credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': longDate,
    'X-Amz-Expires': String(input.expiresInSeconds),
    'X-Amz-SignedHeaders': 'host',
  };
  if (input.credentials.sessionToken) query['X-Amz-Security-Token'] = input.credentials.sessionToken;

  const basePath = url.pathname.replace(/\/+$/, '');
  const path = `${basePath}/${input.pathSegments.map(uriEncode).join('/')}`;
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((k) => `${uriEncode(k)}=${uriEncode(query[k]!)}`)
    .join('&');
  const canonicalRequest = ['GET', path, canonicalQuery, `host:${url.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    longDate,
    scope,
    createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n');

  let key: Buffer = hmac(`AWS4${input.credentials.secretAccessKey}`, shortDate);
  for (const part of [input.region, service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');

  return `${url.protocol}//${url.host}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

// SigV4's URI encoding: every byte except RFC 3986 unreserved characters, upper-case hex.
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
