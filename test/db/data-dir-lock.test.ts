import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/db/data-dir-lock.ts';
import { tempDir } from '../helpers/cli.ts';

const dirs: string[] = [];
function dataDir(): string {
  const d = tempDir('lock');
  dirs.push(d);
  return d;
}

/** A child process that stays alive until killed (its pid is a live "other owner"). */
function liveProcess() {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  return child;
}

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid!;
}

describe('data-dir lock', () => {
  const children: ReturnType<typeof liveProcess>[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('creates the directory and writes this pid into the lock file, and release removes it', () => {
    const dir = path.join(dataDir(), 'nested', 'data');
    const lock = lockDataDir(dir);
    assert.equal(lock.file, path.join(dir, LOCK_FILE));
    assert.equal(fs.readFileSync(lock.file, 'utf8'), String(process.pid));
    lock.release();
    assert.equal(fs.existsSync(lock.file), false);
    // released: it can be taken again
    lockDataDir(dir).release();
  });

  it('refuses a directory locked by another live process, naming its pid', () => {
    const dir = dataDir();
    const other = liveProcess();
    children.push(other);
    fs.writeFileSync(path.join(dir, LOCK_FILE), String(other.pid));
    assert.throws(
      () => lockDataDir(dir),
      (e: unknown) => e instanceof DataDirLockedError && e.pid === other.pid && e.message.includes(`pid ${other.pid}`) && e.message.includes(dir),
    );
    // the other owner's lock is left alone
    assert.equal(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'), String(other.pid));
  });

  it('takes over a stale lock left by a process that died', async () => {
    const dir = dataDir();
    fs.writeFileSync(path.join(dir, LOCK_FILE), String(await deadPid()));
    const lock = lockDataDir(dir);
    assert.equal(fs.readFileSync(lock.file, 'utf8'), String(process.pid));
    lock.release();
  });

  it('takes over a lock file whose content is not a pid', () => {
    const dir = dataDir();
    fs.writeFileSync(path.join(dir, LOCK_FILE), 'garbage\n');
    const lock = lockDataDir(dir);
    assert.equal(fs.readFileSync(lock.file, 'utf8'), String(process.pid));
    lock.release();
  });

  it('refuses a second lock on the same directory from the same process', () => {
    const dir = dataDir();
    const lock = lockDataDir(dir);
    assert.throws(() => lockDataDir(dir), (e: unknown) => e instanceof DataDirLockedError && e.pid === process.pid);
    lock.release();
    lockDataDir(dir).release();
  });

  it('release leaves alone a lock file that another process now owns', () => {
    const dir = dataDir();
    const lock = lockDataDir(dir);
    const other = liveProcess();
    children.push(other);
    fs.writeFileSync(lock.file, String(other.pid));
    lock.release();
    assert.equal(fs.readFileSync(lock.file, 'utf8'), String(other.pid));
  });

  it('leaves no temporary files beside the lock', () => {
    const dir = dataDir();
    const lock = lockDataDir(dir);
    assert.deepEqual(fs.readdirSync(dir), [LOCK_FILE]);
    lock.release();
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
