// vPIC pattern keys: which VINs a `Pattern.Keys` value describes. Pure.
//
// A key covers VIN positions 4-8 and, after an optional "|", positions 10 onward (position 9,
// the check digit, is never keyed). Each position is a literal character, "*" (any), or a class
// such as "[A-D5]". Positions a key does not reach are unconstrained.

/** One set of allowed characters per VIN position, starting at position 4; null means any. */
export type KeyPositions = readonly (ReadonlySet<string> | null)[];

export function parseKeys(keys: string): KeyPositions {
  const bar = keys.indexOf('|');
  const vds = parsePart(bar === -1 ? keys : keys.slice(0, bar));
  if (bar === -1) return vds;
  const padded = [...vds, ...Array<null>(Math.max(0, 5 - vds.length)).fill(null)].slice(0, 5);
  return [...padded, null, ...parsePart(keys.slice(bar + 1))];
}

/** Whether some VIN could match both keys. */
export function keysOverlap(a: KeyPositions, b: KeyPositions): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y) continue;
    let shared = false;
    for (const c of x) {
      if (y.has(c)) {
        shared = true;
        break;
      }
    }
    if (!shared) return false;
  }
  return true;
}

function parsePart(part: string): (ReadonlySet<string> | null)[] {
  const out: (ReadonlySet<string> | null)[] = [];
  let i = 0;
  while (i < part.length) {
    const c = part[i] ?? '';
    if (c === '[') {
      const end = part.indexOf(']', i);
      const body = end === -1 ? part.slice(i + 1) : part.slice(i + 1, end);
      out.push(parseClass(body));
      i = end === -1 ? part.length : end + 1;
    } else {
      out.push(c === '*' ? null : new Set([c]));
      i++;
    }
  }
  return out;
}

function parseClass(body: string): ReadonlySet<string> {
  const chars = new Set<string>();
  let i = 0;
  while (i < body.length) {
    const from = body.charCodeAt(i);
    if (body[i + 1] === '-' && i + 2 < body.length) {
      const to = body.charCodeAt(i + 2);
      for (let code = from; code <= to; code++) chars.add(String.fromCharCode(code));
      i += 3;
    } else {
      chars.add(body[i] ?? '');
      i++;
    }
  }
  return chars;
}
