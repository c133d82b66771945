// Documents ("glovebox"): upload, list, read, download, delete. Metadata lives in the database,
// bytes in the blob store. Ordering keeps users from ever seeing a row without bytes: uploads
// write the blob, then the row; deletes hide the row, remove the blob, then the row. Whatever a
// crash leaves in between (an orphan blob, a hidden row) the reconciler finishes.
import type { Readable } from 'node:stream';
import type { AuthUser } from '../auth/verifier.ts';
import type { Db } from '../db/engine.ts';
import * as repo from '../db/repositories/documents.ts';
import {
  decodeDocumentCursor,
  downloadFilename,
  encodeDocumentCursor,
  parseDocumentName,
  parseDocumentType,
  DOCUMENT_TYPES,
  type DocumentType,
} from '../domain/documents.ts';
import { contentDisposition } from '../domain/files/content-disposition.ts';
import { etagForSha256, ifNoneMatchMatches } from '../domain/files/etag.ts';
import { documentBlobKey } from '../domain/files/keys.ts';
import { parseRange, type ByteRange } from '../domain/files/range.ts';
import { isKsuid, newKsuid } from '../domain/ids.ts';
import { AppError, ErrorCode, badRequest, notFound } from '../errors.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { ingestUpload, peekHead, TooLargeError, UnsupportedTypeError, type IngestResult } from '../storage/ingest.ts';
import { DEVICE_NOT_FOUND, type VehicleService } from './vehicles.ts';
import { emitEvent } from '../events/outbox.ts';
import { documentEvent } from '../events/payloads.ts';

export interface DocumentView {
  id: string;
  name: string;
  type: string;
  ext: string;
  contentType: string;
  size: number;
  sha256: string;
  userDeviceId: string | null;
  url: string;
  createdAt: Date;
}

/** One part of the upload form, as the route hands it over (in the order the client sent them). */
export type FormPart =
  | { kind: 'field'; name: string; value: string; truncated: boolean }
  | { kind: 'file'; name: string; stream: Readable; mimetype: string | undefined };

export type DownloadPlan =
  | { kind: 'not-modified'; etag: string }
  | { kind: 'redirect'; etag: string; location: string }
  | {
      kind: 'content';
      etag: string;
      contentType: string;
      filename: string;
      /** Size of the whole document. */
      size: number;
      /** The slice being sent (206), or null for everything (200). */
      range: ByteRange | null;
      contentLength: number;
      stream: Readable;
    };

export interface DownloadConditions {
  range?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifRange?: string | undefined;
}

interface Log {
  warn(obj: object, msg: string): void;
}

export interface DocumentServiceDeps {
  db: Db;
  store: BlobStore;
  vehicles: Pick<VehicleService, 'requireOwned'>;
  publicBaseUrl: string;
  maxBytes: number;
  quotaBytes: number;
  /** Answer downloads with a redirect to a presigned URL when the store can make one (S3). */
  downloadRedirect: boolean;
  log: Log;
  now?: () => Date;
}

export const DOCUMENT_NOT_FOUND = 'Document not found.';
const PRESIGN_TTL_SECONDS = 300;
const TEXT_FIELDS = ['name', 'type', 'userDeviceId', 'userDeviceID'] as const;
type TextField = (typeof TEXT_FIELDS)[number];

