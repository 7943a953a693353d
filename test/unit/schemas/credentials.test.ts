import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { ProviderType } from '../../../schemas/common';
import {
  AUTH_METHODS,
  AuthMethodSchema,
  AwsIamRoleCredentialsSchema,
  accountNumberOf,
  authMethodsFor,
  CREDENTIAL_SCHEMAS,
  CREDENTIAL_TYPES,
  CredentialSubmissionSchema,
  type CredentialType,
  CredentialTypeSchema,
  credentialSchemaFor,
  credentialTypeFor,
  pemPrivateKeyParses,
  publicCredentialSummary,
  SECRET_FIELDS,
  StoredSecretSchema,
} from '../../../schemas/credentials';
import {
  FAKE_AWS_ACCOUNT,
  FAKE_GCP_PROJECT,
  fakeAlicloudAccessKeyCredentials,
  fakeAwsAccessKeyCredentials,
  fakeAwsIamRoleCredentials,
  fakeAwsSessionToken,
  fakeAwsTemporaryKeyId,
  fakeAzureServicePrincipalCredentials,
  fakeCredentials,
  fakeGcpServiceAccountCredentials,
  fakeIbmApiKeyCredentials,
  fakeOciOcid,
  fakeOciUserPrincipalCredentials,
  fakeServiceAccountKey,
  testEcPrivateKey,
  testEncryptedRsaPrivateKey,
  testRsaKeyPair,
} from '../../fixtures/credentials';

type Credentials = Record<string, unknown>;

const PROVIDER_METHODS: [ProviderType, string, CredentialType][] = [
  ['aws', 'iam_role', 'aws_iam_role'],
  ['aws', 'access_key', 'aws_access_key'],
  ['azure', 'service_principal', 'azure_service_principal'],
  ['gcp', 'service_account', 'gcp_service_account'],
  ['alicloud', 'access_key', 'alicloud_access_key'],
  ['oci', 'user_principal', 'oci_user_principal'],
  ['ibm', 'api_key', 'ibm_api_key'],
];

function parseCredentials(type: CredentialType, credentials: unknown) {
  return (CREDENTIAL_SCHEMAS[type] as z.ZodMiniType).safeParse(credentials);
}

/** The issues of a parse that must fail. */
function issuesOf(type: CredentialType, credentials: unknown): z.core.$ZodIssue[] {
  const result = parseCredentials(type, credentials);
  expect(result.success, 'the credentials were accepted').toBe(false);
  return result.error?.issues ?? [];
}

/**
 * Every secret string submitted in `credentials`, plus 12-character pieces of each of its lines
 * (PEM armour aside), so that an echo of any 23 consecutive characters shows too.
 */
function secretValuesOf(type: CredentialType, credentials: Credentials): string[] {
  const values: string[] = [];
  const add = (value: unknown, inPieces = true) => {
    if (typeof value !== 'string') return;
    values.push(value);
    if (!inPieces) return;
    for (const line of value.split(/\r?\n/)) {
      if (line.startsWith('-----')) continue;
      for (let start = 0; start + 12 <= line.length; start += 12) values.push(line.slice(start, start + 12));
    }
  };
  for (const field of SECRET_FIELDS[type].secret) {
    const value = credentials[field];
    if (type !== 'gcp_service_account') {
      add(value);
      continue;
    }
    // The key document's structure is public (Google's format); its private key is the secret.
    try {
      const document: unknown = typeof value === 'string' ? JSON.parse(value) : value;
      add(value, false);
      if (typeof document === 'object' && document !== null && 'private_key' in document)
        add(document.private_key);
    } catch {
      add(value);
    }
  }
  return values.filter((value) => value.length >= 8);
}

const gcpWithout = (field: string): Credentials => {
  const key = fakeServiceAccountKey();
  delete key[field];
  return { service_account_json: JSON.stringify(key) };
};

const BROKEN_PEM =
  '-----BEGIN PRIVATE KEY-----\nLEAKED+not+really+a+key+but+secret+material+0123456789\n-----END PRIVATE KEY-----\n';

