import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { EnvironmentContextError, environmentFromContext, parseEnvironment } from '../../infra/environment';

describe('Function: parseEnvironment', () => {
  it('applies the defaults: legacy names, 90-day logs, TTL on, no CORS origin', () => {
    // Act
    const environment = parseEnvironment({ envName: 'dev' });

    // Assess
    expect(environment).toMatchObject({
      envName: 'dev',
      adoptLegacyTables: false,
      namePrefix: '',
      secretsPrefix: 'threat-engine',
      logRetentionDays: 90,
      executionsTtlAttributeEnabled: true,
      engineUrls: {},
      corsAllowOrigins: [],
    });
    expect(environment.account).toBeUndefined();
    expect(environment.oidcIssuer).toBeUndefined();
  });

  it('accepts the strings `-c key=value` produces', () => {
    // Act
    const environment = parseEnvironment({
      envName: 'prod',
      adoptLegacyTables: 'true',
      logRetentionDays: '365',
      engineUrls: '{"aws":"https://aws-engine.example.test"}',
      oidcAudience: 'web-client,cli-client',
    });

    // Assess
    expect(environment.adoptLegacyTables).toBe(true);
    expect(environment.logRetentionDays).toBe(365);
    expect(environment.engineUrls).toEqual({ aws: 'https://aws-engine.example.test' });
    expect(environment.oidcAudience).toEqual(['web-client', 'cli-client']);
  });

  it('throws naming each context key that is wrong', () => {
    // Act
    const parse = () =>
      parseEnvironment({
        envName: 'dev',
        logRetentionDays: 42,
        oidcIssuer: 'http://issuer.example.test',
        engineUrls: { vmware: 'https://x.example.test' },
        corsAllowOrigins: ['*'],
      });

    // Assess
    expect(parse).toThrow(EnvironmentContextError);
    try {
      parse();
    } catch (error) {
      const fields = (error as EnvironmentContextError).issues.map((issue) => issue.field);
      expect(fields).toEqual(
        expect.arrayContaining(['logRetentionDays', 'oidcIssuer', 'engineUrls', 'corsAllowOrigins.0']),
      );
      expect((error as Error).message).toMatch(/logRetentionDays: expected one of 1, 3, 5/);
    }
  });
});

describe('Function: environmentFromContext', () => {
  it('selects the named environment and lets single context keys override it', () => {
    // Prepare
    const app = new App({
      context: {
        env: 'staging',
        environments: { staging: { namePrefix: 'staging-', logRetentionDays: 30 } },
        logRetentionDays: '60',
      },
    });

    // Act
    const environment = environmentFromContext(app);

    // Assess
    expect(environment).toMatchObject({ envName: 'staging', namePrefix: 'staging-', logRetentionDays: 60 });
  });
});
