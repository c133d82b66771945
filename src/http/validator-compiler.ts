// Request validation with Fastify's own ajv setup (its option defaults, formats, plugins and
// shared schemas), but a JSON body is checked as sent. Query strings, path params and headers
// are text, so they are coerced to their schema's types; a body that says 42 where a string
// belongs is a client mistake to report by name, not to turn into "42".
import { AjvCompiler, type ValidatorFactory } from '@fastify/ajv-compiler';

type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };

/**
 * ajv coerces "1e999" and "Infinity" to Infinity, which then passes `type: integer` and skips
 * minimum/maximum; every coerced number must be finite, so such a value is a 400 naming it.
 */
function finiteAfterCoercion(validate: Validate): Validate {
  const checked: Validate = (data) => {
    const ok = validate(data);
    checked.errors = validate.errors;
    if (!ok || data === null || typeof data !== 'object') return ok;
    for (const [key, value] of Object.entries(data)) {
      const values: unknown[] = Array.isArray(value) ? value : [value];
      if (values.some((v) => typeof v === 'number' && !Number.isFinite(v))) {
        checked.errors = [{ keyword: 'type', instancePath: `/${key}`, schemaPath: '', params: {}, message: 'must be a finite number' }];
        return false;
      }
    }
    return ok;
  };
  return checked;
}

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
    return (route) => {
      if (route.httpPart === 'body') return asSent(route);
      const validate = coercing(route);
      // Fastify uses only the call and `errors`, not ajv's other properties.
      return finiteAfterCoercion(validate as Validate) as unknown as typeof validate;
    };
  };
}