/** [what is wrong, credential type, credentials, path of the issue, what its message says] */
const INVALID_CASES: [string, CredentialType, () => Credentials, string, RegExp][] = [
  // AWS IAM role
  [
    'a role ARN in an unknown partition',
    'aws_iam_role',
    () => fakeAwsIamRoleCredentials({ role_arn: `arn:aws-xx:iam::${FAKE_AWS_ACCOUNT}:role/Scan` }),
    'role_arn',
    /partition to be aws, aws-cn or aws-us-gov/,
  ],
  [
    'a role ARN of another account',
    'aws_iam_role',
    () => fakeAwsIamRoleCredentials({ role_arn: 'arn:aws:iam::444455556666:role/Scan' }),
    'role_arn',
    /account in role_arn to equal account_number/,
  ],
  [
    'a role name instead of an ARN',
    'aws_iam_role',
    () => fakeAwsIamRoleCredentials({ role_arn: 'Scan' }),
    'role_arn',
    /IAM role ARN/,
  ],
  [
    'a user ARN',
    'aws_iam_role',
    () => fakeAwsIamRoleCredentials({ role_arn: `arn:aws:iam::${FAKE_AWS_ACCOUNT}:user/Scan` }),
    'role_arn',
    /IAM role ARN/,
  ],
  [
    'a role name of 65 characters',
    'aws_iam_role',
    () => fakeAwsIamRoleCredentials({ role_arn: `arn:aws:iam::${FAKE_AWS_ACCOUNT}:role/${'a'.repeat(65)}` }),
    'role_arn',
    /role name of 1-64 characters/,
  ],
  [
    'a role name with a wildcard',
    'aws_iam_role',
    () => fakeAwsIamRoleCredentials({ role_arn: `arn:aws:iam::${FAKE_AWS_ACCOUNT}:role/Scan*` }),
    'role_arn',
    /role name/,
  ],
  [
    'a role path with an empty segment',
    'aws_iam_role',
    () => fakeAwsIamRoleCredentials({ role_arn: `arn:aws:iam::${FAKE_AWS_ACCOUNT}:role/team//Scan` }),
    'role_arn',
    /role path/,
  ],
  [
    'an ARN account of 11 digits',
    'aws_iam_role',
    () => fakeAwsIamRoleCredentials({ role_arn: 'arn:aws:iam::11112222333:role/Scan' }),
    'role_arn',
    /12-digit account id in the role ARN/,
  ],
  [
    'an account number of 11 digits',
    'aws_iam_role',
    () => fakeAwsIamRoleCredentials({ account_number: '11112222333' }),
    'account_number',
    /12-digit AWS account id/,
  ],
  [
    'an account number given as a number',
    'aws_iam_role',
    () => ({ ...fakeAwsIamRoleCredentials(), account_number: 111122223333 }),
    'account_number',
    /12-digit AWS account id/,
  ],
  [
    'an external id of one character',
    'aws_iam_role',
    () => fakeAwsIamRoleCredentials({ external_id: 'x' }),
    'external_id',
    /2-1224/,
  ],
  [
    'an external id with a space',
    'aws_iam_role',
    () => fakeAwsIamRoleCredentials({ external_id: 'threat engine' }),
    'external_id',
    /external id of 2-1224 characters/,
  ],
  // AWS access key
  [
    'an access key id with an unknown prefix',
    'aws_access_key',
    () => fakeAwsAccessKeyCredentials({ access_key_id: `AKIB${'FAKE'.padEnd(16, '7')}` }),
    'access_key_id',
    /AKIA or ASIA followed by 16/,
  ],
  [
    'a secret access key of 39 characters',
    'aws_access_key',
    () => fakeAwsAccessKeyCredentials({ secret_access_key: 'LeakedSecretMarker'.padEnd(39, 'z') }),
    'secret_access_key',
    /40 characters/,
  ],
  [
    'a session token with a long-term (AKIA) key id',
    'aws_access_key',
    () => fakeAwsAccessKeyCredentials({ session_token: fakeAwsSessionToken() }),
    'access_key_id',
    /temporary \(ASIA…\) access key id with a session_token/,
  ],
  [
    'a temporary (ASIA) key id without its session token',
    'aws_access_key',
    () => fakeAwsAccessKeyCredentials({ access_key_id: fakeAwsTemporaryKeyId() }),
    'session_token',
    /is required with a temporary/,
  ],
  [
    'a session token that is too short',
    'aws_access_key',
    () =>
      fakeAwsAccessKeyCredentials({
        access_key_id: fakeAwsTemporaryKeyId(),
        session_token: 'LeakedShortTokenMarker',
      }),
    'session_token',
    /session token of 100-8192/,
  ],
  // Azure
  [
    'a client id that is not a GUID',
    'azure_service_principal',
    () => fakeAzureServicePrincipalCredentials({ client_id: 'not-a-guid' }),
    'client_id',
    /client\) id as a GUID/,
  ],
  [
    'a tenant id that is a domain',
    'azure_service_principal',
    () => fakeAzureServicePrincipalCredentials({ tenant_id: 'contoso.onmicrosoft.com' }),
    'tenant_id',
    /tenant\) id as a GUID/,
  ],
  [
    'a subscription id with a missing digit',
    'azure_service_principal',
    () => fakeAzureServicePrincipalCredentials({ subscription_id: '00000000-0000-4000-8000-00000000005' }),
    'subscription_id',
    /subscription id as a GUID/,
  ],
  [
    'an empty client secret',
    'azure_service_principal',
    () => fakeAzureServicePrincipalCredentials({ client_secret: '' }),
    'client_secret',
    /must not be empty/,
  ],
  [
    'a client secret of 1025 characters',
    'azure_service_principal',
    () => fakeAzureServicePrincipalCredentials({ client_secret: 'LeakedSecretMarker'.padEnd(1025, 'q') }),
    'client_secret',
    /at most 1024/,
  ],
  // GCP
  [
    'service-account text that is not JSON',
    'gcp_service_account',
    () => ({ service_account_json: '{"key": LeakedKeyMaterialMarkerNotJson' }),
    'service_account_json',
    /not valid JSON/,
  ],
  [
    'a service-account key that is a number',
    'gcp_service_account',
    () => ({ service_account_json: 42 }),
    'service_account_json',
    /JSON text or an object/,
  ],
  [
    'service-account JSON that is an array',
    'gcp_service_account',
    () => ({ service_account_json: '[1, 2]' }),
    'service_account_json',
    /service-account key as a JSON object/,
  ],
  [
    'a service-account key without project_id',
    'gcp_service_account',
    () => gcpWithout('project_id'),
    'service_account_json.project_id',
    /is required/,
  ],
  ...(['Bad_Project', '1project', 'abcde', 'project-', `p${'a'.repeat(30)}`].map((projectId) => [
    `the project id ${projectId}`,
    'gcp_service_account',
    () => fakeGcpServiceAccountCredentials({ project_id: projectId }),
    'service_account_json.project_id',
    /GCP project id: 6-30 characters/,
  ]) satisfies [string, CredentialType, () => Credentials, string, RegExp][]),
  [
    'a key of another type (authorized_user)',
    'gcp_service_account',
    () => fakeGcpServiceAccountCredentials({ type: 'authorized_user' }),
    'service_account_json.type',
    /expected "service_account"/,
  ],
  [
    'a service-account key whose private key does not parse',
    'gcp_service_account',
    () => fakeGcpServiceAccountCredentials({ private_key: BROKEN_PEM }),
    'service_account_json.private_key',
    /does not parse/,
  ],
  [
    'a service-account key holding a public key',
    'gcp_service_account',
    () => fakeGcpServiceAccountCredentials({ private_key: testRsaKeyPair().publicKey }),
    'service_account_json.private_key',
    /PEM private key/,
  ],
  [
    'a service-account key holding an EC key',
    'gcp_service_account',
    () => fakeGcpServiceAccountCredentials({ private_key: testEcPrivateKey() }),
    'service_account_json.private_key',
    /RSA private key/,
  ],
  [
    'a service-account key with a malformed client email',
    'gcp_service_account',
    () => fakeGcpServiceAccountCredentials({ client_email: 'scanner-at-fake-project' }),
    'service_account_json.client_email',
    /email address/,
  ],
  // Alibaba Cloud
  [
    'an AWS key id given as an Alibaba Cloud key id',
    'alicloud_access_key',
    () => fakeAlicloudAccessKeyCredentials({ access_key_id: fakeAwsTemporaryKeyId() }),
    'access_key_id',
    /LTAI followed by 12-30/,
  ],
  [
    'an access key secret of 29 characters',
    'alicloud_access_key',
    () => fakeAlicloudAccessKeyCredentials({ access_key_secret: 'LeakedSecretMarker'.padEnd(29, '0') }),
    'access_key_secret',
    /30 letters or digits/,
  ],
  // OCI
  [
    'a tenancy OCID given as the user OCID',
    'oci_user_principal',
    () => fakeOciUserPrincipalCredentials({ user_ocid: fakeOciOcid('tenancy') }),
    'user_ocid',
    /user OCID/,
  ],
  [
    'an upper-case tenancy OCID',
    'oci_user_principal',
    () => fakeOciUserPrincipalCredentials({ tenancy_ocid: fakeOciOcid('tenancy').toUpperCase() }),
    'tenancy_ocid',
    /tenancy OCID/,
  ],
  [
    'an OCID of another version',
    'oci_user_principal',
    () => fakeOciUserPrincipalCredentials({ user_ocid: fakeOciOcid('user').replace('ocid1', 'ocid2') }),
    'user_ocid',
    /user OCID/,
  ],
  [
    'a fingerprint of 15 pairs',
    'oci_user_principal',
    () => fakeOciUserPrincipalCredentials({ fingerprint: Array.from({ length: 15 }, () => 'ab').join(':') }),
    'fingerprint',
    /16 colon-separated hexadecimal pairs/,
  ],
  [
    'a private key that does not parse',
    'oci_user_principal',
    () => fakeOciUserPrincipalCredentials({ private_key: BROKEN_PEM }),
    'private_key',
    /does not parse/,
  ],
  [
    'an encrypted private key without its passphrase',
    'oci_user_principal',
    () => fakeOciUserPrincipalCredentials({ private_key: testEncryptedRsaPrivateKey('fake-passphrase') }),
    'passphrase',
    /is required: the private key is encrypted/,
  ],
  [
    'an encrypted private key with the wrong passphrase',
    'oci_user_principal',
    () =>
      fakeOciUserPrincipalCredentials({
        private_key: testEncryptedRsaPrivateKey('fake-passphrase'),
        passphrase: 'LeakedWrongPassphrase',
      }),
    'private_key',
    /passphrase opens/,
  ],
  [
    'a region name',
    'oci_user_principal',
    () => fakeOciUserPrincipalCredentials({ region: 'Mumbai' }),
    'region',
    /OCI region id/,
  ],
  // IBM
  [
    'an API key that is too short',
    'ibm_api_key',
    () => fakeIbmApiKeyCredentials({ api_key: 'LeakedShortApiKey' }),
    'api_key',
    /API key of 40-64/,
  ],
  [
    'an account id that is not hexadecimal',
    'ibm_api_key',
    () => fakeIbmApiKeyCredentials({ account_id: 'z'.repeat(32) }),
    'account_id',
    /32 hexadecimal digits/,
  ],
];

