// GET /v1/transactions/{requestId}: the state of a relayed call, for the user who caused it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../errors.ts';
import { Ksuid, TransactionRequest } from '../schemas.ts';
import type { TransactionService } from '../../services/transactions.ts';

export const transactionRoutes: FastifyPluginAsyncTypebox<{ transactions: TransactionService }> = async (app, { transactions }) => {
  app.get(
    '/v1/transactions/:requestId',
    {
      schema: {
        tags: ['transactions'],
        security: [{ bearerAuth: [] }],
        operationId: 'getTransaction',
        summary: 'State of a transaction request (Unsubmitted → Submitted → Mined → Confirmed, or Failed with a reason)',
        description: 'A relayed transaction the caller requested (mint, claim, pair, unpair…), by the requestId a 202 answered with.',
        params: Type.Object({ requestId: Ksuid }),
        response: { 200: TransactionRequest, ...errorResponses(400, 401, 404) },
      },
    },
    async (req) => transactions.getForUser(req.user, req.params.requestId),
  );
};
