// Public (no auth) NFT metadata and images, cacheable by browsers and CDNs. Unknown tokens are
// plain 404s: indexers poll right after a mint, so they are not errors worth logging.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { badRequest, errorResponses, notFound } from '../errors.ts';
import { TokenIdParam } from '../schemas.ts';
import { parseTokenId } from '../../domain/ids.ts';
import { parseAddress } from '../../domain/address.ts';
import { ifNoneMatchMatches } from '../../domain/files/etag.ts';
import type { Cached, PublicMetadataService } from '../../services/public-metadata.ts';

const Metadata = Type.Object({
  name: Type.String(),
  description: Type.String(),
  image: Type.Optional(Type.String()),
  attributes: Type.Array(Type.Object({ trait_type: Type.String(), value: Type.String() })),
});

const tags = ['public metadata'];
const TokenParams = Type.Object({ tokenId: TokenIdParam });
const PngResponse = { 200: { description: 'PNG image', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } } };

function tokenId(raw: string): bigint {
  const id = parseTokenId(raw);
  if (id === null) throw badRequest(`"${raw}" is not a token id; expected 1 to 78 decimal digits (a uint256).`);
  return id;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Sends a kept answer as it is: JSON text goes out without another pass through the serializer. */
function send(req: FastifyRequest, reply: FastifyReply, hit: Cached<string | Buffer> | null, what: string) {
  if (!hit) throw notFound(`${what} not found.`);
  reply.header('cache-control', 'public, max-age=60').header('etag', hit.etag).header('access-control-allow-origin', '*');
  if (ifNoneMatchMatches(req.headers['if-none-match'], hit.etag)) return reply.code(304).send();
  return reply.type(typeof hit.body === 'string' ? JSON_TYPE : 'image/png').send(hit.body);
}

export const publicMetadataRoutes: FastifyPluginAsyncTypebox<{ metadata: PublicMetadataService }> = async (app, { metadata }) => {
  app.get(
    '/v1/aftermarket/device/:tokenId',
    { schema: { tags, summary: 'Aftermarket device NFT metadata', params: TokenParams, response: { 200: Metadata, ...errorResponses(400, 404) } } },
    async (req, reply) => send(req, reply, await metadata.aftermarketDevice(tokenId(req.params.tokenId)), 'Aftermarket device'),
  );

  app.get(
    '/v1/aftermarket/device/by-address/:address',
    {
      schema: {
        tags,
        summary: 'Aftermarket device NFT metadata by the device address',
        params: Type.Object({ address: Type.String({ maxLength: 64 }) }),
        response: { 200: Metadata, ...errorResponses(400, 404) },
      },
    },
    async (req, reply) => {
      const address = parseAddress(req.params.address);
      if (!address) throw badRequest(`"${req.params.address}" is not an Ethereum address (40 hex digits, 0x optional).`);
      return send(req, reply, await metadata.aftermarketDeviceByAddress(address), 'Aftermarket device');
    },
  );

  app.get(
    '/v1/aftermarket/device/:tokenId/image',
    { schema: { tags, summary: 'Aftermarket device image (PNG)', params: TokenParams, response: { ...PngResponse, ...errorResponses(400, 404) } } },
    async (req, reply) => send(req, reply, await metadata.aftermarketDeviceImage(tokenId(req.params.tokenId)), 'Aftermarket device'),
  );

  app.get(
    '/v1/synthetic/device/:tokenId',
    { schema: { tags, summary: 'Synthetic device NFT metadata', params: TokenParams, response: { 200: Metadata, ...errorResponses(400, 404) } } },
    async (req, reply) => send(req, reply, await metadata.syntheticDevice(tokenId(req.params.tokenId)), 'Synthetic device'),
  );

  app.get(
    '/v1/vehicle/:tokenId',
    { schema: { tags, summary: 'Vehicle NFT metadata', params: TokenParams, response: { 200: Metadata, ...errorResponses(400, 404) } } },
    async (req, reply) => send(req, reply, await metadata.vehicle(tokenId(req.params.tokenId)), 'Vehicle'),
  );

  app.get(
    '/v1/vehicle/:tokenId/image',
    { schema: { tags, summary: 'Vehicle image (PNG)', params: TokenParams, response: { ...PngResponse, ...errorResponses(400, 404) } } },
    async (req, reply) => send(req, reply, await metadata.vehicleImage(tokenId(req.params.tokenId)), 'Vehicle'),
  );
};
