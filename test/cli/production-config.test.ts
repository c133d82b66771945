// Production mode refuses to start on an incomplete or malformed configuration, naming every
// problem at once, before it touches a database or a port.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { killAllClis, runCli, tempDir } from '../helpers/cli.ts';

const REQUIRED = ['DATABASE_URL', 'JWT_JWKS_URL', 'JWT_ISSUER', 'JWT_AUDIENCE', 'PUBLIC_BASE_URL', 'S3_BUCKET'];

function problemLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('config error: '));
}

describe('production configuration', () => {
  const dataDir = tempDir('prod-config');
  after(async () => {
    await killAllClis();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  for (const command of ['serve', 'migrate']) {
    it(`${command} exits non-zero printing one line per missing variable (every one of them named)`, async () => {
      const r = await runCli([command], { NODE_ENV: 'production', DATA_DIR: dataDir });
      assert.notEqual(r.code, 0);
      const lines = problemLines(r.stderr);
      for (const name of REQUIRED) {
        assert.equal(lines.filter((l) => l.includes(name)).length, 1, `one line names ${name}:\n${r.stderr}`);
      }
      assert.equal(fs.readdirSync(dataDir).length, 0, 'nothing was created in DATA_DIR');
    });
  }

  it('serve names each malformed variable and not the valid ones', async () => {
    const r = await runCli(['serve'], {
      DEVICES_API_MODE: 'production',
      DATABASE_URL: 'mysql://db.example/devices',
      JWT_JWKS_URL: 'not a url',
      JWT_ISSUER: 'https://auth.example',
      JWT_AUDIENCE: 'devices-api',
      PUBLIC_BASE_URL: 'ftp://api.example',
      S3_BUCKET: 'devices',
      PORT: '99999',
      RATE_LIMIT_MAX: 'lots',
      DATA_DIR: dataDir,
    });
    assert.notEqual(r.code, 0);
    const lines = problemLines(r.stderr);
    for (const name of ['DATABASE_URL', 'JWT_JWKS_URL', 'PUBLIC_BASE_URL', 'PORT', 'RATE_LIMIT_MAX']) {
      assert.ok(
        lines.some((l) => l.includes(name)),
        `a line names ${name}:\n${r.stderr}`,
      );
    }
    for (const name of ['JWT_ISSUER', 'JWT_AUDIENCE', 'S3_BUCKET']) {
      assert.ok(!lines.some((l) => l.includes(name)), `${name} is valid:\n${r.stderr}`);
    }
  });

  it('an unknown DEVICES_API_MODE is a configuration error', async () => {
    const r = await runCli(['serve'], { DEVICES_API_MODE: 'prod', DATA_DIR: dataDir });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /config error: DEVICES_API_MODE must be "embedded" or "production", got "prod"/);
  });
});
