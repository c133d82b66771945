// Optional longer DTC explanations from an OpenAI-compatible chat-completions endpoint. The
// error-codes route must answer without it, so nothing here throws or waits past its budget:
// every failure becomes `null`, and the model's answer is treated as untrusted text (cleaned,
// length-capped, stored and returned only as data).
import { normaliseMake } from '../domain/dtc/make.ts';
import { readCappedBody } from '../http-client/read-capped-body.ts';

/** Longest explanation kept, in characters (after cleaning). */
export const MAX_EXPLANATION_CHARS = 1_000;
/** Most bytes read from the endpoint; a bigger answer is abandoned, not parsed. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
export const DEFAULT_ENRICH_MODEL = 'gpt-4o-mini';
/** Enough for ~MAX_EXPLANATION_CHARS of English. */
const MAX_TOKENS = 300;

/** The subset of pino's API used here. */
export interface EnrichLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface DtcEnricher {
  /** Cleaned explanation, or null on any failure. Never rejects. */
  explain(code: string, title: string, make: string | null): Promise<string | null>;
}

export interface DtcEnricherOptions {
  /** The full chat-completions URL, e.g. `https://api.openai.com/v1/chat/completions`. */
  readonly url: string;
  readonly apiKey: string;
  readonly model?: string | undefined;
  /** Budget for one call, connection to last body byte. */
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch | undefined;
  readonly logger?: EnrichLogger | undefined;
}

const SYSTEM_PROMPT =
  'You explain OBD-II diagnostic trouble codes to vehicle owners. Given a code, its title and ' +
  'the vehicle make, explain in plain text what the fault usually means, common causes and how ' +
  'urgent it is. At most 120 words. No markdown, no links.';

export function createDtcEnricher(opts: DtcEnricherOptions): DtcEnricher {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const model = opts.model ?? DEFAULT_ENRICH_MODEL;

  return {
    async explain(code, title, make) {
      const user = `Code: ${code}\nTitle: ${title}\nMake: ${make ?? 'unknown'}`;
      const body = JSON.stringify({
        model,
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: user },
        ],
        max_tokens: MAX_TOKENS,
        temperature: 0.2,
      });
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      // The abort stops a cooperative fetch; the race also covers one that ignores its signal.
      const timedOut = new Promise<Outcome>((resolve) => {
        timer = setTimeout(() => {
          controller.abort();
          resolve({ ok: false, reason: 'timeout' });
        }, opts.timeoutMs);
      });
      const work = call(doFetch, opts.url, opts.apiKey, body, controller.signal).catch(
        (err: unknown): Outcome => ({ ok: false, reason: controller.signal.aborted ? 'timeout' : 'network', detail: errorText(err) }),
      );
      try {
        const outcome = await Promise.race([work, timedOut]);
        if (outcome.ok) return outcome.text;
        opts.logger?.warn({ code, reason: outcome.reason, detail: outcome.detail }, 'dtc enrichment failed');
        return null;
      } finally {
        clearTimeout(timer);
        controller.abort();
      }
    },
  };
}

type Outcome = { ok: true; text: string } | { ok: false; reason: string; detail?: string | undefined };

