// What the routes of commands relayed through the registry share: the `eth_signTypedData_v4`
// payload schema (one per primary type, typed as the domain's payload so services' payloads are
// answered as they are), the signature field, the SDK's wrapped body, and the payload-or-202 answer.
import type { FastifyReply } from 'fastify';
import { badRequest } from '../errors.ts';
import { Type, type TProperties } from 'typebox';
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