describe('Schema: credentials by type', () => {
  it.each(CREDENTIAL_TYPES)('accepts valid %s credentials', (type) => {
    // Act
    const result = parseCredentials(type, fakeCredentials(type));

    // Assess
    expect(result.error?.issues).toBeUndefined();
    expect(result.success).toBe(true);
  });

  it.each(CREDENTIAL_TYPES)('rejects an unknown field in %s credentials and names it', (type) => {
    // Prepare
    const credentials = { ...fakeCredentials(type), region_override: 'LeakedUnknownFieldValue' };

    // Act
    const issues = issuesOf(type, credentials);

    // Assess
    expect(issues).toEqual([
      expect.objectContaining({
        code: 'unrecognized_keys',
        message: expect.stringMatching(/^unknown field region_override: expected only /),
      }),
    ]);
    expect(JSON.stringify(issues)).not.toContain('LeakedUnknownFieldValue');
  });

  const requiredPairs = CREDENTIAL_TYPES.flatMap((type) => {
    const provider = PROVIDER_METHODS.find(([, , candidate]) => candidate === type);
    const method = AUTH_METHODS[provider?.[0] ?? 'aws'].find((entry) => entry.credential_type === type);
    return (method?.required_fields ?? []).map((field) => [type, field] as const);
  });

  it.each(requiredPairs)('reports %s field %s as required when it is missing', (type, field) => {
    // Prepare
    const credentials: Credentials = { ...fakeCredentials(type) };
    delete credentials[field];

    // Act
    const issues = issuesOf(type, credentials);

    // Assess
    expect(issues).toContainEqual(expect.objectContaining({ path: [field], message: 'is required' }));
  });

  it('rejects credentials that are not an object', () => {
    // Act
    const issues = issuesOf('azure_service_principal', 'client_id=1');

    // Assess
    expect(issues).toEqual([
      expect.objectContaining({ path: [], message: 'expected an object of credential fields' }),
    ]);
  });

  it.each(INVALID_CASES)('rejects %s', (_name, type, build, field, message) => {
    // Act
    const issues = issuesOf(type, build());

    // Assess
    expect(issues).toContainEqual(
      expect.objectContaining({ path: field.split('.'), message: expect.stringMatching(message) }),
    );
  });

  /** The cases that submit a secret long enough to recognise in a message. */
  const CASES_WITH_SECRETS = INVALID_CASES.filter(
    ([, type, build]) => secretValuesOf(type, build()).length > 0,
  );

  it('has secrets to look for in most invalid cases', () => {
    expect(CASES_WITH_SECRETS.length).toBeGreaterThanOrEqual(INVALID_CASES.length - 4);
  });

  it.each(CASES_WITH_SECRETS)('does not echo a submitted secret when it rejects %s', (_name, type, build) => {
    // Prepare
    const credentials = build();
    const secrets = secretValuesOf(type, credentials);
    const result = parseCredentials(type, credentials);

    // Act
    const rendered = [
      JSON.stringify(result.error?.issues),
      result.error?.message,
      result.error && z.prettifyError(result.error),
    ].join('\n');

    // Assess
    expect(result.success).toBe(false);
    for (const value of secrets) expect(rendered).not.toContain(value);
  });
});

