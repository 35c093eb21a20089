/**
 * Starts the control plane: reads config, listens, and closes gracefully on SIGINT/SIGTERM
 * (in-flight requests finish, the ARI and database connections close).
 */
import { ConfigError, loadConfig, type Config } from './config.ts';
import { buildApp } from './app.ts';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`calldock: invalid configuration: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }

  const app = await buildApp(config);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  // Live calls run in Asterisk whatever happens here; a stray rejection is logged, not a reason
  // to drop every caller's state. (Each call's own steps already catch their errors.)
  process.on('unhandledRejection', (reason) => app.log.error({ err: reason }, 'unhandled rejection'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? `port ${config.port} is already in use` : String(err);
    process.stderr.write(`calldock: cannot listen on ${config.host}:${config.port}: ${reason}\n`);
    process.exit(1);
  }
}

void main();
