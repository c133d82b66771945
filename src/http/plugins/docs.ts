// OpenAPI 3.1 generated from the route schemas, served at /v1/openapi.json, with Swagger UI.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

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
          'Errors always have the shape {code, message, error, requestId}.',
      },
      servers: [{ url: opts.publicBaseUrl }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
