import { createPrivateKey } from 'node:crypto';
import * as z from 'zod/mini';
import { fieldName, IdSchema, type ProviderType, TimestampSchema } from './common';

/**
 * Credential schemas: one strict object per (provider, auth method), keyed by the legacy
 * `credential_type` stored in the secret. Unknown fields are rejected (the legacy service stored
 * whatever it was sent). Every message names what was expected and never echoes the submitted
 * value: zod issues carry no `input` unless a caller asks for it with `reportInput`.
 *
 * `node:crypto` is the one import beyond zod: a PEM private key is only accepted when Node can
 * actually load it, and built-ins are not packages (the arrow rule is about packages and layers).
 */

// ---------------------------------------------------------------------------------------------
// Building blocks

/** `is required` when the field is missing, `expected …` when it has the wrong type. */
const expecting = (expected: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `expected ${expected}`),
});

/** A string field: trimmed (identifiers are pasted), then checked against `pattern`. */
const identifier = (pattern: RegExp, expected: string) =>
  z.string(expecting(expected)).check(z.trim(), z.regex(pattern, `expected ${expected}`));

/** A secret field: never trimmed or otherwise rewritten, so what is stored is what was issued. */
const secret = (pattern: RegExp, expected: string) =>
  z.string(expecting(expected)).check(z.regex(pattern, `expected ${expected}`));

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const guid = (what: string) => identifier(GUID, `${what} as a GUID (8-4-4-4-12 hexadecimal digits)`);

export const AwsAccountNumberSchema = identifier(/^\d{12}$/, 'a 12-digit AWS account id');

// ---------------------------------------------------------------------------------------------
// PEM private keys

/** The key type Node reads from `pem` (e.g. `rsa`), or undefined when it does not load. */
function privateKeyType(pem: string, passphrase?: string): string | undefined {
  try {
    const key = createPrivateKey(
      passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase },
    );
    return key.asymmetricKeyType;
  } catch {
    // The error text is not kept: it says nothing useful to a user and must never reach a message.
    return undefined;
  }
}

/**
 * True when `pem` is a private key that Node's crypto can load (with `passphrase` when it is
 * encrypted). A public key, a certificate or an encrypted key without its passphrase is false.
 */
export function pemPrivateKeyParses(pem: string, passphrase?: string): boolean {
  return privateKeyType(pem, passphrase) !== undefined;
}

const PEM_PRIVATE_KEY =
  /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;
const isEncryptedPem = (pem: string) =>
  /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(pem);
const PEM_EXPECTED = 'a PEM-encoded private key (a BEGIN … PRIVATE KEY block)';

/**
 * A PEM-encoded RSA private key (what GCP and OCI issue). Encrypted keys pass this field check
 * only when `allowEncrypted`: the object holding the passphrase then checks that it opens the key.
 */
const rsaPrivateKey = (allowEncrypted: boolean) =>
  z.string(expecting(PEM_EXPECTED)).check(
    z.maxLength(16_384, 'expected a PEM private key of at most 16384 characters'),
    z.regex(PEM_PRIVATE_KEY, `expected ${PEM_EXPECTED}`),
    z.superRefine((pem, ctx) => {
      if (isEncryptedPem(pem)) {
        if (!allowEncrypted) {
          ctx.addIssue({ code: 'custom', message: 'expected an unencrypted PEM private key' });
        }
        return;
      }
      const type = privateKeyType(pem);
      if (type === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected a PEM private key that loads: this one does not parse',
        });
      } else if (type !== 'rsa') {
        ctx.addIssue({ code: 'custom', message: 'expected an RSA private key' });
      }
    }),
  );

// ---------------------------------------------------------------------------------------------
// AWS

const ROLE_ARN_EXPECTED =
  'an IAM role ARN: arn:<aws|aws-cn|aws-us-gov>:iam::<12-digit account>:role/<optional path/><role name>';
const AWS_PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov'];

