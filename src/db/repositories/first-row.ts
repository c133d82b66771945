// Lookups by a key that names at most one row: the query with LIMIT 1, its row or undefined.

export async function firstRow<T>(query: { limit(n: number): PromiseLike<T[]> }): Promise<T | undefined> {
  const [row] = await query.limit(1);
  return row;
}
