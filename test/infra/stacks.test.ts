/**
 * Fine-grained template assertions on the two stacks (no whole-template snapshot): each property
 * the design promises, checked one by one.
 */
import { readFileSync } from 'node:fs';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { asArray, iamStatements, resources, synth } from './helpers.ts';

const base = synth();
const { st, pt, stateful, pipeline } = base;

const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as CfnElement);

describe('Stateful stack: queues', () => {
  const queues = resources(st, 'AWS::SQS::Queue');
  const main = [stateful.events, stateful.findings];

  it('redrives every main queue to its DLQ after at least 5 receives', () => {
    for (const q of main) {
      const props = queues[logicalId(stateful, q.queue)]!.Properties!;
      const redrive = props.RedrivePolicy as {
        maxReceiveCount: number;
        deadLetterTargetArn: unknown;
      };
      expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
      expect(redrive.deadLetterTargetArn).toEqual({
        'Fn::GetAtt': [logicalId(stateful, q.deadLetterQueue), 'Arn'],
      });
    }
  });

  it('encrypts every queue (SSE) and denies non-TLS access to each', () => {
    expect(Object.keys(queues).length).toBeGreaterThanOrEqual(5);
    for (const q of Object.values(queues)) expect(q.Properties?.SqsManagedSseEnabled).toBe(true);
    const policies = resources(st, 'AWS::SQS::QueuePolicy');
    const denied = new Set<string>();
    for (const p of Object.values(policies)) {
      const doc = p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] };
      const tlsDeny = doc.Statement.some(
        (s) =>
          s.Effect === 'Deny' &&
          JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}'
      );
      if (tlsDeny) {
        for (const q of p.Properties!.Queues as { Ref: string }[]) denied.add(q.Ref);
      }
    }
    expect([...denied].sort()).toEqual(Object.keys(queues).sort());
  });

  it('accepts 256 KB messages (S3 notifications reach 64 KB) and keeps DLQ messages longer', () => {
    for (const q of main) {
      const props = queues[logicalId(stateful, q.queue)]!.Properties!;
      const dlq = queues[logicalId(stateful, q.deadLetterQueue)]!.Properties!;
      expect(props.MaximumMessageSize).toBe(262_144);
      expect(dlq.MessageRetentionPeriod as number).toBeGreaterThan(
        props.MessageRetentionPeriod as number
      );
    }
  });
});