describe('Schema: AwsIamRoleCredentials', () => {
  it.each(['aws', 'aws-cn', 'aws-us-gov'])('accepts a role ARN in the %s partition', (partition) => {
    // Act
    const result = AwsIamRoleCredentialsSchema.safeParse(
      fakeAwsIamRoleCredentials({ role_arn: `arn:${partition}:iam::${FAKE_AWS_ACCOUNT}:role/Scan` }),
    );

    // Assess
    expect(result.success).toBe(true);
  });

  it('accepts a role with a path and a name of 64 characters', () => {
    // Prepare
    const roleArn = `arn:aws:iam::${FAKE_AWS_ACCOUNT}:role/service-role/team.a/${'R'.repeat(60)}+=,.`;

    // Act
    const result = AwsIamRoleCredentialsSchema.safeParse(fakeAwsIamRoleCredentials({ role_arn: roleArn }));

    // Assess
    expect(result.success).toBe(true);
  });

  it('trims pasted identifiers', () => {
    // Act
    const parsed = AwsIamRoleCredentialsSchema.parse(
      fakeAwsIamRoleCredentials({
        role_arn: ` arn:aws:iam::${FAKE_AWS_ACCOUNT}:role/Scan\n`,
        account_number: ` ${FAKE_AWS_ACCOUNT} `,
      }),
    );

    // Assess
    expect(parsed).toEqual(
      fakeAwsIamRoleCredentials({
        role_arn: `arn:aws:iam::${FAKE_AWS_ACCOUNT}:role/Scan`,
        account_number: FAKE_AWS_ACCOUNT,
      }),
    );
  });
});

