/**
 * cdk-nag v3 (AwsSolutions, Serverless) and PushGuard's own pack: zero unacknowledged findings on
 * the synthesized app (after synthesis, when cross-stack references are resolved, as `cdk synth`
 * validates), in the default and the variant configurations; and the custom rule does fire.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { PushGuardChecks } from '../../lib/nag/pushguard-checks.ts';
import { appWith, exampleConfig } from './helpers.ts';

const ARN = (n: string) =>
  `arn:aws:secretsmanager:eu-west-1:123456789012:secret:pushguard/${n}-AbCdEf`;

function findings(app: App): string[] {
  app.synth();
  return [new AwsSolutionsChecks(), new ServerlessChecks(), new PushGuardChecks()].flatMap((p) =>
    p
      .validateScope(app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)
      )
  );
}

describe('cdk-nag', () => {
  it('reports zero unacknowledged findings on the example configuration', () => {
    expect(findings(appWith(exampleConfig()).app)).toEqual([]);
  });

  it('reports zero findings with EventBridge, no WAF, Jira, GitHub, a previous secret, an SG', () => {
    const config = {
      ...exampleConfig(),
      useEventBridge: true,
      enableWaf: false,
      rootDirectory: 'harbor',
      cacheLayerDb: 0,
      alarmEmail: 'oncall@example.com',
      securityGroupId: 'sg-0123456789abcdef0',
      webhook: { secretArn: ARN('webhook-new'), previousSecretArn: ARN('webhook-old') },
      jira: {
        baseUrl: 'https://example.atlassian.net',
        projectKey: 'OPS',
        email: 'bot@example.com',
        tokenSecretArn: ARN('jira'),
      },
      github: { repository: 'example/registry-ops', tokenSecretArn: ARN('github') },
    };
    expect(findings(appWith(config).app)).toEqual([]);
  });

  it('reports zero findings with vpc-endpoints egress, managed access logs and reserved concurrency', () => {
    const base = exampleConfig();
    const config = {
      ...base,
      egress: { mode: 'vpc-endpoints', routeTableIds: ['rtb-0123456789abcdef0'] },
      apiAccessLogs: 'manage-account-role',
      webhook: { ...(base.webhook as object), reservedConcurrency: 10 },
    };
    expect(findings(appWith(config).app)).toEqual([]);
  });

  it('runs the packs registered the way bin/app.ts does: clean app passes, a bad queue fails', () => {
    const report = (app: App) => {
      let error: unknown;
      const before = process.exitCode;
      try {
        app.synth();
      } catch (e) {
        error = e;
      } finally {
        process.exitCode = before; // a failed validation marks the process; restore it
      }
      const dir = app.outdir;
      const json = JSON.parse(readFileSync(join(dir, 'validation-report.json'), 'utf8')) as {
        pluginReports: { pluginName: string; violations: { ruleName: string }[] }[];
      };
      return { error, json };
    };
    const clean = report(appWith(exampleConfig(), { nag: true }).app);
    expect(clean.error).toBeUndefined();
    expect(clean.json.pluginReports.flatMap((r) => r.violations)).toEqual([]);

    const dirty = appWith(exampleConfig(), { nag: true });
    new sqs.Queue(dirty.stateful, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const bad = report(dirty.app);
    expect(bad.error).toBeDefined();
    const rules = bad.json.pluginReports
      .filter((r) => r.pluginName === 'AwsSolutions' || r.pluginName === 'Serverless')
      .flatMap((r) => r.violations.map((v) => v.ruleName));
    expect(rules).toContain('AwsSolutions-SQS3');
  });

  it('flags an SQS source whose queue visibility is below 6× the function timeout', () => {
    const app = new App();
    const stack = new Stack(app, 'Bad');
    const queue = new sqs.Queue(stack, 'Q', { visibilityTimeout: Duration.seconds(60) });
    const fn = new lambda.Function(stack, 'F', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
      timeout: Duration.seconds(30),
    });
    fn.addEventSource(new sources.SqsEventSource(queue));
    const report = new PushGuardChecks().validateScope(app);
    expect(report.violations.map((v) => v.ruleName)).toEqual(['PushGuard-SQSVisibility6x']);
  });
});
