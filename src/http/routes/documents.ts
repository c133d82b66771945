// HTTP <-> DocumentService for /v1/documents (upload, list, get, download, delete). The multipart
// parser is registered only in this scope: no other route accepts form uploads.
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { contentDisposition } from '../../domain/files/content-disposition.ts';
import { contentRange } from '../../domain/files/range.ts';
import { DOCUMENT_TYPES, MAX_DOCUMENT_NAME_CHARS } from '../../domain/documents.ts';
import type { DocumentService, FormPart } from '../../services/documents.ts';
import { AppError, ErrorCode, badRequest } from '../../errors.ts';
import { errorResponses } from '../errors.ts';
import { Ksuid, Timestamp } from '../schemas.ts';

export const Document = Type.Object(
  {
    id: Ksuid,
    name: Type.String(),
    type: Type.String({ description: DOCUMENT_TYPES.join(' | ') }),
    ext: Type.String({ description: 'pdf | jpg | png, from the file content' }),
    contentType: Type.String({ description: 'application/pdf | image/jpeg | image/png, from the file content' }),
    size: Type.Integer({ description: 'bytes' }),
    sha256: Type.String({ description: 'hex SHA-256 of the content (also the download ETag)' }),
    userDeviceId: Type.Union([Type.String(), Type.Null()]),
    url: Type.String({ description: 'where to download the content' }),
    createdAt: Timestamp,
  },
  { $id: 'Document' },
);

// Documentation only: the form is streamed and checked by the service (see `validatorCompiler` below).
const UploadForm = Type.Object({
  file: Type.String({ format: 'binary', description: 'JPEG, PNG or PDF (decided from the bytes); at most DOCUMENT_MAX_BYTES' }),
  name: Type.String({ minLength: 1, maxLength: MAX_DOCUMENT_NAME_CHARS }),
  type: Type.Union(DOCUMENT_TYPES.map((t) => Type.Literal(t))),
  userDeviceId: Type.Optional(Type.String({ description: "one of the caller's vehicles (also accepted as userDeviceID)" })),
}, { $id: 'DocumentUpload' });

const DocumentIdParams = Type.Object({ documentId: Ksuid });

const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}-[0-9A-Za-z]{27}$', description: 'the x-next-cursor of the previous page' })),
    userDeviceId: Type.Optional(Ksuid),
    /** The original API's spelling. */
    user_device_id: Type.Optional(Ksuid),
  },
);

const Binary = (description: string) => ({
  description,
  content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
});

const tags = ['documents'];
const security = [{ bearerAuth: [] }];

export interface DocumentRoutesOptions {
  documents: DocumentService;
  /** DOCUMENT_MAX_BYTES: the parser's own cap sits just above it so the service's check fires first. */
  maxBytes: number;
}

export const documentRoutes: FastifyPluginAsyncTypebox<DocumentRoutesOptions> = async (app, { documents, maxBytes }) => {
  await app.register(multipart, {
    // Busboy truncates silently at fileSize, which would look like a complete file: keep it past
    // maxBytes so the ingest meter sees the extra byte and answers 413.
    limits: { fileSize: maxBytes + 1, files: 2, fields: 8, parts: 10, fieldSize: 4096, fieldNameSize: 100, headerPairs: 50 },
  });
  // Any other body type reaches the handler unparsed, to get a 415 that says what to send.
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  app.addSchema(Document);

  app.post(
    '/v1/documents',
    {
      schema: {
        tags,
        security,
        operationId: 'uploadDocument',
        summary: 'Upload a document (multipart/form-data: file, name, type, optional userDeviceId)',
        description:
          'Fields may come in any order. The content must be JPEG, PNG or PDF, judged from its first bytes; a ' +
          'contradicting declared type is 415. Over DOCUMENT_MAX_BYTES or the per-user quota is 413; nothing is stored.',
        consumes: ['multipart/form-data'],
        body: UploadForm,
        response: { 201: { $ref: 'Document#' }, ...errorResponses(400, 401, 404, 413, 415) },
      },
      validatorCompiler: () => () => true,
    },
    async (req, reply) => {
      if (!req.isMultipart()) {
        throw new AppError(415, ErrorCode.UnsupportedMediaType, 'Send the document as multipart/form-data (fields file, name, type).');
      }
      const doc = await documents.create(req.user, formParts(req));
      return reply.code(201).send(doc);
    },
  );

  app.get(
    '/v1/documents',
    {
      schema: {
        tags,
        security,
        operationId: 'listDocuments',
        summary: "The caller's documents, newest first",
        description:
          'A bare array, as the original API returned. When more remain, the x-next-cursor header (and a Link ' +
          'rel="next") says how to ask for the next page.',
        querystring: ListQuery,
        response: {
          200: { type: 'array', items: { $ref: 'Document#' }, headers: { 'x-next-cursor': { type: 'string' } } },
          ...errorResponses(400, 401),
        },
      },
      config: { responseCache: { tables: ['documents'], headers: ['x-next-cursor', 'link'] } },
    },
    async (req, reply) => {
      const { userDeviceId, user_device_id: legacyId, limit = 100, cursor } = req.query;
      if (userDeviceId && legacyId && userDeviceId !== legacyId) throw badRequest('userDeviceId and user_device_id disagree; send one of them.');
      const page = await documents.list(req.user, { userDeviceId: userDeviceId ?? legacyId, limit, cursor });
      if (page.nextCursor) {
        const next = new URLSearchParams({ limit: String(limit), cursor: page.nextCursor });
        if (userDeviceId ?? legacyId) next.set('userDeviceId', (userDeviceId ?? legacyId)!);
        reply.header('x-next-cursor', page.nextCursor).header('link', `</v1/documents?${next.toString()}>; rel="next"`);
      }
      return page.items;
    },
  );

  app.get(
    '/v1/documents/:documentId',
    {
      schema: {
        tags,
        security,
        operationId: 'getDocument',
        summary: "One of the caller's documents",
        description: 'A document’s metadata: name, type, size, content type and where to download it.',
        params: DocumentIdParams,
        response: { 200: { $ref: 'Document#' }, ...errorResponses(400, 401, 404) },
      },
    },
    async (req) => documents.get(req.user, req.params.documentId),
  );

  downloadRoute(app, documents);

  app.delete(
    '/v1/documents/:documentId',
    {
      schema: {
        tags,
        security,
        operationId: 'deleteDocument',
        summary: 'Delete a document (its metadata and its bytes)',
        description: 'Deletes a document’s metadata and its stored bytes.',
        params: DocumentIdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 401, 404) },
      },
    },
    async (req, reply) => {
      await documents.remove(req.user, req.params.documentId);
      return reply.code(204).send(null);
    },
  );
};