export function createDocumentService(deps: DocumentServiceDeps) {
  const { db, store, log } = deps;
  const now = deps.now ?? (() => new Date());
  const listVisible = repo.prepareListVisible(db);

  const view = (row: repo.ListedDocument): DocumentView => ({
    id: row.id,
    name: row.name,
    type: row.type,
    ext: row.ext,
    contentType: row.contentType,
    size: row.size,
    sha256: row.sha256,
    userDeviceId: row.userDeviceId,
    url: `${deps.publicBaseUrl}/v1/documents/${row.id}/download`,
    createdAt: row.createdAt,
  });

  const quotaExceeded = (used: number) =>
    new AppError(413, ErrorCode.PayloadTooLarge, `Storage quota exceeded: ${used} of ${deps.quotaBytes} bytes are already used by your documents.`);

  async function requireVisible(user: AuthUser, id: string): Promise<repo.DocumentRow> {
    const row = isKsuid(id) ? await repo.findVisible(db, user.id, id) : undefined;
    if (!row) throw notFound(DOCUMENT_NOT_FOUND);
    return row;
  }

  /** Streams the file part into the blob store under `key`, translating ingest failures to HTTP. */
  async function storeFile(user: AuthUser, key: string, part: Extract<FormPart, { kind: 'file' }>): Promise<IngestResult> {
    const used = await repo.usedBytes(db, user.id);
    const remaining = deps.quotaBytes - used;
    if (remaining <= 0) {
      part.stream.destroy();
      throw quotaExceeded(used);
    }
    // The quota is checked again when the row is written; stopping the stream here saves
    // reading (and storing) bytes that could never be kept.
    const limit = Math.min(deps.maxBytes, remaining);
    try {
      const { head, body } = await peekHead(part.stream, 1);
      if (head.length === 0) throw badRequest('file is empty.');
      return await ingestUpload({ store, key, source: body, maxBytes: limit, declaredType: part.mimetype });
    } catch (err) {
      part.stream.destroy();
      if (err instanceof TooLargeError) {
        throw limit < deps.maxBytes
          ? quotaExceeded(used)
          : new AppError(413, ErrorCode.PayloadTooLarge, `file is larger than the limit of ${deps.maxBytes} bytes.`);
      }
      if (err instanceof UnsupportedTypeError) {
        throw new AppError(
          415,
          ErrorCode.UnsupportedMediaType,
          err.reason === 'mismatch'
            ? `The file's content is ${err.detected} but it was declared as ${err.declared}.`
            : "The file's content is not an allowed type: send a JPEG, PNG or PDF.",
        );
      }
      // The upload stream's own error (a malformed body, a client that went away), not ours.
      if (part.stream.errored) throw badRequest('The upload ended early or the multipart body is malformed.');
      throw err;
    }
  }

  function acceptField(fields: Map<TextField, string>, part: Extract<FormPart, { kind: 'field' }>): void {
    const name = part.name as TextField;
    // Unknown fields are ignored (as unknown JSON fields are): clients add their own.
    if (!TEXT_FIELDS.includes(name)) return;
    if (fields.has(name)) throw badRequest(`form field "${name}" was sent more than once.`);
    if (part.truncated) throw badRequest(`form field "${name}" is too long.`);
    if (name === 'name') {
      const r = parseDocumentName(part.value);
      if (!r.ok) throw badRequest(`${r.message}.`);
    } else if (name === 'type') {
      const r = parseDocumentType(part.value);
      if (!r.ok) throw badRequest(`${r.message}.`);
    } else if (part.value.trim() !== '' && !isKsuid(part.value.trim())) {
      throw badRequest(`${name} must be a vehicle id (a 27-character KSUID).`);
    }
    fields.set(name, part.value);
  }

  function completeFields(fields: Map<TextField, string>): { name: string; type: DocumentType; userDeviceId: string | null } {
    const rawName = fields.get('name');
    if (rawName === undefined) throw badRequest('form field "name" is required.');
    const rawType = fields.get('type');
    if (rawType === undefined) throw badRequest(`form field "type" is required (one of ${DOCUMENT_TYPES.join(', ')}).`);
    // The original API read `userDeviceID`; its docs said `userDeviceId`. Either works; blank means none.
    const ids = [fields.get('userDeviceId'), fields.get('userDeviceID')].map((v) => v?.trim() ?? '').filter((v) => v !== '');
    if (ids.length === 2 && ids[0] !== ids[1]) throw badRequest('userDeviceId and userDeviceID disagree; send one of them.');
    const name = parseDocumentName(rawName);
    const type = parseDocumentType(rawType);
    if (!name.ok || !type.ok) throw new Error('unreachable: fields are validated on arrival');
    return { name: name.value, type: type.value, userDeviceId: ids[0] ?? null };
  }

  return {
    /**
     * Creates a document from the upload form. Fields may come before or after the file (curl
     * sends them in command-line order), so the file is stored first under a key made from a
     * fresh id, and removed again if anything after it fails.
     */
    async create(user: AuthUser, parts: AsyncIterable<FormPart>): Promise<DocumentView> {
      const createdAt = now();
      const id = newKsuid(createdAt);
      const key = documentBlobKey(user.id, id);
      const fields = new Map<TextField, string>();
      let stored: IngestResult | null = null;
      let sawFile = false;
      let committed = false;
      try {
        for await (const part of parts) {
          if (part.kind === 'field') {
            acceptField(fields, part);
            continue;
          }
          if (part.name !== 'file' || sawFile) {
            part.stream.destroy();
            throw badRequest(sawFile ? 'Send exactly one file per upload.' : `unexpected file field "${part.name}"; send the document as "file".`);
          }
          sawFile = true;
          stored = await storeFile(user, key, part);
        }
        if (!stored) throw badRequest('form field "file" is required: attach the document as a file part named "file".');
        const input = completeFields(fields);
        if (input.userDeviceId) await deps.vehicles.requireOwned(user, input.userDeviceId);
        const size = stored.size;
        const row = await db
          .transaction(async (tx) => {
            await repo.lockUserDocuments(tx, user.id);
            const used = await repo.usedBytes(tx, user.id);
            if (used + size > deps.quotaBytes) throw quotaExceeded(used);
            const inserted = await repo.insertDocument(tx, {
              id,
              userId: user.id,
              userDeviceId: input.userDeviceId,
              name: input.name,
              type: input.type,
              ext: stored!.ext,
              contentType: stored!.contentType,
              size,
              sha256: stored!.sha256,
              blobKey: key,
              state: 'ready',
              createdAt,
            });
            await emitEvent(tx, documentEvent('document.created', user.id, view(inserted)));
            return inserted;
          })
          .catch((err: unknown) => {
            // The vehicle was deleted between the ownership check and the insert.
            if (hasCode(err, '23503')) throw notFound(DEVICE_NOT_FOUND);
            throw err;
          });
        committed = true;
        return view(row);
      } finally {
        if (stored && !committed) await discard(key);
      }
    },

    async list(
      user: AuthUser,
      opts: { userDeviceId?: string | undefined; limit: number; cursor?: string | undefined },
    ): Promise<{ items: DocumentView[]; nextCursor?: string }> {
      let after;
      if (opts.cursor !== undefined) {
        after = decodeDocumentCursor(opts.cursor) ?? undefined;
        if (!after) throw badRequest('cursor is not one this API returned.');
      }
      const rows = await listVisible(user.id, { userDeviceId: opts.userDeviceId, limit: opts.limit + 1, after });
      const more = rows.length > opts.limit;
      const page = more ? rows.slice(0, opts.limit) : rows;
      const last = page[page.length - 1];
      return {
        items: page.map(view),
        ...(more && last ? { nextCursor: encodeDocumentCursor({ createdAtMs: last.createdAt.getTime(), id: last.id }) } : {}),
      };
    },

    async get(user: AuthUser, id: string): Promise<DocumentView> {
      return view(await requireVisible(user, id));
    },

    /** What to answer a download with: 304, a redirect to the store, or the (partial) bytes. */
    async download(user: AuthUser, id: string, cond: DownloadConditions): Promise<DownloadPlan> {
      const row = await requireVisible(user, id);
      const etag = etagForSha256(row.sha256);
      if (ifNoneMatchMatches(cond.ifNoneMatch, etag)) return { kind: 'not-modified', etag };
      const filename = downloadFilename(row.name, row.ext);
      if (deps.downloadRedirect && store.presignGet) {
        const location = await store.presignGet(row.blobKey, {
          expiresInSeconds: PRESIGN_TTL_SECONDS,
          contentType: row.contentType,
          contentDisposition: contentDisposition(filename),
        });
        return { kind: 'redirect', etag, location };
      }
      // If-Range: a range only applies to the representation the client already has part of.
      const rangeHeader = cond.ifRange === undefined || cond.ifRange.trim() === etag ? cond.range : undefined;
      const wanted = parseRange(rangeHeader, row.size);
      if (wanted === 'unsatisfiable') {
        throw new AppError(416, ErrorCode.RangeNotSatisfiable, `The range is outside the document's ${row.size} bytes.`, {
          'content-range': `bytes */${row.size}`,
        });
      }
      const range = typeof wanted === 'object' ? wanted : null;
      const read = await store.get(row.blobKey, range ?? undefined);
      return {
        kind: 'content',
        etag,
        contentType: row.contentType,
        filename,
        size: row.size,
        range: read.range,
        contentLength: read.contentLength,
        stream: read.stream,
      };
    },

    /**
     * Hides the document at once, then removes its blob and row. If either removal fails the
     * answer is still 204: the document is gone for the user, and the reconciler finishes it.
     */
    async remove(user: AuthUser, id: string): Promise<void> {
      const row = isKsuid(id)
        ? await db.transaction(async (tx) => {
            const hidden = await repo.markDeleting(tx, user.id, id);
            if (hidden) await emitEvent(tx, documentEvent('document.deleted', user.id, view(hidden)));
            return hidden;
          })
        : undefined;
      if (!row) throw notFound(DOCUMENT_NOT_FOUND);
      try {
        await store.delete(row.blobKey);
        await repo.deleteDocumentRow(db, row.id);
      } catch (err) {
        log.warn({ err, documentId: row.id }, 'document hidden but not fully deleted; the reconciler will finish it');
      }
    },
  };

  async function discard(key: string): Promise<void> {
    try {
      await store.delete(key);
    } catch (err) {
      log.warn({ err, key }, 'could not remove the blob of a failed upload; the reconciler will');
    }
  }
}

export type DocumentService = ReturnType<typeof createDocumentService>;

function hasCode(err: unknown, code: string): boolean {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (e.code === code) return true;
  }
  return false;
}