describe('Schema: other credential types (accepted variants)', () => {
  it('accepts temporary AWS credentials (ASIA key id with a session token)', () => {
    // Act
    const result = parseCredentials(
      'aws_access_key',
      fakeAwsAccessKeyCredentials({
        access_key_id: fakeAwsTemporaryKeyId(),
        session_token: fakeAwsSessionToken(),
      }),
    );

    // Assess
    expect(result.success).toBe(true);
  });

  it('accepts upper-case Azure GUIDs', () => {
    // Act
    const result = parseCredentials(
      'azure_service_principal',
      fakeAzureServicePrincipalCredentials({ tenant_id: '00000000-0000-4000-8000-0000000007E1' }),
    );

    // Assess
    expect(result.success).toBe(true);
  });

  it('accepts the GCP key as JSON text or as an object and outputs the object either way', () => {
    // Prepare
    const asText = fakeGcpServiceAccountCredentials();
    const asObject = { service_account_json: fakeServiceAccountKey() };

    // Act
    const fromText = parseCredentials('gcp_service_account', asText);
    const fromObject = parseCredentials('gcp_service_account', asObject);

    // Assess
    expect(fromText.data).toEqual(asObject);
    expect(fromObject.data).toEqual(asObject);
  });

  it('accepts an encrypted OCI key with the passphrase that opens it', () => {
    // Act
    const result = parseCredentials(
      'oci_user_principal',
      fakeOciUserPrincipalCredentials({
        private_key: testEncryptedRsaPrivateKey('fake-passphrase'),
        passphrase: 'fake-passphrase',
      }),
    );

    // Assess
    expect(result.success).toBe(true);
  });

  it('accepts an IBM API key without an account id', () => {
    // Prepare
    const { account_id: _accountId, ...credentials } = fakeIbmApiKeyCredentials();

    // Act
    const result = parseCredentials('ibm_api_key', credentials);

    // Assess
    expect(result.success).toBe(true);
  });
});