/** Why `arn` is not a valid IAM role ARN, or undefined when it is. */
function roleArnProblem(arn: string): string | undefined {
  const match = /^arn:([^:]*):iam::([^:]*):role\/(.*)$/.exec(arn);
  if (!match) return `expected ${ROLE_ARN_EXPECTED}`;
  const [, partition = '', account = '', resource = ''] = match;
  if (!AWS_PARTITIONS.includes(partition))
    return 'expected the ARN partition to be aws, aws-cn or aws-us-gov';
  if (!/^\d{12}$/.test(account)) return 'expected a 12-digit account id in the role ARN';
  const slash = resource.lastIndexOf('/');
  const path = resource.slice(0, slash + 1);
  const name = resource.slice(slash + 1);
  if (!/^[\w+=,.@-]{1,64}$/.test(name)) {
    return 'expected a role name of 1-64 characters of letters, digits and + = , . @ _ -';
  }
  // IAM paths are `/` or `/segment/…/`; segments hold printable ASCII other than `/`.
  if (!/^(?:[\x21-\x2e\x30-\x7e]+\/)*$/.test(path)) {
    return 'expected a role path of non-empty segments of printable ASCII separated by /';
  }
  if (path.length + 1 > 512) return 'expected a role path of at most 512 characters';
  return undefined;
}

/** The account id in a role ARN, when the ARN is valid. */
function roleArnAccount(arn: string): string | undefined {
  return roleArnProblem(arn) === undefined ? arn.split(':')[4] : undefined;
}

