// The province's REST API, built from the route table: one resource per path, one method per
// route, integrated with the function the route names; the TOKEN authorizer on every non-public
// route; gateway responses in problem+json; access logs, tracing and throttling on the stage.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BEARER_HEADER } from '../../functions/authorizer/bearer.ts';
import { AUTHORIZER_CACHE_SECONDS, type FunctionName } from '../../functions/catalog.ts';
import { gatewayResponses, problemBody, problemCatalog } from '../../schemas/problems.ts';
import type { RouteDef } from '../../schemas/route.ts';
import type { ConsortiumFunction } from './consortium-function.ts';

export interface ApiProps {
  routes: readonly RouteDef[];
  functions: Record<FunctionName, ConsortiumFunction>;
  key: kms.IKey;
  provinceCode: string;
  /** Steady-state requests per second for the stage; bursts allowed to twice that. */
  rateLimit: number;
}

export class Api extends Construct {
  readonly api: apigw.RestApi;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const rate = props.rateLimit;
    const methodOptions = Object.fromEntries(
      props.routes
        .filter((r) => r.throttle)
        .map((r) => [`${r.path}/${r.method}`, { throttlingRateLimit: r.throttle!.rate, throttlingBurstLimit: r.throttle!.burst }]),
    );
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `consortium-${props.provinceCode}`,
      description: `Medical consortium platform, province ${props.provinceCode}`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false, // request bodies carry national IDs: never into execution logs
        throttlingRateLimit: rate,
        throttlingBurstLimit: rate * 2,
        methodOptions,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        // Standard fields minus the caller IP and user: ids and timings are what on-call needs.
        accessLogFormat: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            method: '$context.httpMethod',
            resource: '$context.resourcePath',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            role: '$context.authorizer.role',
            institution: '$context.authorizer.inst',
            errorType: '$context.error.responseType',
          }),
        ),
      },
    });

    const authorizer = new apigw.TokenAuthorizer(this, 'Authorizer', {
      handler: props.functions.authorizer.fn,
      identitySource: apigw.IdentitySource.header('Authorization'),
      validationRegex: BEARER_HEADER,
      resultsCacheTtl: Duration.seconds(AUTHORIZER_CACHE_SECONDS),
    });
    const validator = new apigw.RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestParameters: true,
      // No models are attached, so bodies pass through to zod in the function (field-level problems).
      validateRequestBody: true,
    });

    const integrations = new Map<FunctionName, apigw.LambdaIntegration>();
    const integrationFor = (fn: FunctionName) => {
      let i = integrations.get(fn);
      if (!i) {
        // One invoke permission per function for the whole API, not one per method.
        i = new apigw.LambdaIntegration(props.functions[fn].fn, { scopePermissionToMethod: false });
        integrations.set(fn, i);
      }
      return i;
    };

    for (const route of props.routes) {
      const resource = this.api.root.resourceForPath(route.path);
      const isPublic = route.auth === 'public';
      const method = resource.addMethod(route.method, integrationFor(route.fn), {
        operationName: route.operationId,
        requestValidator: validator,
        ...(isPublic ? { authorizationType: apigw.AuthorizationType.NONE } : { authorizer, authorizationType: apigw.AuthorizationType.CUSTOM }),
        ...(route.idempotencyKey ? { requestParameters: { 'method.request.header.Idempotency-Key': route.idempotencyKey === 'required' } } : {}),
      });
      if (isPublic) {
        Validations.of(method).acknowledge(
          { id: 'AwsSolutions::AwsSolutions-APIG4', reason: `${route.path} is public by contract (API.md): health check and API description, no data` },
          { id: 'AwsSolutions::AwsSolutions-COG4', reason: `${route.path} is public by contract (API.md)` },
        );
      } else {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions::AwsSolutions-COG4',
          reason: 'Callers hold JWTs from the province identity provider (not Cognito), verified by the Lambda TOKEN authorizer with jose',
        });
      }
    }
    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The account-level role API Gateway needs to write execution logs; AWS documents this managed policy for it',
      },
      {
        id: 'HIPAA.Security::HIPAA.Security-APIGWCacheEnabledAndEncrypted',
        reason: 'Responses are per caller and carry personal data; a stage cache could serve one caller another caller\'s data',
      },
      {
        id: 'HIPAA.Security::HIPAA.Security-APIGWSSLEnabled',
        reason: 'Client certificates authenticate API Gateway to HTTP backends; every integration here is a Lambda invocation',
      },
    );

    for (const [type, slug] of Object.entries(gatewayResponses)) {
      this.api.addGatewayResponse(`Gw${type}`, {
        type: apigw.ResponseType.of(type),
        statusCode: String(problemCatalog[slug].status),
        responseHeaders: { 'Content-Type': "'application/problem+json'", 'Cache-Control': "'no-store'" },
        templates: { 'application/json': JSON.stringify({ ...problemBody(slug), instance: '$context.requestId' }) },
      });
    }
  }
}
