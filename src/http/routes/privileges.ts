// GET /v1/privileges: the vehicle privileges an owner can share (DIMO's ids and names).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PRIVILEGES } from '../../domain/privileges.ts';

const PrivilegeList = Type.Object({
  privileges: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), description: Type.String() })),
}, { $id: 'PrivilegeList' });

export const privilegeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const body = { privileges: PRIVILEGES.map((p) => ({ ...p })) };
  app.get(
    '/v1/privileges',
    {
      schema: {
        tags: ['sharing'],
        operationId: 'listPrivileges',
        summary: 'Vehicle privileges that can be shared, with their ids',
        description: "DIMO's vehicle privilege ids, names and what each allows; the ids that share and unshare accept.",
        security: [],
        response: { 200: PrivilegeList },
      },
    },
    async () => body,
  );
};
