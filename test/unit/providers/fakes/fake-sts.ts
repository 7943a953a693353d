import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  type FakeAnswer,
  type LoopbackServer,
  type ReceivedRequest,
  startLoopbackServer,
} from './loopback-server';

/** A key the fake STS knows. Ids are obviously fake (never the AKIA shape). */
export interface FakeStsKey {
  secret: string;
  sessionToken?: string;
  account: string;
  arn: string;
  expired?: boolean;
}

/** A role: who may assume it (the trusted key id) and on which external id. */
export interface FakeStsRole {
  trustedKeyId: string;
  externalId: string;
  /** The account the assumed identity reports (normally the ARN's account). */
  account: string;
}

/** One STS call as the fake understood it. */
export interface StsCall {
  action: string;
  params: Record<string, string>;
  accessKeyId: string;
  scope: { date: string; region: string; service: string };
  signedHeaders: string[];
  sessionToken: string | undefined;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * A fake AWS STS (Query protocol, XML answers) that verifies SigV4 for real: the Authorization
 * header's shape, the credential scope, the payload hash, and the signature recomputed with the
 * secret of the key id it names. Unknown keys, bad signatures and expired tokens get the errors
 * AWS gives.
 */
export class FakeSts {
  readonly keys = new Map<string, FakeStsKey>();
  readonly roles = new Map<string, FakeStsRole>();
  readonly calls: StsCall[] = [];
  /** When set, answers the next request with this instead (then clears itself). */
  override: FakeAnswer | undefined;
  #server: LoopbackServer | undefined;
  #issued = 0;

  get url(): string {
    if (!this.#server) throw new Error('the fake STS is not started');
    return this.#server.url;
  }

  get requests(): ReceivedRequest[] {
    return this.#server?.requests ?? [];
  }

  async start(): Promise<this> {
    this.#server = await startLoopbackServer((request) => this.#answer(request));
    return this;
  }

  async close(): Promise<void> {
    await this.#server?.close();
  }

  reset(): void {
    this.keys.clear();
    this.roles.clear();
    this.calls.length = 0;
    this.override = undefined;
    this.#server?.requests.splice(0);
  }

  #answer(request: ReceivedRequest): FakeAnswer {
    if (this.override) {
      const answer = this.override;
      this.override = undefined;
      return answer;
    }
    if (
      request.method !== 'POST' ||
      request.headers['content-type'] !== 'application/x-www-form-urlencoded'
    ) {
      return stsError(400, 'InvalidAction', 'expected a form-encoded POST');
    }
    const params = Object.fromEntries(new URLSearchParams(request.body));
    const match = AUTHORIZATION.exec(String(request.headers.authorization ?? ''));
    if (!match) return stsError(403, 'IncompleteSignature', 'the Authorization header is not SigV4');
    const [, accessKeyId = '', date = '', region = '', service = '', signedHeaderList = '', signature = ''] =
      match;
    const signedHeaders = signedHeaderList.split(';');
    const sessionToken = request.headers['x-amz-security-token'] as string | undefined;
    this.calls.push({
      action: params.Action ?? '',
      params,
      accessKeyId,
      scope: { date, region, service },
      signedHeaders,
      sessionToken,
    });
    const key = this.keys.get(accessKeyId);
    if (!key)
      return stsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
      return stsError(403, 'SignatureDoesNotMatch', 'host and x-amz-date must be signed');
    }
    const payloadHash = String(request.headers['x-amz-content-sha256'] ?? sha256(request.body));
    if (payloadHash !== sha256(request.body))
      return stsError(400, 'SignatureDoesNotMatch', 'payload hash mismatch');
    const canonicalRequest = [
      request.method,
      request.url.split('?')[0],
      request.url.split('?')[1] ?? '',
      signedHeaders
        .map(
          (name) =>
            `${name}:${String(request.headers[name] ?? '')
              .trim()
              .replace(/\s+/g, ' ')}\n`,
        )
        .join(''),
      signedHeaderList,
      payloadHash,
    ].join('\n');
    const amzDate = String(request.headers['x-amz-date'] ?? '');
    const stringToSign = [
      'AWS4-HMAC-SHA256',
      amzDate,
      `${date}/${region}/${service}/aws4_request`,
      sha256(canonicalRequest),
    ].join('\n');
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secret}`, date), region), service), 'aws4_request');
    if (createHmac('sha256', signingKey).update(stringToSign).digest('hex') !== signature) {
      return stsError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
    if (key.sessionToken !== undefined) {
      if (sessionToken !== key.sessionToken || !signedHeaders.includes('x-amz-security-token')) {
        return stsError(
          403,
          'InvalidClientTokenId',
          'The security token included in the request is invalid.',
        );
      }
    }
    if (key.expired)
      return stsError(400, 'ExpiredToken', 'The security token included in the request is expired');
    if (params.Version !== '2011-06-15') return stsError(400, 'InvalidParameterValue', 'bad Version');

    if (params.Action === 'GetCallerIdentity') {
      return xml(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>${key.arn}</Arn><UserId>FAKEUSERID</UserId><Account>${key.account}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    }
    if (params.Action === 'AssumeRole') {
      const role = this.roles.get(params.RoleArn ?? '');
      if (!role || role.trustedKeyId !== accessKeyId || role.externalId !== params.ExternalId) {
        return stsError(403, 'AccessDenied', `User: ${key.arn} is not authorized to perform: sts:AssumeRole`);
      }
      this.#issued += 1;
      const issuedKeyId = `FAKETEMPKEY${String(this.#issued).padStart(4, '0')}`;
      const issued: FakeStsKey = {
        secret: `fake-temp-secret-${randomBytes(12).toString('hex')}`,
        sessionToken: `fake-temp-token-${randomBytes(24).toString('hex')}`,
        account: role.account,
        arn: `arn:aws:sts::${role.account}:assumed-role/fake/${params.RoleSessionName}`,
      };
      this.keys.set(issuedKeyId, issued);
      return xml(
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
          `<AccessKeyId>${issuedKeyId}</AccessKeyId><SecretAccessKey>${issued.secret}</SecretAccessKey>` +
          `<SessionToken>${issued.sessionToken}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>` +
          `</Credentials><AssumedRoleUser><AssumedRoleId>FAKEROLEID:${params.RoleSessionName}</AssumedRoleId>` +
          `<Arn>${issued.arn}</Arn></AssumedRoleUser></AssumeRoleResult>` +
          `<ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
    }
    return stsError(400, 'InvalidAction', 'unknown action');
  }
}

function xml(body: string, status = 200): FakeAnswer {
  return { status, body, contentType: 'text/xml' };
}

export function stsError(status: number, code: string, message: string): FakeAnswer {
  return xml(
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
      `<Code>${code}</Code><Message>${message}</Message></Error><RequestId>fake-request</RequestId></ErrorResponse>`,
    status,
  );
}