describe('Function: pemPrivateKeyParses', () => {
  it('accepts a generated RSA private key', () => {
    expect(pemPrivateKeyParses(testRsaKeyPair().privateKey)).toBe(true);
  });

  it('accepts the same key in PKCS#1 form', () => {
    // Prepare
    const pkcs1 = createPrivateKey(testRsaKeyPair().privateKey)
      .export({ type: 'pkcs1', format: 'pem' })
      .toString();

    // Act & Assess
    expect(pemPrivateKeyParses(pkcs1)).toBe(true);
  });

  it.each([
    ['a public key', () => testRsaKeyPair().publicKey],
    ['text with PEM armour around garbage', () => BROKEN_PEM],
    ['plain text', () => 'not a key'],
  ])('refuses %s', (_name, pem) => {
    expect(pemPrivateKeyParses(pem())).toBe(false);
  });

  it('opens an encrypted key only with its passphrase', () => {
    // Prepare
    const encrypted = testEncryptedRsaPrivateKey('fake-passphrase');

    // Act & Assess
    expect(pemPrivateKeyParses(encrypted)).toBe(false);
    expect(pemPrivateKeyParses(encrypted, 'another-passphrase')).toBe(false);
    expect(pemPrivateKeyParses(encrypted, 'fake-passphrase')).toBe(true);
  });
});

describe('Schema: CredentialSubmissionSchema', () => {
  it.each(CREDENTIAL_TYPES)('accepts a %s submission', (type) => {
    // Act
    const result = CredentialSubmissionSchema.safeParse({
      credential_type: type,
      credentials: fakeCredentials(type),
    });

    // Assess
    expect(result.success).toBe(true);
    expect(result.data?.credential_type).toBe(type);
  });

  it('rejects an unknown credential type at credential_type', () => {
    // Act
    const result = CredentialSubmissionSchema.safeParse({
      credential_type: 'aws_root_password',
      credentials: fakeAwsIamRoleCredentials(),
    });

    // Assess
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: ['credential_type'],
        message: expect.stringContaining('aws_iam_role, aws_access_key'),
      }),
    ]);
  });

  it('rejects credentials of another type, naming the foreign fields', () => {
    // Act
    const result = CredentialSubmissionSchema.safeParse({
      credential_type: 'aws_iam_role',
      credentials: fakeAzureServicePrincipalCredentials(),
    });

    // Assess
    expect(result.error?.issues).toContainEqual(
      expect.objectContaining({
        path: ['credentials'],
        code: 'unrecognized_keys',
        message: expect.stringContaining('client_id, client_secret, tenant_id, subscription_id'),
      }),
    );
    expect(JSON.stringify(result.error?.issues)).not.toContain(
      fakeAzureServicePrincipalCredentials().client_secret,
    );
  });

  it('rejects an extra top-level field', () => {
    // Act
    const result = CredentialSubmissionSchema.safeParse({
      credential_type: 'ibm_api_key',
      credentials: fakeIbmApiKeyCredentials(),
      api_key: 'LeakedTopLevelValue',
    });

    // Assess
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: [], message: expect.stringMatching(/^unknown field api_key/) }),
    ]);
  });

  it('reports a nested field with its full path', () => {
    // Act
    const result = CredentialSubmissionSchema.safeParse({
      credential_type: 'gcp_service_account',
      credentials: gcpWithout('project_id'),
    });

    // Assess
    expect(result.error?.issues).toContainEqual(
      expect.objectContaining({
        path: ['credentials', 'service_account_json', 'project_id'],
        message: 'is required',
      }),
    );
  });
});

