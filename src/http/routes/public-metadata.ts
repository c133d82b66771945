// Public (no auth) NFT metadata and images, cacheable by browsers and CDNs. Unknown tokens are
// plain 404s: indexers poll right after a mint, so they are not errors worth logging.
// Only lookups that read the database count against the caller's rate limit: an answer kept in
// memory costs less than the limiter's own bookkeeping, and marketplaces refresh whole
// collections at once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { badRequest, notFound } from '../../errors.ts';
import { errorResponses } from '../errors.ts';
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
}, { $id: 'NftMetadata' });

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
function send(req: FastifyRequest, reply: FastifyReply, hit: Cached<string | Buffer> | null, what: string): void {
  if (!hit) throw notFound(`${what} not found.`);
  reply.header('cache-control', 'public, max-age=60').header('etag', hit.etag).header('access-control-allow-origin', '*');
  if (ifNoneMatchMatches(req.headers['if-none-match'], hit.etag)) reply.code(304).send();
  else reply.type(typeof hit.body === 'string' ? JSON_TYPE : 'image/png').send(hit.body);
}

type Lookup = Cached<string | Buffer> | null | Promise<Cached<string | Buffer> | null>;

/**
 * Handlers are not async: an answer kept in memory is sent in the same tick, without the promise
 * hops of an async handler (most requests to these routes are such hits). Fastify turns a throw
 * here, or a rejection of the returned promise, into the error response.
 */
function answer(req: FastifyRequest, reply: FastifyReply, found: Lookup, what: string): Promise<void> | undefined {
  if (found instanceof Promise) return found.then((hit) => send(req, reply, hit, what));
  send(req, reply, found, what);
  return undefined;
}

export const publicMetadataRoutes: FastifyPluginAsyncTypebox<{ metadata: PublicMetadataService }> = async (app, { metadata }) => {
  const charge = (req: FastifyRequest, reply: FastifyReply) => () => app.chargeRateLimit(req, reply);
  const config = { rateLimit: false as const };
  app.get(
    '/v1/aftermarket/device/:tokenId',
    { config, schema: { tags, operationId: 'getAftermarketDevice', summary: 'Aftermarket device NFT metadata', description: 'ERC-721 metadata (name, description, image, attributes) of an aftermarket device NFT. Public and cacheable (ETag, max-age 60).', security: [], params: TokenParams, response: { 200: Metadata, ...errorResponses(400, 404, 429) } } },
    (req, reply) => answer(req, reply, metadata.aftermarketDevice(tokenId(req.params.tokenId), charge(req, reply)), 'Aftermarket device'),
  );

  app.get(
    '/v1/aftermarket/device/by-address/:address',
    {
      config,
      schema: {
        tags,
        operationId: 'getAftermarketDeviceMetadataByAddress',
        summary: 'Aftermarket device NFT metadata by the device address',
        description: 'The same metadata, found by the device’s Ethereum address (any case).',
        security: [],
        params: Type.Object({ address: Type.String({ maxLength: 64 }) }),
        response: { 200: Metadata, ...errorResponses(400, 404, 429) },
      },
    },
    (req, reply) => {
      const address = parseAddress(req.params.address);
      if (!address) throw badRequest(`"${req.params.address}" is not an Ethereum address (40 hex digits, 0x optional).`);
      return answer(req, reply, metadata.aftermarketDeviceByAddress(address, charge(req, reply)), 'Aftermarket device');
    },
  );

  app.get(
    '/v1/aftermarket/device/:tokenId/image',
    { config, schema: { tags, operationId: 'getAftermarketDeviceImage', summary: 'Aftermarket device image (PNG)', description: 'The manufacturer’s image of an aftermarket device NFT, as PNG. Public and cacheable.', security: [], params: TokenParams, response: { ...PngResponse, ...errorResponses(400, 404, 429) } } },
    (req, reply) => answer(req, reply, metadata.aftermarketDeviceImage(tokenId(req.params.tokenId), charge(req, reply)), 'Aftermarket device'),
  );

  app.get(
    '/v1/synthetic/device/:tokenId',
    { config, schema: { tags, operationId: 'getSyntheticDevice', summary: 'Synthetic device NFT metadata', description: 'ERC-721 metadata of a synthetic device NFT (an integration acting for a vehicle). Public and cacheable.', security: [], params: TokenParams, response: { 200: Metadata, ...errorResponses(400, 404, 429) } } },
    (req, reply) => answer(req, reply, metadata.syntheticDevice(tokenId(req.params.tokenId), charge(req, reply)), 'Synthetic device'),
  );

  app.get(
    '/v1/vehicle/:tokenId',
    { config, schema: { tags, operationId: 'getVehicle', summary: 'Vehicle NFT metadata', description: 'ERC-721 metadata of a vehicle NFT: make, model and year as attributes. Public and cacheable.', security: [], params: TokenParams, response: { 200: Metadata, ...errorResponses(400, 404, 429) } } },
    (req, reply) => answer(req, reply, metadata.vehicle(tokenId(req.params.tokenId), charge(req, reply)), 'Vehicle'),
  );

  app.get(
    '/v1/vehicle/:tokenId/image',
    { config, schema: { tags, operationId: 'getVehicleImage', summary: 'Vehicle image (PNG)', description: 'The image of a vehicle NFT, as PNG. Public and cacheable.', security: [], params: TokenParams, response: { ...PngResponse, ...errorResponses(400, 404, 429) } } },
    (req, reply) => answer(req, reply, metadata.vehicleImage(tokenId(req.params.tokenId), charge(req, reply)), 'Vehicle'),
  );
};
