import { createHash } from 'node:crypto';
import { type LoopbackService, startLoopbackService } from './loopback-service';

const XML = { 'content-type': 'text/xml' };
const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** Temporary key ids this stand-in issues: a call signed with one is made as the customer's role. */
export const CUSTOMER_SESSION_KEY_PREFIX = 'ASIAREHEARSALCUSTOMER';

/**
 * STS on loopback (Query protocol, XML answers): AssumeRole of a customer's role issues obviously
 * fake temporary credentials, GetCallerIdentity answers the role's account. Who may assume what
 * is the IAM check's business, not this stand-in's.
 */
export class StsStandIn {
  #service: LoopbackService | undefined;
  /** Session key id → the assumed role ARN. */
  readonly #sessions = new Map<string, string>();
  /** Roles whose trust policy refuses the platform (AssumeRole answers AccessDenied). */
  readonly refusedRoles = new Set<string>();

  get url(): string {
    if (!this.#service) throw new Error('the STS stand-in is not started');
    return this.#service.url;
  }

  get requestsByAccessKey(): ReadonlyMap<string, number> {
    return this.#service?.requestsByAccessKey ?? new Map();
  }

  async start(): Promise<void> {
    this.#service = await startLoopbackService(async (request) => {
      const params = new URLSearchParams(request.body);
      const action = params.get('Action');
      if (action === 'AssumeRole') {
        const roleArn = params.get('RoleArn') ?? '';
        if (this.refusedRoles.has(roleArn)) {
          return {
            status: 403,
            headers: XML,
            body: `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}</Message></Error><RequestId>rehearsal</RequestId></ErrorResponse>`,
          };
        }
        const digest = createHash('sha256').update(roleArn).digest('hex').toUpperCase();
        const keyId = `${CUSTOMER_SESSION_KEY_PREFIX}${digest.slice(0, 8)}`;
        this.#sessions.set(keyId, roleArn);
        const expiration = new Date(Date.now() + 900_000).toISOString();
        return {
          status: 200,
          headers: XML,
          body: `<AssumeRoleResponse xmlns="${NAMESPACE}"><AssumeRoleResult><Credentials><AccessKeyId>${keyId}</AccessKeyId><SecretAccessKey>rehearsal-not-a-secret</SecretAccessKey><SessionToken>rehearsal-session</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>${roleArn}/rehearsal</Arn><AssumedRoleId>AROAREHEARSAL:rehearsal</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>rehearsal</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        };
      }
      if (action === 'GetCallerIdentity') {
        const keyId = /Credential=([^/\s]+)\//.exec(String(request.headers.authorization ?? ''))?.[1] ?? '';
        const roleArn = this.#sessions.get(keyId) ?? '';
        const account = roleArn.split(':')[4] ?? '';
        return {
          status: 200,
          headers: XML,
          body: `<GetCallerIdentityResponse xmlns="${NAMESPACE}"><GetCallerIdentityResult><Arn>${roleArn}</Arn><UserId>AROAREHEARSAL:rehearsal</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>rehearsal</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
        };
      }
      return {
        status: 400,
        headers: XML,
        body: `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${action} is not rehearsed</Message></Error><RequestId>rehearsal</RequestId></ErrorResponse>`,
      };
    });
  }

  async close(): Promise<void> {
    await this.#service?.close();
  }
}
