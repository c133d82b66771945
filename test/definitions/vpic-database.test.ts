// The vPIC database loader's cache of the indexed database: a restart (or another test file)
// reads the indexed copy instead of gunzipping and indexing again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import initSqlJs from 'sql.js';
import { openVpicDatabase } from '../../src/definitions/vpic-database.ts';

// The tables the loader indexes, with only the columns it indexes, and one Make row.
const SCHEMA = [
  'CREATE TABLE Wmi (Id INTEGER, Wmi TEXT)',
  'CREATE TABLE Wmi_Make (WmiId INTEGER, MakeId INTEGER)',
  'CREATE TABLE Wmi_VinSchema (WmiId INTEGER, VinSchemaId INTEGER)',
  'CREATE TABLE VinSchema (Id INTEGER)',
  'CREATE TABLE Manufacturer (Id INTEGER)',
  'CREATE TABLE Make (Id INTEGER, Name TEXT)',
  'CREATE TABLE Model (Id INTEGER)',
  'CREATE TABLE Make_Model (MakeId INTEGER, ModelId INTEGER)',
  'CREATE TABLE Country (Id INTEGER)',
  'CREATE TABLE VehicleType (Id INTEGER)',
  'CREATE TABLE Element (Id INTEGER)',
  'CREATE TABLE Pattern (VinSchemaId INTEGER)',
  "INSERT INTO Make VALUES (1, 'Honda')",
];

describe('openVpicDatabase with a cache folder', () => {
  let dir: string;
  let source: string;
  let cacheDir: string;
  const cacheFiles = () => (fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).filter((f) => f.endsWith('.db')) : []);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devices-api-vpic-test-'));
    cacheDir = path.join(dir, 'cache');
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    for (const sql of SCHEMA) db.run(sql);
    source = path.join(dir, 'vpic.db.gz');
    fs.writeFileSync(source, gzipSync(db.export()));
    db.close();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the indexed database on the first open and answers from the source', async () => {
    const db = await openVpicDatabase(source, { cacheDir });
    assert.deepEqual(db.rows('SELECT Name FROM Make'), [['Honda']]);
    db.close();
    assert.equal(cacheFiles().length, 1);
  });

  it('reads the cached copy on the next open', async () => {
    // Mark the cached copy: an open that shows the mark read the cache, not the source.
    const file = path.join(cacheDir, cacheFiles()[0]!);
    const SQL = await initSqlJs();
    const marked = new SQL.Database(fs.readFileSync(file));
    marked.run("INSERT INTO Make VALUES (2, 'from the cache')");
    fs.writeFileSync(file, marked.export());
    marked.close();
    const db = await openVpicDatabase(source, { cacheDir });
    assert.deepEqual(db.rows('SELECT Name FROM Make ORDER BY Id'), [['Honda'], ['from the cache']]);
    db.close();
  });

  it('falls back to the source and rewrites a cached file that is not a database', async () => {
    const file = path.join(cacheDir, cacheFiles()[0]!);
    fs.writeFileSync(file, 'not a database');
    const db = await openVpicDatabase(source, { cacheDir });
    assert.deepEqual(db.rows('SELECT Name FROM Make'), [['Honda']]);
    db.close();
    assert.notEqual(fs.readFileSync(file).subarray(0, 15).toString(), 'not a database');
  });

  it('misses the cache when the source changes, and keeps only the new copy', async () => {
    const old = cacheFiles();
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(source, later, later);
    const db = await openVpicDatabase(source, { cacheDir });
    db.close();
    assert.equal(cacheFiles().length, 1);
    assert.notDeepEqual(cacheFiles(), old);
  });

  it('works without a cache folder, and with one it cannot write', async () => {
    const none = await openVpicDatabase(source, { cacheDir: null });
    assert.deepEqual(none.rows('SELECT Name FROM Make'), [['Honda']]);
    none.close();
    const blocked = path.join(dir, 'a-file');
    fs.writeFileSync(blocked, '');
    const db = await openVpicDatabase(source, { cacheDir: path.join(blocked, 'cache') });
    assert.deepEqual(db.rows('SELECT Name FROM Make'), [['Honda']]);
    db.close();
  });
});
