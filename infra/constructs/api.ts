import { Duration, Fn, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpRoute,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ApiProps {
  readonly handler: IFunction;
  /** Serves SCHEDULING_ROUTES (functions/api/scheduling-app.ts). */
  readonly schedulingHandler: IFunction;
  /** The OIDC issuer URL (a parameter or context value). */
  readonly oidcIssuer: string;
  /** Comma-separated audiences (client ids) accepted in the `aud` claim. */
  readonly oidcAudience: string;
  /** OAuth scopes every authenticated route requires (none: any valid token of the audience). */
  readonly requiredScopes?: readonly string[];
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  readonly corsAllowOrigins: readonly string[];
  readonly logRetentionDays: number;
}

/** The only route reachable without a token: load balancers and uptime checks call it. */
export const PUBLIC_HEALTH_ROUTE = { method: HttpMethod.GET, path: '/api/v1/health' } as const;
/** The API description is public too: it documents routes, never data. */
export const PUBLIC_OPENAPI_ROUTE = { method: HttpMethod.GET, path: '/api/v1/openapi.json' } as const;
/** Where the legacy service served its document and interactive docs (the page and its assets). */
export const PUBLIC_DOCS_ROUTES = [
  { method: HttpMethod.GET, path: '/openapi.json' },
  { method: HttpMethod.GET, path: '/docs' },
  { method: HttpMethod.GET, path: '/docs/{asset}' },
] as const;
/** What else the app serves without a token: the root (the same health report) and HEAD health. */
export const PUBLIC_ROOT_ROUTE = { method: HttpMethod.GET, path: '/' } as const;
export const PUBLIC_HEALTH_HEAD_ROUTE = { method: HttpMethod.HEAD, path: '/api/v1/health' } as const;
/** Every route API Gateway lets through without the JWT authorizer. */
export const PUBLIC_ROUTES = [
  PUBLIC_HEALTH_ROUTE,
  PUBLIC_HEALTH_HEAD_ROUTE,
  PUBLIC_OPENAPI_ROUTE,
  PUBLIC_ROOT_ROUTE,
  ...PUBLIC_DOCS_ROUTES,
] as const;

/** The operator console's page, assets and sign-in settings hold no data: served without a token. */
export const PUBLIC_CONSOLE_ROUTES = [
  { method: HttpMethod.GET, path: '/console' },
  { method: HttpMethod.GET, path: '/console/{proxy+}' },
  { method: HttpMethod.GET, path: '/api/v1/console/config' },
] as const;

/**
 * What the scheduling function serves (functions/api/scheduling-app.ts): every route that changes
 * scheduler entries. API Gateway picks the most specific route, so these win over `/{proxy+}`.
 */
export const SCHEDULING_ROUTES = [
  { method: HttpMethod.ANY, path: '/api/v1/schedules' },
  { method: HttpMethod.ANY, path: '/api/v1/schedules/{proxy+}' },
  { method: HttpMethod.ANY, path: '/api/v1/scheduler/{proxy+}' },
  { method: HttpMethod.DELETE, path: '/api/v1/tenants/{tenant_id}' },
  { method: HttpMethod.DELETE, path: '/api/v1/onboarding/accounts/{account_id}' },
] as const;

/** Access-log fields (HTTP API context variables); no header, token or body is logged. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  principal: '$context.authorizer.claims.sub',
};

/**
 * API Gateway (HTTP API) in front of the API functions (SCHEDULING_ROUTES to the scheduling
 * function, every other path to the API function): every route behind a JWT authorizer
 * (issuer and audience from the stack's parameters) except the health check, the stage
 * throttled, its access logs in a log group with retention.
 */
export class Api extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly url: string;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const integration = new HttpLambdaIntegration('ApiFunctionIntegration', props.handler, {
      timeout: Duration.seconds(29),
    });
    const schedulingIntegration = new HttpLambdaIntegration(
      'SchedulingApiFunctionIntegration',
      props.schedulingHandler,
      { timeout: Duration.seconds(29) },
    );
    const authorizer = new HttpJwtAuthorizer('OidcAuthorizer', props.oidcIssuer, {
      jwtAudience: Fn.split(',', props.oidcAudience),
      identitySource: ['$request.header.Authorization'],
    });

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Threat engine orchestrator API',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
      ...(props.requiredScopes && props.requiredScopes.length > 0
        ? { defaultAuthorizationScopes: [...props.requiredScopes] }
        : {}),
      ...(props.corsAllowOrigins.length > 0
        ? {
            corsPreflight: {
              allowOrigins: [...props.corsAllowOrigins],
              allowMethods: [
                CorsHttpMethod.GET,
                CorsHttpMethod.POST,
                CorsHttpMethod.PUT,
                CorsHttpMethod.PATCH,
                CorsHttpMethod.DELETE,
              ],
              allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays as RetentionDays,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRateLimit, burstLimit: props.throttleBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    this.url = this.stage.url;

    this.httpApi.addRoutes({ path: '/', methods: [HttpMethod.ANY], integration });
    this.httpApi.addRoutes({ path: '/{proxy+}', methods: [HttpMethod.ANY], integration });
    for (const route of SCHEDULING_ROUTES) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: schedulingIntegration,
      });
    }
    const reasons: Record<string, string> = {
      [PUBLIC_HEALTH_ROUTE.path]:
        'The health check is public on purpose (uptime checks and load balancers carry no token); it reports only whether the tables and the secret store answer, never tenant data.',
      [PUBLIC_OPENAPI_ROUTE.path]:
        'GET /api/v1/openapi.json is public on purpose (client generators and API catalogues fetch it without a token); it describes routes and schemas, never tenant data.',
      [PUBLIC_ROOT_ROUTE.path]:
        'GET / is public on purpose: the app answers it with the same health report as /api/v1/health (no tenant data), so a probe of the bare URL gets an answer instead of a 401.',
    };
    const docsReason = (path: string) =>
      `GET ${path} is public on purpose: the API document and its interactive page (Swagger UI assets) describe routes, never tenant data; every call made from the page still needs a token.`;
    for (const route of PUBLIC_ROUTES) {
      const [added] = this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method],
        integration,
        authorizer: new HttpNoneAuthorizer(),
      }) as [HttpRoute];
      Validations.of(added).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: reasons[route.path] ?? docsReason(route.path),
      });
    }
    for (const route of PUBLIC_CONSOLE_ROUTES) {
      const [added] = this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method],
        integration,
        authorizer: new HttpNoneAuthorizer(),
      }) as [HttpRoute];
      Validations.of(added).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: `GET ${route.path} is public on purpose: the operator console's page, static assets and sign-in settings hold no data; every data request the page makes carries the operator's token.`,
      });
    }
  }
}
