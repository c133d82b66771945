// The logger every component takes: pino's, or Fastify's (app.log), which is a pino logger too.
// Components take this type rather than `any`, so a misspelt level is a compile error.
import { pino, type BaseLogger } from 'pino';

/** pino's log methods: what both a pino logger and app.log offer. */
export type Logger = Pick<BaseLogger, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'>;

/** For components whose caller gave no logger (tests, one-shot commands). */
export function silentLogger(): Logger {
  return pino({ enabled: false });
}