describe('Pipeline stack: SQS event sources', () => {
  const fns = resources(pt, 'AWS::Lambda::Function');
  const esms = resources(pt, 'AWS::Lambda::EventSourceMapping');
  const queues = resources(st, 'AWS::SQS::Queue');
  const pairs = [
    { queue: stateful.events, fn: pipeline.functions['s3-events'] },
    { queue: stateful.findings, fn: pipeline.functions.remediate },
  ];

  it('has exactly the two SQS sources, each reporting batch item failures', () => {
    expect(Object.keys(esms)).toHaveLength(2);
    for (const e of Object.values(esms)) {
      expect(e.Properties?.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      const scaling = e.Properties!.ScalingConfig as { MaximumConcurrency: number };
      expect(scaling.MaximumConcurrency).toBeGreaterThanOrEqual(2);
    }
  });

  it('gives every source queue a visibility timeout of at least 6× its function timeout', () => {
    for (const { queue, fn } of pairs) {
      const fnId = logicalId(pipeline, fn.function);
      const esm = Object.values(esms).find(
        (e) => JSON.stringify(e.Properties?.FunctionName) === JSON.stringify({ Ref: fnId })
      );
      expect(esm, fnId).toBeDefined();
      const timeout = fns[fnId]!.Properties!.Timeout as number;
      const visibility = queues[logicalId(stateful, queue.queue)]!.Properties!
        .VisibilityTimeout as number;
      expect(timeout).toBeGreaterThan(0);
      expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
    }
  });
});

describe('Pipeline stack: functions', () => {
  const fns = resources(pt, 'AWS::Lambda::Function');

  it('runs six functions on nodejs22.x, arm64, traced, all but notify in the VPC, with explicit log groups', () => {
    expect(Object.keys(fns)).toHaveLength(6);
    const notifyId = logicalId(pipeline, pipeline.functions.notify.function);
    for (const [id, f] of Object.entries(fns)) {
      const p = f.Properties!;
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.TracingConfig).toEqual({ Mode: 'Active' });
      expect(p.MemorySize).toBe(512);
      expect((p.VpcConfig as { SubnetIds: string[] } | undefined)?.SubnetIds).toEqual(
        id === notifyId ? undefined : ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']
      );
      expect(p.ReservedConcurrentExecutions).toBeUndefined();
      expect(p.LoggingConfig).toMatchObject({
        LogFormat: 'JSON',
        LogGroup: { Ref: expect.any(String) },
      });
      expect((p.Environment as { Variables: Record<string, string> }).Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'pushguard',
        POWERTOOLS_METRICS_NAMESPACE: 'PushGuard',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
    pt.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('passes secrets as ARNs only, never values, and the mode as dry-run by default', () => {
    const vars = Object.values(fns).map(
      (f) => (f.Properties!.Environment as { Variables: Record<string, unknown> }).Variables
    );
    const all = JSON.stringify(vars);
    expect(all).not.toMatch(/PASSWORD|"REDIS_AUTH"|"[A-Z_]*TOKEN"/);
    expect(vars.filter((v) => v.PUSHGUARD_MODE === 'dry-run')).toHaveLength(2);
    expect(vars.some((v) => v.REGISTRY_DB === '1')).toBe(true);
  });

  it('gives each function only the variables it reads, and the version to the remediators', () => {
    const vars = (name: keyof typeof pipeline.functions) => {
      const id = logicalId(pipeline, pipeline.functions[name].function);
      const f = fns[id]!.Properties!.Environment as { Variables: Record<string, unknown> };
      return Object.keys(f.Variables).filter((k) => !/^(POWERTOOLS_|NODE_OPTIONS)/.test(k));
    };
    expect(vars('notify').sort()).toEqual(['SLACK_WEBHOOK_SECRET_ARN']);
    for (const name of ['s3-events', 'window-check'] as const) {
      expect(vars(name)).not.toContain('REGISTRY_DB');
    }
    for (const name of ['remediate', 'sweep'] as const) {
      expect(vars(name).filter((k) => k.startsWith('SLACK_'))).toEqual([]);
      expect(vars(name)).toContain('PUSHGUARD_VERSION');
    }
    const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
      .version as string;
    const remediate = fns[logicalId(pipeline, pipeline.functions.remediate.function)]!;
    expect(
      (remediate.Properties!.Environment as { Variables: Record<string, unknown> }).Variables
        .PUSHGUARD_VERSION
    ).toBe(version);
  });

  it('lets the functions reach only Redis (its CIDR and port) and HTTPS', () => {
    pt.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [
        { CidrIp: '10.0.0.0/16', FromPort: 6379, ToPort: 6379, IpProtocol: 'tcp' },
        { CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' },
      ],
    });
    for (const sg of Object.values(resources(pt, 'AWS::EC2::SecurityGroup'))) {
      expect(sg.Properties?.SecurityGroupIngress).toBeUndefined();
    }
  });
});

describe('IAM least privilege', () => {
  const statements = [...iamStatements(st), ...iamStatements(pt)];

  it('grants no s3:Delete* (nor s3:*) anywhere', () => {
    const actions = statements.flatMap((s) => asArray(s.Action as string | string[]));
    expect(actions.length).toBeGreaterThan(10);
    expect(actions.filter((a) => /^s3:(\*|Delete)/i.test(a))).toEqual([]);
  });

  it('uses no "*" resource in any IAM policy', () => {
    const wild = statements.filter((s) => asArray(s.Resource).some((r) => r === '*'));
    expect(wild).toEqual([]);
  });

  it('reads objects only under the registry prefix; ListBucket on the bucket ARN alone (404, not 403, for missing keys)', () => {
    const s3 = statements.filter((s) =>
      asArray(s.Action as string).some((a) => a.startsWith('s3:'))
    );
    const get = s3.filter((s) => s.Action === 's3:GetObject');
    const list = s3.filter((s) => s.Action === 's3:ListBucket');
    expect(get).toHaveLength(4);
    expect(list).toHaveLength(4);
    for (const g of get) {
      expect(JSON.stringify(g.Resource)).toContain(
        ':s3:::harbor-registry-prod/docker/registry/v2/*'
      );
    }
    for (const l of list) {
      expect(l.Condition).toBeUndefined();
      expect(JSON.stringify(l.Resource)).toMatch(/:s3:::harbor-registry-prod"\]\]\}$/);
    }
    const put = s3.filter((s) => s.Action === 's3:PutObject');
    expect(put).toHaveLength(2);
    for (const p of put) expect(JSON.stringify(p.Resource)).toContain('pushguard-audit-');
  });
});

describe('Webhook ingress', () => {
  it('keeps access logs off by default, with a synth warning, and no account role', () => {
    const stage = Object.values(resources(pt, 'AWS::ApiGateway::Stage'))[0]!;
    expect(stage.Properties!.AccessLogSetting).toBeUndefined();
    expect(Object.keys(resources(pt, 'AWS::ApiGateway::Account'))).toHaveLength(0);
    const warnings = pipeline.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === 'aws:cdk:warning')
      .map((m) => String(m.data));
    expect(warnings.some((w) => w.includes('Webhook access logs are off'))).toBe(true);
  });

  it('manage-account-role: sets the account role (retained) and writes JSON access logs', () => {
    const { pt: managed } = synth({ apiAccessLogs: 'manage-account-role' });
    const accounts = Object.values(resources(managed, 'AWS::ApiGateway::Account'));
    expect(accounts).toHaveLength(1);
    expect(
      Object.values(
        managed.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>
      )
        .filter((r) => r.Type === 'AWS::ApiGateway::Account')
        .map((r) => r.DeletionPolicy)
    ).toEqual(['Retain']);
    managed.resourceCountIs('AWS::Logs::LogGroup', 7);
  });

  it('reserves webhook concurrency only when configured', () => {
    const { pt: reserved, pipeline: p } = synth({
      webhook: { ...(synth().config.webhook as object), reservedConcurrency: 5 },
    });
    const id = logicalId(p, p.functions.webhook.function);
    expect(
      resources(reserved, 'AWS::Lambda::Function')[id]!.Properties!.ReservedConcurrentExecutions
    ).toBe(5);
  });

  it('existing-account-role: throttles the stage and writes JSON access logs with tracing', () => {
    const { pt } = synth({ apiAccessLogs: 'existing-account-role', logRetentionDays: 90 });
    expect(Object.keys(resources(pt, 'AWS::ApiGateway::Account'))).toHaveLength(0);
    pt.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    pt.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"requestId"'),
      },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
        }),
      ]),
    });
  });

  it('validates the Authorization header and JSON body, and answers a missing header with 401', () => {
    pt.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestParameters: true,
      ValidateRequestBody: true,
    });
    pt.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      RequestParameters: { 'method.request.header.Authorization': true },
      Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
    });
    pt.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_PARAMETERS',
      StatusCode: '401',
    });
  });

  it('attaches a WAF WebACL with a per-IP rate rule and a 64 KB body cap', () => {
    pt.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: { RateBasedStatement: { Limit: 300, AggregateKeyType: 'IP' } },
        }),
        Match.objectLike({
          Statement: {
            SizeConstraintStatement: Match.objectLike({ Size: 65536, ComparisonOperator: 'GT' }),
          },
        }),
      ]),
    });
    pt.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  it('leaves WAF out when enableWaf is false', () => {
    const { pt: noWaf } = synth({ enableWaf: false });
    noWaf.resourceCountIs('AWS::WAFv2::WebACL', 0);
    noWaf.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });
});