describe('Table: AUTH_METHODS', () => {
  it.each(PROVIDER_METHODS)('offers %s %s as %s', (provider, authMethod, type) => {
    // Act
    const schema = credentialSchemaFor(provider, authMethod);

    // Assess
    expect(credentialTypeFor(provider, authMethod)).toBe(type);
    expect(schema).toBe(CREDENTIAL_SCHEMAS[type]);
    expect(AuthMethodSchema.safeParse(authMethod).success).toBe(true);
  });

  it('offers every credential type exactly once', () => {
    // Act
    const types = Object.values(AUTH_METHODS).flatMap((methods) =>
      methods.map((method) => method.credential_type),
    );

    // Assess
    expect(types.toSorted()).toEqual([...CredentialTypeSchema.options].toSorted());
  });

  it('offers the IAM role first and recommended for AWS', () => {
    // Act
    const methods = authMethodsFor('aws');

    // Assess
    expect(methods.map((method) => [method.auth_method, method.recommended])).toEqual([
      ['iam_role', true],
      ['access_key', false],
    ]);
  });

  it.each([
    ['azure', 'iam_role'],
    ['aws', 'service_account'],
    ['gcp', 'bogus'],
  ] as const)('has no %s %s', (provider, authMethod) => {
    expect(credentialSchemaFor(provider, authMethod)).toBeUndefined();
    expect(credentialTypeFor(provider, authMethod)).toBeUndefined();
  });

  it.each([
    ['aws_iam_role', ['role_arn', 'external_id', 'account_number'], []],
    ['aws_access_key', ['access_key_id', 'secret_access_key'], ['session_token', 'account_number']],
    ['azure_service_principal', ['client_id', 'client_secret', 'tenant_id', 'subscription_id'], []],
    ['gcp_service_account', ['service_account_json'], []],
    ['alicloud_access_key', ['access_key_id', 'access_key_secret'], []],
    [
      'oci_user_principal',
      ['user_ocid', 'tenancy_ocid', 'fingerprint', 'private_key', 'region'],
      ['passphrase'],
    ],
    ['ibm_api_key', ['api_key'], ['account_id']],
  ] as const)('derives the fields of %s from its schema', (type, required, optional) => {
    // Act
    const method = Object.values(AUTH_METHODS)
      .flat()
      .find((entry) => entry.credential_type === type);

    // Assess
    expect(method?.required_fields).toEqual(required);
    expect(method?.optional_fields).toEqual(optional);
    expect([...(method?.required_fields ?? []), ...(method?.optional_fields ?? [])].toSorted()).toEqual(
      Object.keys(CREDENTIAL_SCHEMAS[type].shape).toSorted(),
    );
  });
});

describe('Table: SECRET_FIELDS', () => {
  it.each(CREDENTIAL_TYPES)('classifies every top-level field of %s once', (type) => {
    // Prepare
    const { secret, identifiers } = SECRET_FIELDS[type];
    const topLevel = type === 'gcp_service_account' ? [...secret] : [...secret, ...identifiers];

    // Assess
    expect(topLevel.toSorted()).toEqual(Object.keys(CREDENTIAL_SCHEMAS[type].shape).toSorted());
    expect(secret.filter((field: string) => (identifiers as readonly string[]).includes(field))).toEqual([]);
  });
});

describe('Function: publicCredentialSummary', () => {
  it.each([
    ['aws_iam_role', { role_arn: fakeAwsIamRoleCredentials().role_arn, account_number: FAKE_AWS_ACCOUNT }],
    ['aws_access_key', {}],
    [
      'azure_service_principal',
      {
        client_id: fakeAzureServicePrincipalCredentials().client_id,
        tenant_id: fakeAzureServicePrincipalCredentials().tenant_id,
        subscription_id: fakeAzureServicePrincipalCredentials().subscription_id,
      },
    ],
    [
      'gcp_service_account',
      { project_id: FAKE_GCP_PROJECT, client_email: `scanner@${FAKE_GCP_PROJECT}.iam.gserviceaccount.com` },
    ],
    ['alicloud_access_key', {}],
    [
      'oci_user_principal',
      {
        user_ocid: fakeOciOcid('user'),
        tenancy_ocid: fakeOciOcid('tenancy'),
        fingerprint: fakeOciUserPrincipalCredentials().fingerprint,
        region: 'ap-mumbai-1',
      },
    ],
    ['ibm_api_key', { account_id: '0123456789abcdef0123456789abcdef' }],
  ] as const)('shows only the identifiers of %s', (type, expected) => {
    // Prepare
    const credentials = fakeCredentials(type) as Credentials;

    // Act
    const summary = publicCredentialSummary(type, credentials);

    // Assess
    expect(summary).toEqual(expected);
    const rendered = JSON.stringify(summary);
    for (const value of secretValuesOf(type, credentials)) expect(rendered).not.toContain(value);
  });

  it('reads the GCP identifiers from a parsed (object) key as well', () => {
    // Prepare
    const parsed = CREDENTIAL_SCHEMAS.gcp_service_account.parse(fakeGcpServiceAccountCredentials());

    // Act
    const summary = publicCredentialSummary('gcp_service_account', parsed);

    // Assess
    expect(summary).toEqual({
      project_id: FAKE_GCP_PROJECT,
      client_email: `scanner@${FAKE_GCP_PROJECT}.iam.gserviceaccount.com`,
    });
  });

  it('leaves out an identifier field that holds something else (a pasted secret)', () => {
    // Prepare
    const credentials = fakeAzureServicePrincipalCredentials({ client_id: 'LeakedSecretPastedIntoClientId' });

    // Act
    const summary = publicCredentialSummary('azure_service_principal', credentials);

    // Assess
    expect(Object.keys(summary)).toEqual(['tenant_id', 'subscription_id']);
    expect(JSON.stringify(summary)).not.toContain('LeakedSecretPastedIntoClientId');
  });

  it.each([null, 'text', ['role_arn']])(
    'returns nothing for credentials that are not an object (%s)',
    (credentials) => {
      expect(publicCredentialSummary('aws_iam_role', credentials)).toEqual({});
    },
  );
});

