// Every (make, model) pair vPIC knows, keyed by slugs, so an id lookup is a Map hit. Pure.
import { slugPart } from '../domain/definition-id.ts';

export interface MakeModel {
  readonly makeSlug: string;
  readonly makeName: string;
  readonly modelSlug: string;
  readonly modelName: string;
  readonly modelId: number;
}

export interface MakeModelIndex {
  find(makeSlug: string, modelSlug: string): MakeModel | undefined;
  readonly size: number;
}

/** vPIC names carry stray spaces ("RAVEN MOTORCYCLE ", "FLY  50"); shown names should not. */
export function cleanName(name: string): string {
  return name.trim().replace(/\s+/g, ' ');
}

/**
 * Rows are [makeName, modelId, modelName]. When distinct names share slugs ("H Series" and
 * "H-Series"), the first row wins, so pass rows in a stable order (by vPIC ids).
 */
export function buildMakeModelIndex(rows: Iterable<readonly [string, number, string]>): MakeModelIndex {
  const byKey = new Map<string, MakeModel>();
  for (const [rawMake, modelId, rawModel] of rows) {
    const makeName = cleanName(rawMake);
    const modelName = cleanName(rawModel);
    const makeSlug = slugPart(makeName);
    const modelSlug = slugPart(modelName);
    if (makeSlug === '' || modelSlug === '') continue;
    const key = `${makeSlug}_${modelSlug}`;
    if (!byKey.has(key)) byKey.set(key, { makeSlug, makeName, modelSlug, modelName, modelId });
  }
  return {
    find: (makeSlug, modelSlug) => byKey.get(`${makeSlug}_${modelSlug}`),
    size: byKey.size,
  };
}
