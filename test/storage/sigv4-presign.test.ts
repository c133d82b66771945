import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presignGetUrl } from '../../src/storage/sigv4-presign.ts';

// AWS's worked example, "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)".
const EXAMPLE = {
  origin: 'https://examplebucket.s3.amazonaws.com',
  pathSegments: ['test.txt'],
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  region: 'us-east-1',
  expiresInSeconds: 86400,
  now: new Date('2013-05-24T00:00:00Z'),
};

describe('presignGetUrl', () => {
  it("reproduces AWS's published presigned URL example", () => {
    assert.equal(
      presignGetUrl(EXAMPLE),
      'https://examplebucket.s3.amazonaws.com/test.txt' +
        '?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
        '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
        '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
        '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
  });

  it('signs response header overrides and a session token as query parameters', () => {
    const url = new URL(
      presignGetUrl({
        ...EXAMPLE,
        credentials: { ...EXAMPLE.credentials, sessionToken: 'token/with+chars' },
        query: { 'response-content-disposition': "attachment; filename*=UTF-8''%C3%BC.pdf" },
      }),
    );
    assert.equal(url.searchParams.get('response-content-disposition'), "attachment; filename*=UTF-8''%C3%BC.pdf");
    assert.equal(url.searchParams.get('X-Amz-Security-Token'), 'token/with+chars');
    // Any change to a signed parameter changes the signature.
    const plain = new URL(presignGetUrl(EXAMPLE));
    assert.notEqual(url.searchParams.get('X-Amz-Signature'), plain.searchParams.get('X-Amz-Signature'));
  });

  it('keeps an endpoint port and base path, and encodes key segments', () => {
    const url = presignGetUrl({ ...EXAMPLE, origin: 'http://127.0.0.1:9000/base/', pathSegments: ['bucket', 'a b', 'c'] });
    assert.ok(url.startsWith('http://127.0.0.1:9000/base/bucket/a%20b/c?'), url);
  });
});
