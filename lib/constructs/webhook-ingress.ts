/**
 * The HTTPS endpoint Harbor's webhook policy posts to: API Gateway REST API → Lambda proxy.
 *
 * Default settings: one `POST /harbor` method (Lambda proxy), a request validator requiring the
 * `Authorization` header (a missing header is answered 401 by the gateway) and a JSON object body
 * with a string `type` (both Harbor formats), a regional endpoint,
 * stage throttling 20 req/s (burst 40), JSON access logs (30 days), X-Ray tracing, CloudWatch
 * metrics. With `enableWaf`, a WAF WebACL with a per-IP rate-based rule and a 64 KB body cap.
 * The secret itself is compared in the function, in constant time (Harbor sends a static header).
 */
import { Annotations, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { assertValidProps } from './props.ts';

export interface WebhookIngressProps {
  /** The webhook function (Lambda proxy integration). */
  readonly function: lambda.IFunction;
  /**
   * Stage steady-state rate limit (requests per second).
   * @default 20
   */
  readonly rateLimit?: number;
  /**
   * Stage burst limit.
   * @default 40
   */
  readonly burstLimit?: number;
  /**
   * Attach a WAF WebACL (rate-based rule and body size cap).
   * @default true
   */
  readonly enableWaf?: boolean;
  /**
   * WAF rate-based rule: requests per source IP per 5 minutes.
   * @default 300
   */
  readonly wafRateLimit?: number;
  /**
   * Largest body WAF lets through, in bytes (the function enforces it too).
   * @default 65536
   */
  readonly maxBodyBytes?: number;
  /**
   * Access log retention.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * Stage access logs, which need the account's API Gateway CloudWatch role: `off` (a synth
   * warning says so), `existing-account-role` (the account has it), `manage-account-role` (this
   * construct creates the role and sets it on the account, retained on delete).
   * @default 'off'
   */
  readonly accessLogs?: 'off' | 'existing-account-role' | 'manage-account-role';
}

export class WebhookIngress extends Construct {
  public readonly api: apigw.RestApi;
  public readonly webAcl?: wafv2.CfnWebACL;
  /** The URL to put in Harbor's webhook policy. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: WebhookIngressProps) {
    super(scope, id);
    const rateLimit = props.rateLimit ?? 20;
    const burstLimit = props.burstLimit ?? 40;
    const wafRateLimit = props.wafRateLimit ?? 300;
    const maxBodyBytes = props.maxBodyBytes ?? 65_536;
    const enableWaf = props.enableWaf ?? true;
    const problems: string[] = [];
    if (!(rateLimit > 0 && rateLimit <= 10_000)) problems.push('rateLimit must be in (0, 10000]');
    if (!Number.isInteger(burstLimit) || burstLimit < 1 || burstLimit > 5000) {
      problems.push('burstLimit must be an integer in 1..5000');
    }
    if (!Number.isInteger(wafRateLimit) || wafRateLimit < 10) {
      problems.push('wafRateLimit must be an integer ≥ 10 (WAF minimum)');
    }
    if (maxBodyBytes < 1024 || maxBodyBytes > 65_536) {
      problems.push('maxBodyBytes must be 1024..65536 (WAF inspects at most 64 KB)');
    }
    assertValidProps('WebhookIngress', problems);

    const logsMode = props.accessLogs ?? 'off';
    const accessLogs =
      logsMode === 'off'
        ? undefined
        : new logs.LogGroup(this, 'AccessLogs', {
            retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
            removalPolicy: RemovalPolicy.DESTROY,
          });
    this.api = new apigw.RestApi(this, 'Api', {
      description: 'PushGuard: Harbor webhook ingress',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: logsMode === 'manage-account-role',
      ...(logsMode === 'manage-account-role'
        ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN }
        : {}),
      deployOptions: {
        stageName: 'v1',
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
        accessLogDestination: accessLogs && new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: accessLogs && apigw.AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: true,
        metricsEnabled: true,
      },
    });
    if (logsMode === 'off') {
      Annotations.of(this).addWarningV2(
        'pushguard:apiAccessLogsOff',
        'Webhook access logs are off: they need the account API Gateway CloudWatch role. Set ' +
          'apiAccessLogs to "existing-account-role" (check with `pushguard preflight`) or ' +
          '"manage-account-role".'
      );
      for (const id of ['AwsSolutions-APIG1', 'Serverless-APIGWAccessLogging']) {
        Validations.of(this.api.deploymentStage).acknowledge({
          id,
          reason:
            'Access logs off by configuration (apiAccessLogs: off), with a synth warning: they ' +
            'need the account-wide API Gateway CloudWatch role, absent in fresh accounts.',
        });
      }
    }
    if (logsMode === 'manage-account-role') {
      const role = this.api.node.tryFindChild('CloudWatchRole');
      if (role) {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
          reason: 'The account API Gateway logging role: AWS documents this managed policy for it.',
        });
      }
    }
    this.api.addGatewayResponse('MissingAuthorization', {
      type: apigw.ResponseType.BAD_REQUEST_PARAMETERS,
      statusCode: '401',
      templates: { 'application/json': '{"message":"unauthorized"}' },
    });
    const validator = this.api.addRequestValidator('RequireAuthorizationAndJson', {
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    // Both Harbor formats are JSON objects with a string `type`; the function checks the rest.
    const model = this.api.addModel('HarborEvent', {
      contentType: 'application/json',
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        type: apigw.JsonSchemaType.OBJECT,
        required: ['type'],
        properties: { type: { type: apigw.JsonSchemaType.STRING, maxLength: 128 } },
      },
    });
    const method = this.api.root
      .addResource('harbor')
      .addMethod('POST', new apigw.LambdaIntegration(props.function, { proxy: true }), {
        requestParameters: { 'method.request.header.Authorization': true },
        requestValidator: validator,
        requestModels: {
          'application/json': model,
          'application/cloudevents+json': model,
          $default: model,
        },
      });
    for (const id of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) {
      Validations.of(method).acknowledge({
        id,
        reason:
          'Harbor can only send a static Authorization header; the function compares it in ' +
          'constant time with the Secrets Manager values (current and previous).',
      });
    }
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG6',
      reason:
        'JSON access logs are on; execution logging needs the account-wide API Gateway ' +
        'CloudWatch role, which this stack does not own.',
    });

    if (enableWaf) {
      this.webAcl = this.createWebAcl(wafRateLimit, maxBodyBytes);
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn: this.webAcl.attrArn,
      });
    } else {
      Validations.of(this.api.deploymentStage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF turned off by configuration (enableWaf: false); stage throttling and the ' +
          "function's 64 KB and constant-time checks still apply.",
      });
    }
    this.url = this.api.urlForPath('/harbor');
  }

  private createWebAcl(rateLimit: number, maxBodyBytes: number): wafv2.CfnWebACL {
    const visibility = (name: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName: name,
      sampledRequestsEnabled: true,
    });
    return new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      // Inspect up to 64 KB of body (the default for API Gateway is 16 KB); larger is oversize.
      associationConfig: { requestBody: { API_GATEWAY: { defaultSizeInspectionLimit: 'KB_64' } } },
      visibilityConfig: visibility('PushGuardWebhook'),
      rules: [
        {
          name: 'RatePerIp',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('PushGuardWebhookRate'),
        },
        {
          name: 'BodyTooLarge',
          priority: 1,
          action: { block: { customResponse: { responseCode: 413 } } },
          statement: {
            sizeConstraintStatement: {
              fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
              comparisonOperator: 'GT',
              size: maxBodyBytes,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          visibilityConfig: visibility('PushGuardWebhookBodySize'),
        },
      ],
    });
  }
}
