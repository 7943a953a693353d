import { ConfigurationError } from '../functions/core/errors';
import { DataDirLockedError } from './data-dir-lock';
import { PortInUseError } from './http-server';
import { startLocalRuntime } from './runtime';

/** Exit codes of `npm start`: 2 a malformed setting, 3 the data directory is in use, 4 the port is. */
const EXIT_CONFIGURATION = 2;
const EXIT_DATA_DIR_IN_USE = 3;
const EXIT_PORT_IN_USE = 4;

/** `npm start`: runs the embedded runtime until Ctrl-C. */
async function main(): Promise<void> {
  // Everything the runtime writes in the data directory is the owner's only (LevelDB included).
  process.umask(0o077);
  let runtime: Awaited<ReturnType<typeof startLocalRuntime>>;
  try {
    runtime = await startLocalRuntime();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`threat-engine: ${error.message}\n`);
      process.exit(EXIT_CONFIGURATION);
    }
    if (error instanceof DataDirLockedError || error instanceof PortInUseError) {
      process.stderr.write(`threat-engine: ${error.message}\n`);
      process.exit(error instanceof PortInUseError ? EXIT_PORT_IN_USE : EXIT_DATA_DIR_IN_USE);
    }
    throw error;
  }
  const offline = runtime.config.THREAT_ENGINE_VALIDATE_OFFLINE
    ? '  credentials are validated OFFLINE (structural checks only; accounts marked validated_offline)\n'
    : '';
  process.stdout.write(
    `\nThreat engine local runtime is up at ${runtime.url}  (data: ${runtime.dataDirectory})\n` +
      `  console:     ${runtime.consoleSignInUrl}\n` +
      `  health:      ${runtime.url}/api/v1/health\n` +
      `  OpenAPI:     ${runtime.url}/api/v1/openapi.json\n` +
      `  admin token: ${runtime.adminTokenPath}  (platform_admin; use it as Authorization: Bearer <token>)\n` +
      '  tenant tokens: npm run -s token -- --tenant <tenant_id> --role tenant_admin\n' +
      offline +
      '  press Ctrl-C to stop\n\n',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    runtime.logger.info('shutting down', { signal });
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
