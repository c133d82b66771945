// `devices-api dtc import <file>`: reads and checks the whole TSV before touching the database
// (every bad line reported with its number), then imports it in one transaction. Everything
// human-readable goes to stderr; the exit code says whether it worked.
import fs from 'node:fs/promises';
import type { Database } from '../db/engine.ts';
import { parseDtcImportTsv, type DtcImportRow } from '../domain/dtc/index.ts';
import { DEFAULT_IMPORT_BATCH, importDtcTitles } from '../services/dtc-import.ts';

/** Bad lines printed before the rest are only counted. */
const MAX_REPORTED_ERRORS = 50;

export interface Output {
  write(s: string): unknown;
}

export interface DtcImportDeps {
  /** Opens (and in embedded mode migrates) the configured database; called only for a good file. */
  open(): Promise<{ database: Database; close(): Promise<void> }>;
  stderr: Output;
}

export interface DtcImportCliOptions {
  replace?: boolean;
  batchSize?: number;
}

/** Runs the command; answers the process exit code. */
export async function runDtcImport(file: string, opts: DtcImportCliOptions, deps: DtcImportDeps): Promise<number> {
  const { stderr } = deps;
  const rows = await readRows(file, stderr);
  if (rows === null) return 1;
  if (rows.length === 0 && !opts.replace) {
    stderr.write(`dtc import: ${file} has no titles; nothing to do\n`);
    return 0;
  }
  const batchSize = opts.batchSize ?? DEFAULT_IMPORT_BATCH;
  let opened: Awaited<ReturnType<DtcImportDeps['open']>> | undefined;
  try {
    opened = await deps.open();
    const started = Date.now();
    const summary = await importDtcTitles(opened.database.db, rows, {
      replace: opts.replace,
      batchSize,
      // Only worth a line per batch when there is more than one batch.
      onProgress: (done, total) => {
        if (total > batchSize) stderr.write(`dtc import: ${done}/${total} rows\n`);
      },
    });
    const allMakes = rows.filter((r) => r.make === null).length;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    stderr.write(
      `dtc import: imported ${summary.rows} titles from ${file} (${allMakes} for every make, ${summary.rows - allMakes} make-specific): ` +
        `${summary.inserted} new, ${summary.updated} updated` +
        (opts.replace ? `, ${summary.removed} previously imported titles replaced` : '') +
        ` in ${seconds} s\n`,
    );
    return 0;
  } catch (e) {
    stderr.write(`dtc import: failed, nothing was imported: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    await opened?.close();
  }
}

async function readRows(file: string, stderr: Output): Promise<DtcImportRow[] | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    stderr.write(`dtc import: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    return null;
  }
  const parsed = parseDtcImportTsv(text);
  if (parsed.ok) return parsed.rows;
  for (const err of parsed.errors.slice(0, MAX_REPORTED_ERRORS)) stderr.write(`${file}:${err.line}: ${err.message}\n`);
  const more = parsed.errors.length - MAX_REPORTED_ERRORS;
  if (more > 0) stderr.write(`… and ${more} more bad lines\n`);
  stderr.write(
    `dtc import: ${parsed.errors.length} bad line${parsed.errors.length === 1 ? '' : 's'} in ${file}; nothing was imported. ` +
      'Expected one title per line: code<TAB>make<TAB>description (empty make = every make).\n',
  );
  return null;
}
