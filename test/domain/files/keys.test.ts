import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DOCUMENTS_PREFIX,
  documentBlobKey,
  parseDocumentBlobKey,
  userDocumentsPrefix,
  userKeySegment,
} from '../../../src/domain/files/keys.ts';
import { isValidBlobKey } from '../../../src/storage/blob-store.ts';

const DOC_ID = '2bQxGxPnHVwJYuFxbT5t7ZTp3Qd';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ksuidShaped = fc.string({ unit: fc.constantFrom(...BASE62), minLength: 27, maxLength: 27 });

describe('documentBlobKey', () => {
  it('puts a document under its owner’s hashed prefix', () => {
    const key = documentBlobKey('alice', DOC_ID);
    assert.equal(key, `documents/${userKeySegment('alice')}/${DOC_ID}`);
    assert.match(key, /^documents\/[0-9a-f]{64}\/[0-9A-Za-z]{27}$/);
    assert.ok(key.startsWith(userDocumentsPrefix('alice')));
  });

  it('gives different users different prefixes', () => {
    assert.notEqual(userKeySegment('alice'), userKeySegment('bob'));
    assert.notEqual(userKeySegment('alice'), userKeySegment('Alice'));
  });

  it('keeps hostile user ids out of the key', () => {
    for (const userId of ['../../etc', '/', 'a/b', '', '..', 'x\u0000y', 'üser']) {
      const key = documentBlobKey(userId, DOC_ID);
      assert.ok(isValidBlobKey(key), key);
      assert.ok(key.startsWith(DOCUMENTS_PREFIX));
    }
  });

  it('refuses a document id that is not a KSUID', () => {
    for (const id of ['', '../x', 'short', `${DOC_ID}/x`, `${DOC_ID}x`, '2bQxGxPnHVwJYuFxbT5t7ZTp3Q.']) {
      assert.throws(() => documentBlobKey('alice', id), TypeError, id);
    }
  });

  it('always builds a valid store key that parses back', () => {
    fc.assert(
      fc.property(fc.string(), ksuidShaped, (userId, documentId) => {
        const key = documentBlobKey(userId, documentId);
        assert.ok(isValidBlobKey(key));
        assert.deepEqual(parseDocumentBlobKey(key), { userSegment: userKeySegment(userId), documentId });
      }),
    );
  });
});

describe('parseDocumentBlobKey', () => {
  it('returns null for keys that are not document blobs', () => {
    const seg = userKeySegment('alice');
    for (const key of [
      'images/x',
      `documents/${seg}`,
      `documents/${seg}/${DOC_ID}/extra`,
      `documents/${seg.slice(1)}/${DOC_ID}`,
      `documents/${seg}/short`,
      `documents/${seg.toUpperCase()}/${DOC_ID}`,
    ]) {
      assert.equal(parseDocumentBlobKey(key), null, key);
    }
  });
});