async function call(
  doFetch: typeof fetch,
  url: string,
  apiKey: string,
  body: string,
  signal: AbortSignal,
): Promise<Outcome> {
  const res = await doFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${apiKey}` },
    body,
    signal,
    // A redirect could carry the key elsewhere; a proper endpoint never needs one.
    redirect: 'error',
  });
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    return { ok: false, reason: 'status', detail: String(res.status) };
  }
  const raw = await readCappedBody(res, MAX_RESPONSE_BYTES);
  if (raw === null) return { ok: false, reason: 'too_large' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'malformed_json' };
  }
  const content = extractContent(json);
  if (content === null) return { ok: false, reason: 'unexpected_shape' };
  const text = cleanExplanation(content);
  if (text === null) return { ok: false, reason: 'empty' };
  return { ok: true, text };
}

/** `choices[0].message.content` when it is a string; null for any other shape. */
function extractContent(json: unknown): string | null {
  if (!isRecord(json) || !Array.isArray(json.choices)) return null;
  const first: unknown = json.choices[0];
  if (!isRecord(first) || !isRecord(first.message)) return null;
  const content = first.message.content;
  return typeof content === 'string' ? content : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Terminal colour/cursor sequences: stripping ESC alone would leave "[31m" behind.
const ANSI_ESCAPE = /\u001b\[[0-?]*[ -/]*[@-~]/g;
// C0 controls except \n (\t and \r are turned into blanks first), DEL, C1 controls, bidi
// overrides/isolates (they can visually reorder text around them), zero-width characters, the
// BOM, and lone surrogates.
const UNWANTED = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Untrusted model output → plain text: controls and terminal escapes stripped, blanks collapsed, at most two line
 * breaks in a row, capped at `maxChars` (cut at a word when one is near, marked with "…").
 * Null when nothing readable is left.
 */
export function cleanExplanation(raw: string, maxChars: number = MAX_EXPLANATION_CHARS): string | null {
  const text = raw
    .replace(ANSI_ESCAPE, '')
    .replace(/\r\n?/g, '\n')
    .replace(/[\t\u2028\u2029]/g, (c) => (c === '\t' ? ' ' : '\n'))
    .replace(UNWANTED, '')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (text === '') return null;
  const chars = Array.from(text); // code points, so a cut never splits a surrogate pair
  if (chars.length <= maxChars) return text;
  let cut = chars.slice(0, maxChars - 1).join('');
  const lastBlank = Math.max(cut.lastIndexOf(' '), cut.lastIndexOf('\n'));
  if (lastBlank >= cut.length * 0.8) cut = cut.slice(0, lastBlank);
  return `${cut.trimEnd()}…`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Where explanations are kept per (code, make); implemented over the database elsewhere.
 * `make` is normalised (see normaliseMake) or null. `get` answers undefined or null when nothing
 * is stored.
 */
export interface DtcExplanationCache {
  get(code: string, make: string | null): Promise<string | null | undefined>;
  set(code: string, make: string | null, text: string): Promise<void>;
}

export interface CachedDtcEnricher extends DtcEnricher {
  /**
   * Explains several codes concurrently and returns what is ready `deadlineMs` from now
   * (code → text; codes without an explanation are absent). Lookups still running at the
   * deadline carry on in the background and fill the cache for the next request.
   */
  explainWithin(
    codes: readonly { readonly code: string; readonly title: string }[],
    make: string | null,
    deadlineMs: number,
  ): Promise<Map<string, string>>;
}

/**
 * Puts a cache in front of an enricher: a hit never reaches the endpoint, and only successful
 * answers are stored (a timeout is not remembered as "no explanation"). Never rejects.
 */
export function cachedEnricher(
  enricher: DtcEnricher,
  cache: DtcExplanationCache,
  logger?: EnrichLogger,
): CachedDtcEnricher {
  const explain = async (code: string, title: string, rawMake: string | null): Promise<string | null> => {
    const make = normaliseMake(rawMake);
    try {
      const hit = await cache.get(code, make);
      if (typeof hit === 'string') return hit;
    } catch (err) {
      logger?.warn({ code, detail: errorText(err) }, 'dtc explanation cache read failed');
    }
    const text = await enricher.explain(code, title, rawMake).catch(() => null);
    if (text !== null) {
      await cache.set(code, make, text).catch((err: unknown) => {
        logger?.warn({ code, detail: errorText(err) }, 'dtc explanation cache write failed');
      });
    }
    return text;
  };

  return {
    explain,
    async explainWithin(codes, make, deadlineMs) {
      const found = new Map<string, string>();
      // Set once the deadline passes so late answers cannot change a map already returned.
      let done = false;
      const seen = new Set<string>();
      const lookups: Promise<void>[] = [];
      for (const { code, title } of codes) {
        if (seen.has(code)) continue;
        seen.add(code);
        lookups.push(
          explain(code, title, make).then((text) => {
            if (text !== null && !done) found.set(code, text);
          }),
        );
      }
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
      });
      await Promise.race([Promise.all(lookups), deadline]);
      done = true;
      clearTimeout(timer);
      return found;
    },
  };
}