export const RoleArnSchema = z.string(expecting(ROLE_ARN_EXPECTED)).check(
  z.trim(),
  z.maxLength(2048, 'expected an IAM role ARN of at most 2048 characters'),
  z.superRefine((arn, ctx) => {
    const problem = roleArnProblem(arn);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

export const ExternalIdSchema = identifier(
  /^[\w+=,.@:/-]{2,1224}$/,
  'an external id of 2-1224 characters of letters, digits and + = , . @ : / _ -',
);

export const AwsIamRoleCredentialsSchema = z
  .strictObject(
    {
      role_arn: RoleArnSchema,
      external_id: ExternalIdSchema,
      account_number: AwsAccountNumberSchema,
    },
    unknownFields(['role_arn', 'external_id', 'account_number']),
  )
  .check(
    z.superRefine((value, ctx) => {
      if (roleArnAccount(value.role_arn) !== value.account_number) {
        ctx.addIssue({
          code: 'custom',
          path: ['role_arn'],
          message: 'expected the account in role_arn to equal account_number',
        });
      }
    }),
  );
export type AwsIamRoleCredentials = z.infer<typeof AwsIamRoleCredentialsSchema>;

export const AwsAccessKeyCredentialsSchema = z
  .strictObject(
    {
      access_key_id: identifier(
        /^(AKIA|ASIA)[A-Z2-7]{16}$/,
        'an access key id: AKIA or ASIA followed by 16 characters of A-Z and 2-7',
      ),
      secret_access_key: secret(
        /^[A-Za-z0-9/+=]{40}$/,
        'a secret access key of 40 characters of A-Z a-z 0-9 / + =',
      ),
      session_token: z.optional(
        secret(/^[A-Za-z0-9/+=]{100,8192}$/, 'a session token of 100-8192 characters of A-Z a-z 0-9 / + ='),
      ),
      /** The account the key should belong to (the legacy form sent it): checked against GetCallerIdentity. */
      account_number: z.optional(AwsAccountNumberSchema),
    },
    unknownFields(['access_key_id', 'secret_access_key', 'session_token', 'account_number']),
  )
  .check(
    z.superRefine((value, ctx) => {
      const temporary = value.access_key_id.startsWith('ASIA');
      if (value.session_token !== undefined && !temporary) {
        ctx.addIssue({
          code: 'custom',
          path: ['access_key_id'],
          message: 'expected a temporary (ASIA…) access key id with a session_token',
        });
      }
      if (value.session_token === undefined && temporary) {
        ctx.addIssue({
          code: 'custom',
          path: ['session_token'],
          message: 'is required with a temporary (ASIA…) access key id',
        });
      }
    }),
  );
export type AwsAccessKeyCredentials = z.infer<typeof AwsAccessKeyCredentialsSchema>;

// ---------------------------------------------------------------------------------------------
// Azure

export const AzureServicePrincipalCredentialsSchema = z.strictObject(
  {
    client_id: guid('the application (client) id'),
    client_secret: z
      .string(expecting('a client secret'))
      .check(
        z.minLength(1, 'expected a client secret: must not be empty'),
        z.maxLength(1024, 'expected a client secret of at most 1024 characters'),
      ),
    tenant_id: guid('the directory (tenant) id'),
    subscription_id: guid('the subscription id'),
  },
  unknownFields(['client_id', 'client_secret', 'tenant_id', 'subscription_id']),
);
export type AzureServicePrincipalCredentials = z.infer<typeof AzureServicePrincipalCredentialsSchema>;

// ---------------------------------------------------------------------------------------------
// GCP

export const GcpProjectIdSchema = identifier(
  /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
  'a GCP project id: 6-30 characters of a-z 0-9 -, starting with a letter, not ending with -',
);

/** The document Google issues for a service-account key. Fields Google may add are kept. */
export const ServiceAccountKeySchema = z.looseObject(
  {
    type: z.literal('service_account', { error: 'expected "service_account"' }),
    project_id: GcpProjectIdSchema,
    client_email: z.email({
      error: (issue) => (issue.input === undefined ? 'is required' : 'expected an email address'),
    }),
    private_key: rsaPrivateKey(false),
    private_key_id: z.optional(z.string({ error: 'expected a string' })),
    client_id: z.optional(z.string({ error: 'expected a string' })),
  },
  { error: 'expected the service-account key as a JSON object' },
);
export type ServiceAccountKey = z.infer<typeof ServiceAccountKeySchema>;

/** The key as a JSON object, or `undefined` when it is neither an object nor JSON text of one. */
function serviceAccountDocument(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The service-account key, accepted as JSON text (as the legacy UI sent it) or as an object; the
 * output is always the object, so every reader sees one shape.
 */
const ServiceAccountJsonSchema = z.pipe(
  z.pipe(
    z.union([z.string(), z.record(z.string(), z.unknown())], {
      error: (issue) =>
        issue.input === undefined
          ? 'is required'
          : 'expected the service-account key as JSON text or an object',
    }),
    z.transform((value, ctx) => {
      const document = serviceAccountDocument(value);
      if (document === undefined) {
        ctx.issues.push({
          code: 'custom',
          message: 'expected the service-account key as JSON text: this is not valid JSON',
          input: value,
        });
        return z.NEVER;
      }
      return document;
    }),
  ),
  ServiceAccountKeySchema,
);

export const GcpServiceAccountCredentialsSchema = z.strictObject(
  { service_account_json: ServiceAccountJsonSchema },
  unknownFields(['service_account_json']),
);
export type GcpServiceAccountCredentials = z.infer<typeof GcpServiceAccountCredentialsSchema>;

// ---------------------------------------------------------------------------------------------
// Alibaba Cloud

export const AlicloudAccessKeyCredentialsSchema = z.strictObject(
  {
    access_key_id: identifier(
      /^LTAI[A-Za-z0-9]{12,30}$/,
      'an access key id: LTAI followed by 12-30 letters or digits',
    ),
    access_key_secret: secret(/^[A-Za-z0-9]{30}$/, 'an access key secret of 30 letters or digits'),
  },
  unknownFields(['access_key_id', 'access_key_secret']),
);
export type AlicloudAccessKeyCredentials = z.infer<typeof AlicloudAccessKeyCredentialsSchema>;

// ---------------------------------------------------------------------------------------------
// OCI

/** `ocid1.<type>.<realm>.[region].<unique id>`; users and tenancies have an empty region. */
const ocid = (type: string) =>
  identifier(
    new RegExp(`^ocid1\\.${type}\\.oc[0-9]+\\.[a-z0-9-]*\\.[a-z0-9]{20,255}$`),
    `a ${type} OCID (ocid1.${type}.<realm>..<unique id>)`,
  );

export const OciRegionSchema = identifier(
  /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/,
  'an OCI region id such as us-ashburn-1',
);

export const OciUserPrincipalCredentialsSchema = z
  .strictObject(
    {
      user_ocid: ocid('user'),
      tenancy_ocid: ocid('tenancy'),
      fingerprint: identifier(
        /^[0-9a-f]{2}(?::[0-9a-f]{2}){15}$/i,
        'a key fingerprint of 16 colon-separated hexadecimal pairs',
      ),
      private_key: rsaPrivateKey(true),
      /** Only for an encrypted private key; it must open the key. */
      passphrase: z.optional(
        z
          .string({ error: 'expected the private key passphrase as a string' })
          .check(
            z.minLength(1, 'expected a passphrase: must not be empty'),
            z.maxLength(1024, 'expected a passphrase of at most 1024 characters'),
          ),
      ),
      region: OciRegionSchema,
    },
    unknownFields(['user_ocid', 'tenancy_ocid', 'fingerprint', 'private_key', 'passphrase', 'region']),
  )
  .check(
    z.superRefine((value, ctx) => {
      if (!isEncryptedPem(value.private_key)) return;
      if (value.passphrase === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['passphrase'],
          message: 'is required: the private key is encrypted',
        });
        return;
      }
      const type = privateKeyType(value.private_key, value.passphrase);
      if (type === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['private_key'],
          message: 'expected an encrypted PEM private key that the passphrase opens: it does not',
        });
      } else if (type !== 'rsa') {
        ctx.addIssue({ code: 'custom', path: ['private_key'], message: 'expected an RSA private key' });
      }
    }),
  );
