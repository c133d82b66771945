// The benchmark's yardstick: a bare Fastify route in its own process, started exactly like the
// service (same Node binary and flags, same loader, Fastify's default keep-alive, logger off), so
// the ratio against it shows what the service's plugins, auth and database cost.
// Listens on 127.0.0.1:$PORT (0 = any free port) and prints "baseline listening on <url>" to stderr.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ status: 'ok' }));

const port = Number(process.env.PORT ?? 0);
await app.listen({ port, host: '127.0.0.1' });
const addr = app.server.address();
process.stderr.write(`baseline listening on http://127.0.0.1:${addr && typeof addr === 'object' ? addr.port : port}\n`);

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