describe('Function: accountNumberOf', () => {
  it.each([
    ['aws_iam_role', fakeAwsIamRoleCredentials(), FAKE_AWS_ACCOUNT],
    [
      'aws_iam_role',
      { role_arn: 'arn:aws-cn:iam::444455556666:role/Scan', external_id: 'threat-engine-0123456789abcdef' },
      '444455556666',
    ],
    ['aws_access_key', fakeAwsAccessKeyCredentials(), undefined],
    [
      'azure_service_principal',
      fakeAzureServicePrincipalCredentials(),
      fakeAzureServicePrincipalCredentials().subscription_id,
    ],
    ['gcp_service_account', fakeGcpServiceAccountCredentials(), FAKE_GCP_PROJECT],
    ['gcp_service_account', { service_account_json: fakeServiceAccountKey() }, FAKE_GCP_PROJECT],
    ['alicloud_access_key', fakeAlicloudAccessKeyCredentials(), undefined],
    ['oci_user_principal', fakeOciUserPrincipalCredentials(), fakeOciOcid('tenancy')],
    ['ibm_api_key', fakeIbmApiKeyCredentials(), '0123456789abcdef0123456789abcdef'],
    ['ibm_api_key', { api_key: fakeIbmApiKeyCredentials().api_key }, undefined],
  ] as const)('reads the account of %s credentials', (type, credentials, expected) => {
    expect(accountNumberOf(type, credentials)).toBe(expected);
  });
});

describe('Schema: StoredSecretSchema', () => {
  it('reads a legacy secret value: naive timestamp, no expires_at, GCP key as text', () => {
    // Prepare
    const legacy = {
      credential_type: 'gcp_service_account',
      credentials: fakeGcpServiceAccountCredentials(),
      account_id: 'acc-legacy-1',
      created_at: '2024-05-01T10:00:00.123456',
    };

    // Act
    const stored = StoredSecretSchema.parse(legacy);

    // Assess
    expect(stored).toEqual({
      credential_type: 'gcp_service_account',
      credentials: { service_account_json: fakeServiceAccountKey() },
      account_id: 'acc-legacy-1',
      created_at: '2024-05-01T10:00:00.123Z',
      expires_at: null,
    });
  });

  it('checks the stored credentials as strictly as a submission', () => {
    // Act
    const result = StoredSecretSchema.safeParse({
      credential_type: 'aws_iam_role',
      credentials: { ...fakeAwsIamRoleCredentials(), session_name: 'legacy-extra' },
      account_id: 'acc-1',
      created_at: '2026-03-01T10:00:00Z',
      expires_at: '2026-04-01T10:00:00Z',
    });

    // Assess
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: ['credentials'],
        message: expect.stringMatching(/^unknown field session_name/),
      }),
    ]);
  });

  it('rejects a value without created_at', () => {
    // Act
    const result = StoredSecretSchema.safeParse({
      credential_type: 'ibm_api_key',
      credentials: fakeIbmApiKeyCredentials(),
      account_id: 'acc-1',
    });

    // Assess
    expect(result.error?.issues).toContainEqual(expect.objectContaining({ path: ['created_at'] }));
  });
});