describe('Notifications, schedules and monitoring', () => {
  it('encrypts both topics with the customer-managed key (rotation on)', () => {
    const topics = resources(st, 'AWS::SNS::Topic');
    expect(Object.keys(topics)).toHaveLength(2);
    for (const t of Object.values(topics)) {
      expect(t.Properties?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    }
    st.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('subscribes the notify function with a dead-letter queue', () => {
    pt.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
    });
  });

  it('checks windows every minute and sweeps on the configured Scheduler cron', () => {
    pt.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    pt.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      Target: Match.objectLike({
        RetryPolicy: Match.anyValue(),
        DeadLetterConfig: Match.anyValue(),
      }),
    });
  });

  it('alarms on DLQ depth, oldest message age, function errors, findings and sweep fix errors', () => {
    const alarms = Object.values(resources(pt, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties!);
    const metricOf = (a: Record<string, unknown>) =>
      a.MetricName ??
      (a.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[] | undefined)?.[0]
        ?.MetricStat?.Metric.MetricName;
    const byMetric = (name: string) => alarms.filter((a) => metricOf(a) === name);
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toHaveLength(4);
    expect(byMetric('ApproximateAgeOfOldestMessage')).toHaveLength(2);
    expect(byMetric('Errors')).toHaveLength(6);
    expect(byMetric('Findings')).toEqual([
      expect.objectContaining({ Namespace: 'PushGuard', Threshold: 0 }),
    ]);
    expect(byMetric('SweepFixErrors')).toEqual([
      expect.objectContaining({ Namespace: 'PushGuard', Threshold: 0 }),
    ]);
    for (const a of alarms) expect(asArray(a.AlarmActions)).toHaveLength(1);
    pt.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('Registry bucket and audit bucket', () => {
  it('imports the registry bucket and routes ObjectCreated/Removed/LifecycleExpiration under the prefix', () => {
    st.resourceCountIs('AWS::S3::Bucket', 2); // audit + its access logs; the registry is imported
    const n = Object.values(resources(st, 'Custom::S3BucketNotifications'))[0]!.Properties!;
    expect(n.BucketName).toBe('harbor-registry-prod');
    expect(n.Managed).toBe(false);
    const configs = (
      n.NotificationConfiguration as { QueueConfigurations: Record<string, unknown>[] }
    ).QueueConfigurations;
    expect(configs.map((c) => c.Events)).toEqual([
      ['s3:ObjectCreated:*'],
      ['s3:ObjectRemoved:*'],
      ['s3:LifecycleExpiration:*'],
    ]);
    for (const c of configs) {
      expect(c.Filter).toEqual({
        Key: { FilterRules: [{ Name: 'prefix', Value: 'docker/registry/v2/' }] },
      });
    }
  });

  it('routes through EventBridge instead when useEventBridge is set, with the root directory', () => {
    const { st: eb } = synth({ useEventBridge: true, rootDirectory: 'harbor' });
    const n = Object.values(resources(eb, 'Custom::S3BucketNotifications'))[0]!.Properties!;
    expect(n.NotificationConfiguration).toEqual({ EventBridgeConfiguration: {} });
    eb.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created', 'Object Deleted'],
        detail: {
          bucket: { name: ['harbor-registry-prod'] },
          object: { key: [{ prefix: 'harbor/docker/registry/v2/' }] },
        },
      },
    });
  });

  it('keeps audit records under Object Lock, versioned, SSL-only', () => {
    st.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      VersioningConfiguration: { Status: 'Enabled' },
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
      },
      LoggingConfiguration: Match.anyValue(),
    });
    const policies = Object.values(resources(st, 'AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      expect(JSON.stringify(p.Properties!.PolicyDocument)).toContain(
        '"aws:SecureTransport":"false"'
      );
    }
  });
});
