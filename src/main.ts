// The devices-api command line: serve | migrate | token (and more as features land).
import { Command, InvalidArgumentError, Option } from 'commander';
import { isProductionEnv, loadConfig, type Config } from './config.ts';
import { parseAddress } from './domain/address.ts';
import { registerChainCommands } from './cli/chain-commands.ts';
import { disablePretenuring } from './gc-tuning.ts';
import { bindStartupListener } from './http/startup-listener.ts';

// Everything heavier than commander and the configuration loads only in the commands that use it:
// the runtime (database engines, Fastify, S3, the chain), the logger, jose. So `--help` and `token`
// answer in a fraction of a second (bench/RESULTS.md, "CLI start").
const runtime = () => import('./runtime.ts');

function configOrExit(): Config {
  const r = loadConfig(process.env);
  if (!r.ok) {
    for (const p of r.problems) process.stderr.write(`config error: ${p}\n`);
    process.exit(1);
  }
  return r.config;
}

async function createLogger(config: Config) {
  const { default: pino } = await import('pino');
  return pino({
    level: config.logLevel,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: '[redacted]' },
    ...(config.prettyLogs ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  });
}

function parseTtl(v: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError('expected a duration like 30m, 1h or 7d');
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(m[1]) * unit;
  if (seconds < 1) throw new InvalidArgumentError('the lifetime must be at least 1s');
  return seconds;
}

/** An error's message followed by its causes' (a failed query hides the ECONNREFUSED that caused it). */
function describeError(e: unknown): string {
  const parts: string[] = [];
  for (let c: any = e, depth = 0; c !== undefined && c !== null && depth < 5; c = c.cause, depth++) {
    // An AggregateError from a refused dual-stack connect has an empty message but a code.
    const text = (c instanceof Error ? c.message.trim() || (c as any).code || c.name : String(c)).replace(/\s*\n\s*/g, ' ');
    if (text && !parts.includes(text)) parts.push(text);
  }
  return parts.join('; caused by: ');
}

function fail(e: unknown): never {
  process.stderr.write(`error: ${describeError(e)}\n`);
  process.exit(1);
}

const program = new Command()
  .name('devices-api')
  .description("Users' vehicles and aftermarket devices with on-chain identities.")
  .showHelpAfterError();

