// Public (no auth) NFT metadata and images, cacheable by browsers and CDNs. Unknown tokens are
// plain 404s: indexers poll right after a mint, so they are not errors worth logging.
// Only lookups that read the database count against the caller's rate limit: an answer kept in
// memory costs less than the limiter's own bookkeeping, and marketplaces refresh whole
// collections at once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { badRequest, notFound } from '../../errors.ts';
import { errorResponses } from '../errors.ts';
import { TokenIdParam } from '../schemas.ts';
import { parseTokenId } from '../../domain/ids.ts';
import { parseAddress } from '../../domain/address.ts';
import { ifNoneMatchMatches } from '../../domain/files/etag.ts';
import type { BeforeLoad, Cached, PublicMetadataService } from '../../services/public-metadata.ts';

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

type Params = Record<string, string>;

/** A public lookup route: its document and how it finds the answer (`load` charges the rate limit). */
interface PublicRoute {
  url: string;
  operationId: string;
  summary: string;
  description: string;
  params: TSchema;
  /** 'png' for an image. */
  body: 'json' | 'png';
  /** What is not found, for the 404. */
  what: string;
  find: (metadata: PublicMetadataService, params: Params, load: BeforeLoad) => Lookup;
}

const byToken = (lookup: (m: PublicMetadataService) => (id: bigint, load: BeforeLoad) => Lookup) => (m: PublicMetadataService, p: Params, load: BeforeLoad) =>
  lookup(m)(tokenId(p.tokenId!), load);

const ROUTES: PublicRoute[] = [
  {
    url: '/v1/aftermarket/device/:tokenId',
    operationId: 'getAftermarketDevice',
    summary: 'Aftermarket device NFT metadata',
    description: 'ERC-721 metadata (name, description, image, attributes) of an aftermarket device NFT. Public and cacheable (ETag, max-age 60).',
    params: TokenParams,
    body: 'json',
    what: 'Aftermarket device',
    find: byToken((m) => m.aftermarketDevice),
  },
  {
    url: '/v1/aftermarket/device/by-address/:address',
    operationId: 'getAftermarketDeviceMetadataByAddress',
    summary: 'Aftermarket device NFT metadata by the device address',
    description: 'The same metadata, found by the device’s Ethereum address (any case).',
    params: Type.Object({ address: Type.String({ maxLength: 64 }) }),
    body: 'json',
    what: 'Aftermarket device',
    find: (m, p, load) => {
      const address = parseAddress(p.address!);
      if (!address) throw badRequest(`"${p.address}" is not an Ethereum address (40 hex digits, 0x optional).`);
      return m.aftermarketDeviceByAddress(address, load);
    },
  },
  {
    url: '/v1/aftermarket/device/:tokenId/image',
    operationId: 'getAftermarketDeviceImage',
    summary: 'Aftermarket device image (PNG)',
    description: 'The manufacturer’s image of an aftermarket device NFT, as PNG. Public and cacheable.',
    params: TokenParams,
    body: 'png',
    what: 'Aftermarket device',
    find: byToken((m) => m.aftermarketDeviceImage),
  },
  {
    url: '/v1/synthetic/device/:tokenId',
    operationId: 'getSyntheticDevice',
    summary: 'Synthetic device NFT metadata',
    description: 'ERC-721 metadata of a synthetic device NFT (an integration acting for a vehicle). Public and cacheable.',
    params: TokenParams,
    body: 'json',
    what: 'Synthetic device',
    find: byToken((m) => m.syntheticDevice),
  },
  {
    url: '/v1/vehicle/:tokenId',
    operationId: 'getVehicle',
    summary: 'Vehicle NFT metadata',
    description: 'ERC-721 metadata of a vehicle NFT: make, model and year as attributes. Public and cacheable.',
    params: TokenParams,
    body: 'json',
    what: 'Vehicle',
    find: byToken((m) => m.vehicle),
  },
  {
    url: '/v1/vehicle/:tokenId/image',
    operationId: 'getVehicleImage',
    summary: 'Vehicle image (PNG)',
    description: 'The image of a vehicle NFT, as PNG. Public and cacheable.',
    params: TokenParams,
    body: 'png',
    what: 'Vehicle',
    find: byToken((m) => m.vehicleImage),
  },
];

export const publicMetadataRoutes: FastifyPluginAsyncTypebox<{ metadata: PublicMetadataService }> = async (app, { metadata }) => {
  const config = { rateLimit: false as const };
  for (const r of ROUTES) {
    const response = r.body === 'png' ? { ...PngResponse, ...errorResponses(400, 404, 429) } : { 200: Metadata, ...errorResponses(400, 404, 429) };
    app.get(
      r.url,
      { config, schema: { tags, operationId: r.operationId, summary: r.summary, description: r.description, security: [], params: r.params, response } },
      (req, reply) => answer(req, reply, r.find(metadata, req.params as Params, () => app.chargeRateLimit(req, reply)), r.what),
    );
  }
};
