import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/core/config';
import { ConfigurationError } from '../../../functions/core/errors';

describe('Function: loadConfig', () => {
  it('applies the legacy defaults when nothing is set', () => {
    // Act
    const config = loadConfig({});

    // Assess
    expect(config).toMatchObject({
      AWS_REGION: 'ap-south-1',
      DYNAMODB_TENANTS_TABLE: 'threat-engine-tenants',
      DYNAMODB_PROVIDERS_TABLE: 'threat-engine-providers',
      DYNAMODB_ACCOUNTS_TABLE: 'threat-engine-accounts',
      DYNAMODB_SCHEDULES_TABLE: 'threat-engine-schedules',
      DYNAMODB_EXECUTIONS_TABLE: 'threat-engine-executions',
      DYNAMODB_SCAN_RESULTS_TABLE: 'threat-engine-scan-results',
      SECRETS_MANAGER_PREFIX: 'threat-engine',
      PLATFORM_AWS_ACCOUNT_ID: '',
      LOG_LEVEL: 'INFO',
      PORT: 3000,
      THREAT_ENGINE_DATA_DIR: '.threat-engine',
    });
    expect(config.SECRETS_MANAGER_KMS_KEY_ID).toBeUndefined();
    expect(config.AWS_ENGINE_URL).toBeUndefined();
  });

  it('reads the legacy variable names', () => {
    // Act
    const config = loadConfig({
      AWS_REGION: 'us-gov-west-1',
      DYNAMODB_ACCOUNTS_TABLE: 'prod-accounts',
      SECRETS_MANAGER_PREFIX: 'te-prod/',
      SECRETS_MANAGER_KMS_KEY_ID: 'alias/threat-engine-secrets',
      PLATFORM_AWS_ACCOUNT_ID: '123456789012',
      GCP_ENGINE_URL: 'http://gcp-engine.internal:8000',
      LOG_LEVEL: 'warning',
      PORT: '8080',
    });

    // Assess
    expect(config.AWS_REGION).toBe('us-gov-west-1');
    expect(config.DYNAMODB_ACCOUNTS_TABLE).toBe('prod-accounts');
    expect(config.SECRETS_MANAGER_PREFIX).toBe('te-prod');
    expect(config.SECRETS_MANAGER_KMS_KEY_ID).toBe('alias/threat-engine-secrets');
    expect(config.GCP_ENGINE_URL).toBe('http://gcp-engine.internal:8000');
    expect(config.LOG_LEVEL).toBe('WARN');
    expect(config.PORT).toBe(8080);
  });

  it('treats empty optional variables as unset', () => {
    const config = loadConfig({ SECRETS_MANAGER_KMS_KEY_ID: '', AWS_ENGINE_URL: '', PORT: '' });

    expect(config.SECRETS_MANAGER_KMS_KEY_ID).toBeUndefined();
    expect(config.AWS_ENGINE_URL).toBeUndefined();
    expect(config.PORT).toBe(3000);
  });

  it.each([
    ['PORT', 'abc', /PORT: expected a port number/],
    ['PORT', '70000', /PORT: expected a port between 0 \(any free port\) and 65535/],
    ['AWS_REGION', 'mars-north-1a', /AWS_REGION: expected an AWS region/],
    ['PLATFORM_AWS_ACCOUNT_ID', '12345', /PLATFORM_AWS_ACCOUNT_ID: expected a 12-digit AWS account id/],
    ['AWS_ENGINE_URL', 'ftp://engine', /AWS_ENGINE_URL: expected an http\(s\) URL/],
    ['LOG_LEVEL', 'LOUD', /LOG_LEVEL: expected one of DEBUG, INFO, WARN, ERROR, CRITICAL/],
    ['DYNAMODB_TENANTS_TABLE', 'a b', /DYNAMODB_TENANTS_TABLE: expected a DynamoDB table name/],
  ])('throws a ConfigurationError naming %s when it is %j', (variable, value, message) => {
    // Act
    const attempt = () => loadConfig({ [variable]: value });

    // Assess
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(message);
  });

  it('reports every malformed variable at once', () => {
    try {
      loadConfig({ PORT: 'x', AWS_REGION: 'nowhere' });
      expect.unreachable('loadConfig should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).issues.map((issue) => issue.field).sort()).toEqual([
        'AWS_REGION',
        'PORT',
      ]);
    }
  });
});
