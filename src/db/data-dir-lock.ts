// One process per embedded data directory: PGlite has no multi-process locking, and two
// processes on one directory silently lose rows. The lock file holds the owner's pid.
import fs from 'node:fs';
import path from 'node:path';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      pid === process.pid
        ? `The data directory ${dataDir} is already open in this process (pid ${pid}).`
        : `The data directory ${dataDir} is in use by another devices-api process (pid ${pid}). ` +
            'Stop that process first, or point DATA_DIR at another directory.',
    );
  }
}

export interface DataDirLock {
  file: string;
  release(): void;
}

export const LOCK_FILE = 'devices-api.lock';

/** Lock files this process holds: a second open in the same process is refused too. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: any) {
    return e.code === 'EPERM';
  }
}

function readLock(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e: any) {
    if (e.code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Creates the lock file with its content in one step: written to a private name, then hard-linked
 * into place (link fails if the name exists), so no other process ever reads a half-written file.
 */
function tryCreate(file: string): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, String(process.pid));
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e: any) {
    if (e.code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export function lockDataDir(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  if (held.has(file)) throw new DataDirLockedError(dataDir, process.pid);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(file)) {
      held.add(file);
      return {
        file,
        release: () => {
          held.delete(file);
          try {
            if (readLock(file) === String(process.pid)) fs.unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    }
    const content = readLock(file);
    if (content === null) continue; // released meanwhile
    const pid = Number(content.trim());
    // Our own pid in a file we do not hold is stale too: a restarted container reuses pid 1.
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new DataDirLockedError(dataDir, pid);
    // A stale lock from a process that died without cleaning up. Move it aside (atomic, so of
    // two processes taking it over only one succeeds) and put it back if it was replaced meanwhile.
    const aside = `${file}.${process.pid}.stale`;
    try {
      fs.renameSync(file, aside);
    } catch (e: any) {
      if (e.code === 'ENOENT') continue;
      throw e;
    }
    if (readLock(aside) !== content) {
      try {
        fs.linkSync(aside, file);
      } catch {
        // someone else holds it now; the next attempt reads their pid
      }
    }
    fs.rmSync(aside, { force: true });
  }
  throw new Error(`could not lock ${file}`);
}
