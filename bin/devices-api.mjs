#!/usr/bin/env node
// Entry point for the `devices-api` command (and `npm start`): runs the compiled build in dist/,
// which `npm ci` makes (the `prepare` script; `npm run build` remakes it after a change to src/).
import fs from 'node:fs';
import module from 'node:module';

const main = new URL('../dist/main.js', import.meta.url);
if (!fs.existsSync(main)) {
  process.stderr.write('devices-api: no compiled build (dist/main.js). Run `npm run build` (or `npm ci`) in the project first.\n');
  process.exit(1);
}
// Node 22.1+ keeps compiled bytecode between runs (in the OS temp folder); Node 20 has no cache.
module.enableCompileCache?.();
await import(main.href);
