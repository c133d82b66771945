// The error class every route answers with.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError, ErrorCode } from '../src/errors.ts';

describe('AppError', () => {
  it('carries no stack frames for a client error (nothing logs them)', () => {
    const e = new AppError(401, ErrorCode.Unauthorized, 'no token');
    assert.ok(e instanceof Error);
    assert.equal(e.message, 'no token');
    assert.doesNotMatch(e.stack ?? '', /\n\s+at /);
  });

  it('keeps its stack for a server error, which is logged', () => {
    const e = new AppError(503, ErrorCode.ServiceUnavailable, 'database down');
    assert.match(e.stack ?? '', /\n\s+at /);
  });

  it('leaves the stack depth of other errors alone', () => {
    const limit = Error.stackTraceLimit;
    new AppError(404, ErrorCode.NotFound, 'gone');
    assert.equal(Error.stackTraceLimit, limit);
    assert.match(new Error('x').stack ?? '', /\n\s+at /);
  });
});
