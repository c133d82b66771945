// What the routes of commands relayed through the registry share: the `eth_signTypedData_v4`
// payload schema (one per primary type, typed as the domain's payload so services' payloads are
// answered as they are), the signature field, the SDK's wrapped body, and the payload-or-202 answer.
import type { FastifyReply } from 'fastify';
import { badRequest } from '../errors.ts';
import { Type, type TProperties, type TSchema } from 'typebox';
import { errorResponses } from './errors.ts';
import { TransactionRequest } from './schemas.ts';
import type { RegistryPrimaryType, TypedDataPayload } from '../domain/eip712.ts';
import { toTransactionRequest } from '../domain/views.ts';
import type { CommandOutcome } from '../services/registry-command.ts';

const TypedField = Type.Object({ name: Type.String(), type: Type.String() });
const Domain = Type.Object({ name: Type.String(), version: Type.String(), chainId: Type.Integer(), verifyingContract: Type.String() });

/** The JSON schema of the `primaryType` payload (CHAIN.md §1); `message` documents its fields. */
export function typedDataPayload<P extends RegistryPrimaryType>(primaryType: P, message: TProperties, options: { $id: string; description: string }) {
  const schema = Type.Object(
    {
      types: Type.Object({ EIP712Domain: Type.Array(TypedField), [primaryType]: Type.Array(TypedField) }),
      primaryType: Type.Literal(primaryType),
      domain: Domain,
      message: Type.Object(message),
    },
    options,
  );
  return Type.Unsafe<TypedDataPayload<P>>(schema);
}

interface CommandDoc {
  summary: string;
  description: string;
}

/**
 * The route schemas of one command: GET answers the payload to sign (`get<name>Payload`); POST
 * (`sign<name>Payload`) with the signatures relays it (202 and the queued request), without them
 * answers the payload as GET does.
 */
export function commandSchemas<Params extends TSchema, Body extends TSchema, Payload extends TSchema>(
  name: string,
  c: { tags: string[]; params: Params; body: Body; payload: Payload },
  docs: { get: CommandDoc; post: CommandDoc },
) {
  const errors = errorResponses(400, 401, 404, 409, 503);
  const security = [{ bearerAuth: [] }];
  return {
    get: { tags: c.tags, security, operationId: `get${name}Payload`, ...docs.get, params: c.params, response: { 200: c.payload, ...errors } },
    post: { tags: c.tags, security, operationId: `sign${name}Payload`, ...docs.post, params: c.params, body: c.body, response: { 200: c.payload, 202: TransactionRequest, ...errors } },
  };
}

/** A command's body as clients send it, and as @dimo-network/data-sdk does: wrapped in `{ [key]: {...} }`. */
export function sdkWrappedBody<F extends TProperties, K extends string>(fields: F, key: K, $id: string) {
  const wrapped = Type.Optional(Type.Object(fields, { description: '@dimo-network/data-sdk wraps the body in this' }));
  const properties: F & { [k in K]: typeof wrapped } = { ...fields, [key]: wrapped };
  return Type.Object(properties, { $id });
}

/** A 65-byte signature field (0x hex). */
export const signatureText = (description: string) => Type.String({ maxLength: 1024, description });

/** @dimo-network/data-sdk wraps the body in `{ [key]: {...} }`: the fields either way. */
export function unwrapSdkBody<K extends string, F extends object>(body: F & { [k in K]?: F }, key: K): F {
  const { [key]: wrapped, ...rest } = body;
  return { ...rest, ...wrapped } as F;
}

/** 200 with the payload to sign, or 202 with the queued request. */
export function sendOutcome<P extends RegistryPrimaryType>(reply: FastifyReply, outcome: CommandOutcome<P>) {
  if (outcome.kind === 'payload') return reply.code(200).send(outcome.payload);
  return reply.code(202).send(toTransactionRequest(outcome.request));
}

/** `a` unless it is absent, else `b` (its synonym); both given and different is a 400 naming them. */
export function alias<T extends object>(body: T, a: keyof T & string, b: keyof T & string): string | undefined {
  const x = body[a] as string | undefined;
  const y = body[b] as string | undefined;
  if (x !== undefined && y !== undefined && x !== y) {
    throw badRequest(`${b} is a synonym of ${a}; send one of them, not two different values.`);
  }
  return x ?? y;
}