program
  .command('serve')
  .description('Run the HTTP API (embedded mode by default: PGlite, local blobs, dev token issuer)')
  .action(async () => {
    disablePretenuring();
    const config = configOrExit();
    const logger = await createLogger(config);
    let service;
    try {
      // Bound before loading the runtime (seconds on a busy machine): a taken port fails at once.
      const startup = await bindStartupListener(config.port, config.host);
      service = await (await runtime()).startService(config, logger, { startup });
    } catch (e) {
      fail(e);
    }
    const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${service.app.server.address() && typeof service.app.server.address() === 'object' ? (service.app.server.address() as any).port : config.port}`;
    const lines = [
      `devices-api listening on ${url} (${config.mode} mode)`,
      config.databaseUrl ? '  database: PostgreSQL (DATABASE_URL)' : `  data:     ${config.dataDir} (PGlite in pg/, blobs in blobs/)`,
      `  docs:     ${url}/v1/swagger`,
      service.chain.embedded
        ? `  chain:    embedded anvil at ${service.chain.context.rpcUrl}, registry ${service.chain.context.deployment.registry} (state in ${config.dataDir}/chain-state.json)`
        : `  chain:    ${service.chain.context.chainId} via CHAIN_RPC_URL, registry ${service.chain.context.deployment.registry}`,
    ];
    if (config.mode === 'embedded') {
      // The token command must read the same DATA_DIR (the issuer key lives there).
      const dataDirPrefix = process.env.DATA_DIR ? `DATA_DIR=${process.env.DATA_DIR} ` : '';
      lines.push(
        `  token:    TOKEN=$(${dataDirPrefix}npm run -s cli -- token --sub alice --address 0x…)  then  curl -H "Authorization: Bearer $TOKEN" ${url}/v1/user/devices/me`,
      );
    }
    process.stderr.write(lines.join('\n') + '\n');
    const { default: closeWithGrace } = await import('close-with-grace');
    closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
      if (err) logger.error({ err }, 'shutting down after an error');
      else logger.info({ signal }, 'shutting down');
      await service.close();
    });
  });

program
  .command('migrate')
  .description('Apply database migrations (production; embedded mode migrates on start)')
  .action(async () => {
    const config = configOrExit();
    try {
      const { database, lock } = await (await runtime()).openConfiguredDatabase(config);
      try {
        await database.migrate();
        process.stderr.write(`migrations applied (${database.kind})\n`);
      } finally {
        await database.close();
        lock?.release();
      }
    } catch (e) {
      fail(e);
    }
  });

program
  .command('token')
  .description('Print a dev JWT for a user (embedded mode only; uses the same DATA_DIR as the server)')
  .requiredOption('--sub <id>', 'user id (the token subject)')
  .option('--address <0x…>', "the user's Ethereum address (ethereum_address claim); minting, claiming and pairing need it, and the user's signatures must recover to it")
  .addOption(new Option('--ttl <duration>', 'lifetime, e.g. 30m, 1h, 7d').argParser(parseTtl).default(3600, '1h'))
  .action(async (opts: { sub: string; address?: string; ttl: number }) => {
    // Checked before the rest of the configuration, so the refusal is the message a user sees.
    if (isProductionEnv(process.env)) fail('dev tokens exist only in embedded mode; production trusts JWT_JWKS_URL.');
    const config = configOrExit();
    // The server refuses dev tokens that live longer; better to say so here than hand one out.
    if (opts.ttl > config.jwt.maxLifetimeSeconds) fail(`--ttl is longer than JWT_MAX_LIFETIME (${config.jwt.maxLifetimeSeconds} s); the server would refuse the token.`);
    let address: string | undefined;
    if (opts.address !== undefined) {
      address = parseAddress(opts.address) ?? fail(`--address "${opts.address}" is not an Ethereum address`);
    }
    const { loadDevIssuer } = await import('./auth/dev-issuer.ts');
    const issuer = await loadDevIssuer(config.dataDir);
    process.stdout.write((await issuer.issue({ sub: opts.sub, address, ttlSeconds: opts.ttl })) + '\n');
  });

program
  .command('dtc')
  .description('Diagnostic trouble code titles')
  .command('import <file>')
  .description('Import DTC titles from a TSV (code<TAB>make<TAB>description, empty make = every make); they override the bundled titles')
  .option('--replace', 'delete previously imported titles first, so the file becomes the whole set')
  .action(async (file: string, opts: { replace?: boolean }) => {
    const config = configOrExit();
    const { runDtcImport } = await import('./cli/dtc-import.ts');
    const code = await runDtcImport(file, opts, {
      stderr: process.stderr,
      open: async () => (await runtime()).openMigratedDatabase(config),
    });
    process.exitCode = code;
  });

program
  .command('documents')
  .description('Documents (glovebox) maintenance')
  .command('reconcile')
  .description('Finish interrupted deletions and remove blobs no document points to (the server also does this periodically)')
  .option('--grace <duration>', 'leave blobs younger than this alone (uploads in flight), e.g. 30m, 1h', parseTtl)
  .action(async (opts: { grace?: number }) => {
    const config = configOrExit();
    const { runDocumentsReconcile } = await import('./cli/documents-reconcile.ts');
    const code = await runDocumentsReconcile(
      { graceMs: opts.grace === undefined ? undefined : opts.grace * 1000 },
      {
        stderr: process.stderr,
        open: async () => {
          const { openMigratedDatabase, blobStoreFrom, createServices } = await runtime();
          const { database, close: closeDatabase } = await openMigratedDatabase(config);
          const store = blobStoreFrom(config);
          const close = async () => {
            await store.close();
            await closeDatabase();
          };
          const where = store.driver === 's3' ? `S3 bucket ${config.s3.bucket}` : `${config.dataDir}/blobs`;
          return { deps: createServices(config, { database, blobStore: store }).documentReconcile, describe: `${database.kind} database, blobs in ${where}`, close };
        },
      },
    );
    process.exitCode = code;
  });

registerChainCommands(program);

program
  .command('worker')
  .description('Run only the chain workers (relayer, indexer), no HTTP: for deployments that run them apart from the API')
  .action(async () => {
    const config = configOrExit();
    const logger = await createLogger(config);
    let service;
    try {
      service = await (await runtime()).startWorkerService(config, logger);
    } catch (e) {
      fail(e);
    }
    process.stderr.write(`devices-api worker running (${config.mode} mode, chain ${service.chain.context.chainId}, registry ${service.chain.context.deployment.registry})\n`);
    const { default: closeWithGrace } = await import('close-with-grace');
    closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
      if (err) logger.error({ err }, 'worker shutting down after an error');
      else logger.info({ signal }, 'worker shutting down');
      await service.close();
    });
  });

await program.parseAsync(process.argv);
