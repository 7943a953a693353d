import { type Config, ConfigSchema } from '../../schemas/config';
import { ConfigurationError } from './errors';

/**
 * Parses the environment once. A malformed value stops start-up with a message naming the
 * variable, what was expected and (for non-secret variables) what was found.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset" for optional variables, as they did for the legacy service.
  const present = Object.fromEntries(
    Object.entries(env).filter(([name, value]) => value !== '' || name === 'PLATFORM_AWS_ACCOUNT_ID'),
  );
  const result = ConfigSchema.safeParse(present);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? '(environment)');
    const found = env[variable];
    const shown = found === undefined ? '' : ` (got ${JSON.stringify(found.slice(0, 80))})`;
    return { field: variable, message: `${issue.message}${shown}` };
  });
  const summary = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
  throw new ConfigurationError(`invalid configuration: ${summary}`, issues);
}
