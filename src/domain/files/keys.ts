// The one place blob storage keys are built. Keys are made only from server-generated values
// (a KSUID and a hash), so nothing a client sends can steer where bytes land.
import { createHash } from 'node:crypto';

export const DOCUMENTS_PREFIX = 'documents/';

const KSUID_SHAPE = /^[0-9A-Za-z]{27}$/;
const USER_SEGMENT_SHAPE = /^[0-9a-f]{64}$/;

/**
 * The per-user key segment: SHA-256 of the user id (the JWT `sub`, arbitrary text) in hex. It
 * groups a user's blobs under one prefix (e.g. to erase an account) without putting the raw id,
 * which may contain `/` or `..`, in a key.
 */
export function userKeySegment(userId: string): string {
  return createHash('sha256').update(userId, 'utf8').digest('hex');
}

/** Prefix of every blob key belonging to `userId`. */
export function userDocumentsPrefix(userId: string): string {
  return `${DOCUMENTS_PREFIX}${userKeySegment(userId)}/`;
}

/** `documents/<sha256(userId)>/<documentId>`. Throws if `documentId` is not a KSUID. */
export function documentBlobKey(userId: string, documentId: string): string {
  if (!KSUID_SHAPE.test(documentId)) throw new TypeError('documentBlobKey: documentId must be a KSUID');
  return `${userDocumentsPrefix(userId)}${documentId}`;
}

/** Inverse of `documentBlobKey` for the reconciler: the parts of a document key, or null. */
export function parseDocumentBlobKey(key: string): { userSegment: string; documentId: string } | null {
  if (!key.startsWith(DOCUMENTS_PREFIX)) return null;
  const parts = key.slice(DOCUMENTS_PREFIX.length).split('/');
  if (parts.length !== 2) return null;
  const [userSegment, documentId] = parts as [string, string];
  if (!USER_SEGMENT_SHAPE.test(userSegment) || !KSUID_SHAPE.test(documentId)) return null;
  return { userSegment, documentId };
}
