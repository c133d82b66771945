// The JSON the CLI prints on stdout. Token ids are uint256 bigints, written as JSON numbers with
// exact digits, as the API writes them: JSON.stringify refuses bigints, and a JS number would
// round them past 2^53.
import { randomUUID } from 'node:crypto';

export function cliJson(value: unknown): string {
  // Each bigint goes through JSON.stringify as a marked string, then loses its quotes; the
  // random mark cannot occur in any real string.
  const mark = `bigint-${randomUUID()}:`;
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${mark}${v}` : v), 2);
  return text.replaceAll(new RegExp(`"${mark}(-?[0-9]+)"`, 'g'), '$1');
}
