// An object whose members are built on first use (and once): a composition root can describe every
// member while a caller that needs one pays only for that one and what it depends on.

export type Makers<T> = { readonly [K in keyof T]: () => T[K] };

export function lazily<T extends object>(makers: Makers<T>): T {
  const out = {} as T;
  for (const key of Object.keys(makers) as (keyof T & string)[]) {
    let made: { value: T[typeof key] } | undefined;
    Object.defineProperty(out, key, { enumerable: true, get: () => (made ??= { value: makers[key]() }).value });
  }
  return out;
}
