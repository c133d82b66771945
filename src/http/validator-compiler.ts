// Request validation with Fastify's own ajv setup (its option defaults, formats, plugins and
// shared schemas), but a JSON body is checked as sent. Query strings, path params and headers
// are text, so they are coerced to their schema's types; a body that says 42 where a string
// belongs is a client mistake to report by name, not to turn into "42".
import { AjvCompiler, type ValidatorFactory } from '@fastify/ajv-compiler';

/**
 * For `schemaController.compilersFactory.buildValidator`: the default compiler twice, from the
 * same ajv options, one with coercion off for bodies. (Fastify then leaves header schemas' key
 * case alone, as for any custom compiler; no route validates headers.)
 */
export function bodyAsSentValidators(): ValidatorFactory {
  // The pool keys compilers by options and shared schemas, so each set is compiled once.
  const fromPool = AjvCompiler();
  return (externalSchemas, options) => {
    const coercing = fromPool(externalSchemas, options);
    // JTD schemas have no coercion to turn off.
    if (options?.mode === 'JTD') return coercing;
    const asSent = fromPool(externalSchemas, { ...options, customOptions: { ...options?.customOptions, coerceTypes: false } });
    return (route) => (route.httpPart === 'body' ? asSent : coercing)(route);
  };
}
