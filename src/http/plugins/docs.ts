// OpenAPI 3.1 generated from the route schemas, served at /v1/openapi.json, with Swagger UI.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from 'typebox';

export const DOCS_PREFIX = '/v1/swagger';

export const docsPlugin = fp(async (app: FastifyInstance, opts: { publicBaseUrl: string; version: string }) => {
  await app.register(swagger, {
    // Shared schemas keep their $id as the component name (`Error`, not `def-0`), so generated
    // clients get readable type names.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'devices-api',
        version: opts.version,
        description:
          "Users' vehicles and aftermarket devices with on-chain identities — a compatible, improved DIMO Devices API. " +
          'Errors always have the shape {code, message, error, requestId}. ' +
          'Unknown query parameters and unknown JSON body fields (and unknown multipart form fields) are ignored: ' +
          'dropped before anything is checked or stored, never echoed. Known fields are checked strictly. ' +
          'An empty request body counts as no body whatever its Content-Type; a non-empty one must be JSON ' +
          '(multipart/form-data for document uploads).',
      },
      servers: [{ url: opts.publicBaseUrl }],
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
  });
  const schema = {
    tags: ['operations'],
    summary: 'Service index; a browser (Accept: text/html) is redirected to the API docs',
    response: { 200: Index, 302: Type.Null({ description: 'Redirect to the docs' }) },
  };
  app.get('/', { schema }, async (req, reply) => {
    const accept = req.headers.accept ?? '';
    if (accept.includes('text/html')) return reply.redirect(DOCS_PREFIX, 302);
    return index;
  });
});