type App = Parameters<FastifyPluginAsyncTypebox<DocumentRoutesOptions>>[0];

/** GET …/download: the bytes, with Range, If-None-Match, or a redirect to storage. */
function downloadRoute(app: App, documents: DocumentService): void {
  app.get(
    '/v1/documents/:documentId/download',
    {
      schema: {
        tags,
        security,
        operationId: 'downloadDocument',
        summary: "The document's bytes (Range, If-None-Match; a redirect to storage when so configured)",
        description: 'The content with its stored content type. Supports Range (206) and If-None-Match (304); with DOCUMENT_DOWNLOAD_REDIRECT=true, a 302 to a short-lived presigned URL instead.',
        params: DocumentIdParams,
        response: {
          200: Binary('The whole document'),
          206: Binary('The requested byte range'),
          302: { description: 'Redirect to a short-lived presigned storage URL (DOCUMENT_DOWNLOAD_REDIRECT=true)', type: 'null' },
          304: { description: 'Not modified (If-None-Match matched the ETag)', type: 'null' },
          ...errorResponses(400, 401, 404, 416),
        },
      },
    },
    async (req, reply) => {
      const plan = await documents.download(req.user, req.params.documentId, {
        range: req.headers.range,
        ifNoneMatch: req.headers['if-none-match'],
        ifRange: header(req, 'if-range'),
      });
      // Private data: a cache may keep it only for this user and must revalidate (cheap: ETag).
      reply.header('etag', plan.etag).header('cache-control', 'private, no-cache');
      if (plan.kind === 'not-modified') return reply.code(304).send(null);
      if (plan.kind === 'redirect') return reply.redirect(plan.location, 302);
      reply
        .header('content-type', plan.contentType)
        .header('content-length', String(plan.contentLength))
        .header('content-disposition', contentDisposition(plan.filename))
        .header('accept-ranges', 'bytes');
      if (plan.range) reply.code(206).header('content-range', contentRange(plan.range, plan.size));
      return reply.send(plan.stream);
    },
  );
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const LIMIT_ERRORS = new Set(['FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT']);

/** The request's multipart parts in arrival order, with parser failures as client errors. */
async function* formParts(req: FastifyRequest): AsyncIterable<FormPart> {
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        yield { kind: 'file', name: part.fieldname, stream: part.file, mimetype: part.mimetype };
      } else {
        const value = typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
        yield { kind: 'field', name: part.fieldname, value, truncated: part.valueTruncated };
      }
    }
  } catch (err) {
    throw multipartError(err);
  }
}

function multipartError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; statusCode?: number };
  if (e.code && LIMIT_ERRORS.has(e.code)) {
    return badRequest('Too many parts in the form: send one file plus name, type and optionally userDeviceId.');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 && e.statusCode !== 406) return err;
  // Busboy's parse errors carry no status: a body that is not well-formed multipart.
  return badRequest('The multipart/form-data body is malformed.');
}