export type OciUserPrincipalCredentials = z.infer<typeof OciUserPrincipalCredentialsSchema>;

// ---------------------------------------------------------------------------------------------
// IBM Cloud

export const IbmAccountIdSchema = identifier(
  /^[0-9a-f]{32}$/,
  'an IBM Cloud account id of 32 hexadecimal digits',
);

export const IbmApiKeyCredentialsSchema = z.strictObject(
  {
    api_key: secret(/^[A-Za-z0-9_-]{40,64}$/, 'an IBM Cloud API key of 40-64 characters of A-Z a-z 0-9 _ -'),
    account_id: z.optional(IbmAccountIdSchema),
  },
  unknownFields(['api_key', 'account_id']),
);
export type IbmApiKeyCredentials = z.infer<typeof IbmApiKeyCredentialsSchema>;

/** Error options of a strict credentials object: unknown fields are named, never their values. */
function unknownFields(allowed: readonly string[]) {
  return {
    error: (issue: { code?: string; keys?: readonly string[]; input?: unknown }) => {
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys ?? [];
        return `unknown field${keys.length === 1 ? '' : 's'} ${keys.slice(0, 5).map(fieldName).join(', ')}${keys.length > 5 ? ` and ${keys.length - 5} more` : ''}: expected only ${allowed.join(', ')}`;
      }
      return issue.input === undefined ? 'is required' : 'expected an object of credential fields';
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Credential types and auth methods

export const CREDENTIAL_SCHEMAS = {
  aws_iam_role: AwsIamRoleCredentialsSchema,
  aws_access_key: AwsAccessKeyCredentialsSchema,
  azure_service_principal: AzureServicePrincipalCredentialsSchema,
  gcp_service_account: GcpServiceAccountCredentialsSchema,
  alicloud_access_key: AlicloudAccessKeyCredentialsSchema,
  oci_user_principal: OciUserPrincipalCredentialsSchema,
  ibm_api_key: IbmApiKeyCredentialsSchema,
} as const;

export const CredentialTypeSchema = z.enum(
  [
    'aws_iam_role',
    'aws_access_key',
    'azure_service_principal',
    'gcp_service_account',
    'alicloud_access_key',
    'oci_user_principal',
    'ibm_api_key',
  ],
  { error: () => `expected one of ${Object.keys(CREDENTIAL_SCHEMAS).join(', ')}` },
);
export type CredentialType = z.infer<typeof CredentialTypeSchema>;
export const CREDENTIAL_TYPES = CredentialTypeSchema.options;

export const AuthMethodSchema = z.enum(
  ['iam_role', 'access_key', 'service_principal', 'service_account', 'user_principal', 'api_key'],
  {
    error:
      'expected one of iam_role, access_key, service_principal, service_account, user_principal, api_key',
  },
);
export type AuthMethod = z.infer<typeof AuthMethodSchema>;

export type CredentialSchema<T extends CredentialType = CredentialType> = (typeof CREDENTIAL_SCHEMAS)[T];
/** The parsed credentials of one type (GCP's key is always the object here). */
export type CredentialsOf<T extends CredentialType> = z.output<CredentialSchema<T>>;
/** The credentials of one type as they may be submitted (GCP's key may be JSON text). */
export type CredentialsInputOf<T extends CredentialType> = z.input<CredentialSchema<T>>;

export interface AuthMethodDescriptor<T extends CredentialType = CredentialType> {
  auth_method: AuthMethod;
  credential_type: T;
  label: string;
  description: string;
  recommended: boolean;
  schema: CredentialSchema<T>;
  /** Derived from the schema's shape: fields that must be present. */
  required_fields: readonly string[];
  /** Derived from the schema's shape: fields that may be left out. */
  optional_fields: readonly string[];
}

function describeMethod<T extends CredentialType>(
  entry: Omit<AuthMethodDescriptor<T>, 'schema' | 'required_fields' | 'optional_fields' | 'recommended'> & {
    recommended?: boolean;
  },
): AuthMethodDescriptor<T> {
  const schema = CREDENTIAL_SCHEMAS[entry.credential_type];
  const required: string[] = [];
  const optional: string[] = [];
  for (const [field, fieldSchema] of Object.entries(schema.shape)) {
    // `optin` is zod's own record of whether a key may be missing on input.
    (fieldSchema._zod.optin === 'optional' ? optional : required).push(field);
  }
  return {
    ...entry,
    recommended: entry.recommended ?? false,
    schema,
    required_fields: required,
    optional_fields: optional,
  };
}

/** Each provider's auth methods, in the order a UI should offer them. */
export const AUTH_METHODS: Readonly<Record<ProviderType, readonly AuthMethodDescriptor[]>> = {
  aws: [
    describeMethod({
      auth_method: 'iam_role',
      credential_type: 'aws_iam_role',
      label: 'IAM role (cross-account)',
      description:
        'A role in your account that trusts the platform account on the external id issued at onboarding. No long-lived keys leave your account.',
      recommended: true,
    }),
    describeMethod({
      auth_method: 'access_key',
      credential_type: 'aws_access_key',
      label: 'Access key',
      description:
        'An IAM user access key (AKIA…), or temporary credentials (ASIA…) with their session token. Prefer an IAM role.',
    }),
  ],
  azure: [
    describeMethod({
      auth_method: 'service_principal',
      credential_type: 'azure_service_principal',
      label: 'Service principal',
      description: 'An app registration with a client secret and read access to the subscription.',
      recommended: true,
    }),
  ],
  gcp: [
    describeMethod({
      auth_method: 'service_account',
      credential_type: 'gcp_service_account',
      label: 'Service account key',
      description: 'The JSON key of a service account with viewer access to the project.',
      recommended: true,
    }),
  ],
  alicloud: [
    describeMethod({
      auth_method: 'access_key',
      credential_type: 'alicloud_access_key',
      label: 'Access key',
      description: 'A RAM user access key pair with read-only access.',
      recommended: true,
    }),
  ],
  oci: [
    describeMethod({
      auth_method: 'user_principal',
      credential_type: 'oci_user_principal',
      label: 'API signing key',
      description:
        'A user with an API signing key (RSA, PEM) in the tenancy, the key fingerprint and the home region.',
      recommended: true,
    }),
  ],
  ibm: [
    describeMethod({
      auth_method: 'api_key',
      credential_type: 'ibm_api_key',
      label: 'API key',
      description: 'An IBM Cloud API key of a user or service id with viewer access.',
      recommended: true,
    }),
  ],
};

export function authMethodsFor(provider: ProviderType): readonly AuthMethodDescriptor[] {
  return AUTH_METHODS[provider];
}

/** The credential type of (provider, auth method), or undefined when the provider has no such method. */
export function credentialTypeFor(provider: ProviderType, authMethod: string): CredentialType | undefined {
  return AUTH_METHODS[provider].find((method) => method.auth_method === authMethod)?.credential_type;
}

/** The credentials schema of (provider, auth method), or undefined when the provider has no such method. */
export function credentialSchemaFor(
  provider: ProviderType,
  authMethod: string,
): CredentialSchema | undefined {
  const type = credentialTypeFor(provider, authMethod);
  return type === undefined ? undefined : CREDENTIAL_SCHEMAS[type];
}

// ---------------------------------------------------------------------------------------------
// Submissions and stored secrets

const submission = <T extends CredentialType>(type: T) =>
  z.strictObject(
    { credential_type: z.literal(type), credentials: CREDENTIAL_SCHEMAS[type] },
    unknownFields(['credential_type', 'credentials']),
  );

const unionError = {
  error: (issue: { code?: string; input?: unknown }) =>
    issue.code === 'invalid_union'
      ? `expected credential_type to be one of ${CREDENTIAL_TYPES.join(', ')}`
      : 'expected an object with credential_type and credentials',
};

/** `{credential_type, credentials}`: what a client submits and what the secret holds. */
export const CredentialSubmissionSchema = z.discriminatedUnion(
  'credential_type',
  [
    submission('aws_iam_role'),
    submission('aws_access_key'),
    submission('azure_service_principal'),
    submission('gcp_service_account'),
    submission('alicloud_access_key'),
    submission('oci_user_principal'),
    submission('ibm_api_key'),
  ],
  unionError,
);
export type CredentialSubmission = z.infer<typeof CredentialSubmissionSchema>;

const storedSecret = <T extends CredentialType>(type: T) =>
  // Strict about the credentials, tolerant about metadata keys around them (legacy writers).
  z.object({
    credential_type: z.literal(type),
    credentials: CREDENTIAL_SCHEMAS[type],
    account_id: IdSchema,
    created_at: TimestampSchema,
    // Legacy values always wrote the key; its absence means "never expires".
    expires_at: z.pipe(
      z.nullish(TimestampSchema),
      z.transform((value) => value ?? null),
    ),
  });

/** The legacy JSON value of a secret, with credentials checked as strictly as on submission. */
export const StoredSecretSchema = z.discriminatedUnion(
  'credential_type',
  [
    storedSecret('aws_iam_role'),
    storedSecret('aws_access_key'),
    storedSecret('azure_service_principal'),
    storedSecret('gcp_service_account'),
    storedSecret('alicloud_access_key'),
    storedSecret('oci_user_principal'),
    storedSecret('ibm_api_key'),
  ],
  unionError,
);
/** Not `StoredSecret`: the secret-store port already names its read result that. */
export type StoredSecretValue = z.infer<typeof StoredSecretSchema>;

// ---------------------------------------------------------------------------------------------
// What may be shown

/**
 * Per credential type: `secret` fields are masked and never logged; `identifiers` may be shown.
 * External ids are not secrets to AWS, but they are kept out of summaries (the account item
 * already carries the one issued). GCP identifiers are read from inside the service-account key.
 */
export const SECRET_FIELDS = {
  aws_iam_role: { secret: ['external_id'], identifiers: ['role_arn', 'account_number'] },
  aws_access_key: {
    secret: ['access_key_id', 'secret_access_key', 'session_token'],
    identifiers: ['account_number'],
  },
  azure_service_principal: {
    secret: ['client_secret'],
    identifiers: ['client_id', 'tenant_id', 'subscription_id'],
  },
  gcp_service_account: { secret: ['service_account_json'], identifiers: ['project_id', 'client_email'] },
  alicloud_access_key: { secret: ['access_key_id', 'access_key_secret'], identifiers: [] },
  oci_user_principal: {
    secret: ['private_key', 'passphrase'],
    identifiers: ['user_ocid', 'tenancy_ocid', 'fingerprint', 'region'],
  },
  ibm_api_key: { secret: ['api_key'], identifiers: ['account_id'] },
} as const satisfies {
  [T in CredentialType]: {
    secret: readonly (keyof CredentialSchema<T>['shape'])[];
    identifiers: readonly string[];
  };
};

/** The schema each shown identifier must pass; a value that fails it is left out of summaries. */
const IDENTIFIER_SCHEMAS: Readonly<Record<string, z.ZodMiniType<string, string>>> = {
  role_arn: RoleArnSchema,
  account_number: AwsAccountNumberSchema,
  client_id: AzureServicePrincipalCredentialsSchema.shape.client_id,
  tenant_id: AzureServicePrincipalCredentialsSchema.shape.tenant_id,
  subscription_id: AzureServicePrincipalCredentialsSchema.shape.subscription_id,
  project_id: GcpProjectIdSchema,
  client_email: z.email(),
  user_ocid: OciUserPrincipalCredentialsSchema.shape.user_ocid,
  tenancy_ocid: OciUserPrincipalCredentialsSchema.shape.tenancy_ocid,
  fingerprint: OciUserPrincipalCredentialsSchema.shape.fingerprint,
  region: OciRegionSchema,
  account_id: IbmAccountIdSchema,
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Only the non-secret identifiers of `credentials` (parsed or as stored), each checked against its
 * own schema so that a secret pasted into an identifier field is never shown. Never throws.
 */
export function publicCredentialSummary(type: CredentialType, credentials: unknown): Record<string, string> {
  if (!isRecord(credentials)) return {};
  const source =
    type === 'gcp_service_account' ? serviceAccountDocument(credentials.service_account_json) : credentials;
  if (!isRecord(source)) return {};
  const summary: Record<string, string> = {};
  for (const field of SECRET_FIELDS[type].identifiers) {
    const parsed = IDENTIFIER_SCHEMAS[field]?.safeParse(source[field]);
    if (parsed?.success) summary[field] = parsed.data;
  }
  return summary;
}

/** The summary field that holds each type's canonical account identifier, when it has one. */
const ACCOUNT_NUMBER_FIELD: Readonly<Record<CredentialType, string | undefined>> = {
  aws_iam_role: 'account_number',
  aws_access_key: 'account_number',
  azure_service_principal: 'subscription_id',
  gcp_service_account: 'project_id',
  alicloud_access_key: undefined,
  oci_user_principal: 'tenancy_ocid',
  ibm_api_key: 'account_id',
};

/**
 * The canonical account identifier the credentials declare: the AWS account (account_number, or
 * the role ARN's account), the Azure subscription, the GCP project, the OCI tenancy, the IBM
 * account when given. Undefined when the credentials do not say (AWS access keys, Alibaba Cloud):
 * the provider's live check then reports it.
 */
export function accountNumberOf(credentialType: CredentialType, credentials: unknown): string | undefined {
  const summary = publicCredentialSummary(credentialType, credentials);
  const field = ACCOUNT_NUMBER_FIELD[credentialType];
  const declared = field === undefined ? undefined : summary[field];
  if (declared !== undefined) return declared;
  return credentialType === 'aws_iam_role' && summary.role_arn !== undefined
    ? roleArnAccount(summary.role_arn)
    : undefined;
}
