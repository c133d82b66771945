// `devices-api token` and `--help`: what a newcomer types to get a dev JWT, and what the server
// makes of it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { decodeJwt } from 'jose';
import { killAllClis, runCli, startServe, tempDir } from '../helpers/cli.ts';

const ADDRESS_LOWER = '0x52908400098527886e0f7030069857d2e4169ee7';
const ADDRESS_CHECKSUMMED = '0x52908400098527886E0F7030069857D2E4169EE7';

describe('devices-api token', () => {
  const dataDir = tempDir('token');
  let url: string;
  before(async () => {
    ({ url } = await startServe(dataDir));
  });
  after(async () => {
    await killAllClis();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const me = (token: string) => fetch(`${url}/v1/user/devices/me`, { headers: { authorization: `Bearer ${token}` } });

  it('prints only the JWT, on one line, and the server accepts it', async () => {
    const r = await runCli(['token', '--sub', 'alice', '--address', ADDRESS_LOWER], { DATA_DIR: dataDir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    const claims = decodeJwt(r.stdout.trim());
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.ethereum_address, ADDRESS_CHECKSUMMED);
    assert.equal(claims.exp! - claims.iat!, 3600, 'the default lifetime is one hour');
    const res = await me(r.stdout.trim());
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { userDevices: unknown[] }).userDevices, []);
  });

  it('issues a token without an address', async () => {
    const r = await runCli(['token', '--sub', 'bob'], { DATA_DIR: dataDir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(decodeJwt(r.stdout.trim()).ethereum_address, undefined);
    assert.equal((await me(r.stdout.trim())).status, 200);
  });

  it('issues a token with the --ttl lifetime that the server refuses once it has expired', async () => {
    const r = await runCli(['token', '--sub', 'alice', '--ttl', '1s'], { DATA_DIR: dataDir });
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.trim();
    const claims = decodeJwt(token);
    assert.equal(claims.exp! - claims.iat!, 1);
    // The verifier allows a few seconds of clock skew; poll (bounded) until the server refuses it.
    let res = await me(token);
    for (let i = 0; i < 60 && res.status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      res = await me(token);
    }
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { message: string }).message, /expired/);
  });

  it('accepts --ttl in minutes, hours and days', async () => {
    const cases = [
      ['30m', 1800],
      ['2h', 7200],
      ['7d', 604800],
    ] as const;
    const env = { DATA_DIR: dataDir, JWT_MAX_LIFETIME: '7d' };
    const results = await Promise.all(cases.map(([ttl]) => runCli(['token', '--sub', 'alice', '--ttl', ttl], env)));
    for (const [i, [ttl, seconds]] of cases.entries()) {
      const r = results[i]!;
      assert.equal(r.code, 0, r.stderr);
      const claims = decodeJwt(r.stdout.trim());
      assert.equal(claims.exp! - claims.iat!, seconds, ttl);
    }
  });

  it('tokens from another data directory (another dev issuer key) are refused', async () => {
    const other = tempDir('token-other');
    try {
      const r = await runCli(['token', '--sub', 'alice'], { DATA_DIR: other });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await me(r.stdout.trim())).status, 401);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  for (const [what, args, message] of [
    ['a malformed --address', ['--sub', 'alice', '--address', '0x1234'], /--address "0x1234" is not an Ethereum address/],
    ['a malformed --ttl', ['--sub', 'alice', '--ttl', 'soon'], /--ttl.*expected a duration/],
    ['a zero --ttl', ['--sub', 'alice', '--ttl', '0s'], /at least 1s/],
    ['a --ttl over JWT_MAX_LIFETIME (24 h by default)', ['--sub', 'alice', '--ttl', '25h'], /longer than JWT_MAX_LIFETIME/],
    ['no --sub', [], /--sub/],
  ] as const) {
    it(`exits non-zero with a message and prints no token for ${what}`, async () => {
      const r = await runCli(['token', ...args], { DATA_DIR: dataDir });
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
    });
  }

  for (const env of [{ NODE_ENV: 'production' }, { DEVICES_API_MODE: 'production' }] as Record<string, string>[]) {
    it(`is refused in production mode (${Object.keys(env)[0]}=production)`, async () => {
      const r = await runCli(['token', '--sub', 'alice'], { DATA_DIR: dataDir, ...env });
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /dev tokens exist only in embedded mode/);
    });
  }
});

describe('devices-api --help', () => {
  /** Command names listed under "Commands:" in a help text (without `help` itself). */
  function commandsIn(help: string): string[] {
    const section = help.split(/^Commands:$/m)[1] ?? '';
    return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
  }

  it('describes the program and every command, recursively', async () => {
    const top = await runCli(['--help'], {});
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /^Usage: devices-api/);
    const commands = commandsIn(top.stdout);
    for (const c of ['serve', 'migrate', 'token']) assert.ok(commands.includes(c), `--help lists ${c}`);
    // One level of the command tree at a time, its commands' help in parallel.
    let level = commands.map((c) => [c]);
    while (level.length) {
      const helps = await Promise.all(level.map((path) => runCli([...path, '--help'], {})));
      level = level.flatMap((path, i) => {
        const r = helps[i]!;
        assert.equal(r.code, 0, `${path.join(' ')} --help: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^Usage: devices-api ${path.join(' ')}`), path.join(' '));
        return commandsIn(r.stdout).map((sub) => [...path, sub]);
      });
    }
  });

  it('exits non-zero and points at --help for an unknown command', async () => {
    const r = await runCli(['frobnicate'], {});
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });
});
