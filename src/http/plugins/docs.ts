// OpenAPI 3.1 generated from the route schemas, served at /v1/openapi.json, with Swagger UI.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { errorResponses } from '../errors.ts';
import { Type } from 'typebox';

export const DOCS_PREFIX = '/v1/swagger';

export const docsPlugin = fp(async (app: FastifyInstance, opts: { publicBaseUrl: string; version: string }) => {
  await app.register(swagger, {
    // Shared schemas keep their $id as the component name (`Error`, not `def-0`), so generated
    // clients get readable type names.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    transformObject: (doc) => ('openapiObject' in doc ? namedRootSchemas(doc.openapiObject) : doc.swaggerObject),
    transform: ({ schema, url, route }) => ({ schema: schema && !schema.hide ? documentedSchema(schema, route.config) : schema, url }),
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'devices-api',
        version: opts.version,
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
        description:
          "Users' vehicles and aftermarket devices with on-chain identities — a compatible, improved DIMO Devices API. " +
          'Errors always have the shape {code, message, error, requestId}. ' +
          'Unknown query parameters and unknown JSON body fields (and unknown multipart form fields) are ignored: ' +
          'dropped before anything is checked or stored, never echoed. Known fields are checked strictly. ' +
          'An empty request body counts as no body whatever its Content-Type; a non-empty one must be JSON ' +
          '(multipart/form-data for document uploads).',
      },
      // A local server is reached wherever its document was fetched from, which is what a
      // relative URL says (and the committed copy stays free of a port); a public one is PUBLIC_BASE_URL.
      servers: [isLocal(opts.publicBaseUrl) ? { url: '/', description: 'the server this document came from' } : { url: opts.publicBaseUrl }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // The root: a browser goes to the docs, any other client gets a small index.
  const index = {
    name: 'devices-api',
    version: opts.version,
    links: { docs: DOCS_PREFIX, openapi: '/v1/openapi.json', health: '/health', ready: '/ready' },
  };
  const Link = Type.String();
  const Index = Type.Object({
    name: Type.String(),
    version: Type.String(),
    links: Type.Object({ docs: Link, openapi: Link, health: Link, ready: Link }),
  }, { $id: 'ServiceIndex' });
  const schema = {
    tags: ['operations'],
    operationId: 'getServiceIndex',
    summary: 'Service index; a browser (Accept: text/html) is redirected to the API docs',
    description: 'Name, version and links to the docs, the OpenAPI document and the health checks. Public.',
    security: [],
    response: { 200: Index, 302: Type.Null({ description: 'Redirect to the docs' }) },
  };
  app.get('/', { schema }, async (req, reply) => {
    const accept = req.headers.accept ?? '';
    if (accept.includes('text/html')) return reply.redirect(DOCS_PREFIX, 302);
    return index;
  });
});

const isLocal = (url: string) => ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);

type RouteSchema = Record<string, any>;

/** Marks a request or answer schema with an `$id` for {@link namedRootSchemas}. */
const NAME = 'x-schema-name';

/**
 * A route's schema as the document shows it (validation and serialization keep the original):
 * a request or answer schema with an `$id` is marked to become a named component (see
 * {@link namedRootSchemas}; @fastify/swagger names only the nested ones), and the answers every
 * route can give are added: 401 where a token is required, 429 where the rate limit applies, 503
 * everywhere (database outage, shutting down).
 */
export function documentedSchema(schema: RouteSchema, config: { rateLimit?: false } | undefined): RouteSchema {
  const response: Record<string, any> = { ...schema.response };
  const bearer = (schema.security as Record<string, unknown>[] | undefined)?.some((s) => 'bearerAuth' in s) ?? false;
  const statuses = [...(bearer ? [401] : []), ...(config?.rateLimit === false ? [] : [429]), 503];
  for (const [status, entry] of Object.entries(errorResponses(...statuses))) response[status] ??= entry;
  for (const [status, answer] of Object.entries(response)) {
    if (typeof answer?.$id === 'string') response[status] = { ...answer, [NAME]: answer.$id, description: answer.description ?? SUCCESS_TEXT[status] ?? 'OK' };
  }
  const out: RouteSchema = { ...schema, response };
  if (typeof schema.body?.$id === 'string') out.body = { ...schema.body, [NAME]: schema.body.$id };
  return out;
}

const SUCCESS_TEXT: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted: the transaction request, to follow at /v1/transactions/{requestId}' };

/** Moves the marked request and answer schemas into components.schemas and refers to them there. */
export function namedRootSchemas(doc: RouteSchema): RouteSchema {
  const components: Record<string, unknown> = (doc.components.schemas ??= {});
  const name = (media: Record<string, any> | undefined) => {
    for (const m of Object.values(media ?? {})) {
      const schema = m?.schema;
      if (typeof schema?.[NAME] !== 'string') continue;
      // The description was the response's (it is there); the component is the schema alone.
      const { [NAME]: id, description: _description, ...rest } = schema;
      components[id] ??= rest;
      m.schema = { $ref: `#/components/schemas/${id}` };
    }
  };
  for (const item of Object.values<Record<string, any>>(doc.paths ?? {})) {
    for (const op of Object.values(item)) {
      name(op?.requestBody?.content);
      for (const r of Object.values<any>(op?.responses ?? {})) name(r?.content);
    }
  }
  return doc;
}
