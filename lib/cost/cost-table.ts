/**
 * The README's cost table, computed from the synthesized templates of each egress mode: fixed
 * monthly cost (resources billed by the hour or month, counted in the templates) and the cost of
 * 10,000 pushes a day (requests and Lambda time, from the templates' memory sizes and batch
 * sizes and the per-push usage below). us-east-1 list prices; an estimate, not a quote.
 * test/infra/cost.test.ts fails when the README's table differs from this output.
 */

type Resource = { Type: string; Properties?: Record<string, unknown> };
export interface Templates {
  stateful: { Resources: Record<string, Resource> };
  pipeline: { Resources: Record<string, Resource> };
}

/** us-east-1 list prices (USD). */
export const PRICES = {
  interfaceEndpointHour: 0.01,
  wafAclMonth: 5,
  wafRuleMonth: 1,
  wafPerMillion: 0.6,
  kmsKeyMonth: 1,
  alarmMonth: 0.1,
  dashboardMonth: 3,
  lambdaArmGbSecond: 0.0000133334,
  lambdaPerMillion: 0.2,
  apiGatewayRestPerMillion: 3.5,
  sqsPerMillion: 0.4,
  s3GetPerThousand: 0.0004,
  natPerGb: 0.045,
} as const;

/** What one push costs in requests (distribution 2.8 on S3, Harbor webhook on). */
export const PER_PUSH = {
  /** S3 events of one push (layers, config, manifest, links; `a-normal-push` has 52 for 5 blobs). */
  s3Events: 12,
  webhooks: 1,
  /** HeadObject calls correlation makes. */
  s3Checks: 4,
  /** Milliseconds of the webhook function per call, and of s3-events per batch. */
  webhookMs: 60,
  batchMs: 300,
  /** SQS requests per message: send, receive, delete. */
  sqsRequestsPerMessage: 3,
  /** Bytes through a NAT per push (SQS, S3 HEAD, Secrets Manager, all HTTPS). */
  natBytes: 40_000,
} as const;

const HOURS = 730;
const PUSHES = 10_000 * 30;

function count(t: Templates, type: string, where: (r: Resource) => boolean = () => true): number {
  return [...Object.values(t.stateful.Resources), ...Object.values(t.pipeline.Resources)].filter(
    (r) => r.Type === type && where(r)
  ).length;
}

function memoryOf(t: Templates, description: RegExp): number {
  const fn = Object.values(t.pipeline.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && description.test(String(r.Properties?.Description))
  );
  return Number(fn?.Properties?.MemorySize ?? 512) / 1024;
}

function batchSize(t: Templates): number {
  const m = Object.values(t.pipeline.Resources).find(
    (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties?.BatchSize !== 5
  );
  return Number(m?.Properties?.BatchSize ?? 10);
}

export interface CostLine {
  label: string;
  dollars: number;
}

/** Fixed monthly cost, line by line. */
export function fixedCost(t: Templates): CostLine[] {
  const endpoints = Object.values(t.pipeline.Resources).filter(
    (r) => r.Type === 'AWS::EC2::VPCEndpoint' && r.Properties?.VpcEndpointType === 'Interface'
  );
  const endpointHours = endpoints.reduce(
    (n, r) => n + ((r.Properties?.SubnetIds as unknown[]) ?? []).length * HOURS,
    0
  );
  const acls = Object.values(t.pipeline.Resources).filter((r) => r.Type === 'AWS::WAFv2::WebACL');
  const rules = acls.reduce((n, r) => n + ((r.Properties?.Rules as unknown[]) ?? []).length, 0);
  const checkRuns = 60 * 24 * 30;
  const checkGbs = checkRuns * 0.2 * memoryOf(t, /windows/i);
  return [
    {
      label: `VPC interface endpoints (${endpoints.length}, per subnet)`,
      dollars: endpointHours * PRICES.interfaceEndpointHour,
    },
    {
      label: `WAF (${acls.length} web ACL, ${rules} rules)`,
      dollars: acls.length * PRICES.wafAclMonth + rules * PRICES.wafRuleMonth,
    },
    { label: 'KMS keys', dollars: count(t, 'AWS::KMS::Key') * PRICES.kmsKeyMonth },
    {
      label: `CloudWatch alarms (${count(t, 'AWS::CloudWatch::Alarm')})`,
      dollars: count(t, 'AWS::CloudWatch::Alarm') * PRICES.alarmMonth,
    },
    {
      label: 'CloudWatch dashboard',
      dollars: count(t, 'AWS::CloudWatch::Dashboard') * PRICES.dashboardMonth,
    },
    {
      label: 'window-check every minute (200 ms each)',
      dollars: checkGbs * PRICES.lambdaArmGbSecond + (checkRuns / 1e6) * PRICES.lambdaPerMillion,
    },
  ];
}

/** Monthly cost of 10,000 pushes a day. */
export function usageCost(t: Templates, egress: 'nat' | 'vpc-endpoints'): number {
  const events = PUSHES * PER_PUSH.s3Events;
  const batches = events / batchSize(t);
  const webhooks = PUSHES * PER_PUSH.webhooks;
  const lambdaGbs =
    webhooks * (PER_PUSH.webhookMs / 1000) * memoryOf(t, /webhook/i) +
    batches * (PER_PUSH.batchMs / 1000) * memoryOf(t, /Correlates/i);
  const waf = count(t, 'AWS::WAFv2::WebACL') > 0 ? (webhooks / 1e6) * PRICES.wafPerMillion : 0;
  const nat = egress === 'nat' ? ((PUSHES * PER_PUSH.natBytes) / 1e9) * PRICES.natPerGb : 0;
  return (
    lambdaGbs * PRICES.lambdaArmGbSecond +
    ((webhooks + batches) / 1e6) * PRICES.lambdaPerMillion +
    (webhooks / 1e6) * PRICES.apiGatewayRestPerMillion +
    waf +
    (((events + webhooks) * PER_PUSH.sqsRequestsPerMessage) / 1e6) * PRICES.sqsPerMillion +
    ((PUSHES * PER_PUSH.s3Checks) / 1000) * PRICES.s3GetPerThousand +
    nat
  );
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The Markdown table for the README. */
export function costTable(byMode: Record<'nat' | 'vpc-endpoints', Templates>): string {
  const nat = fixedCost(byMode.nat);
  const vpce = fixedCost(byMode['vpc-endpoints']);
  const sum = (l: CostLine[]) => l.reduce((n, x) => n + x.dollars, 0);
  const rows = [
    '| per month (us-east-1 list prices) | egress `nat` | egress `vpc-endpoints` |',
    '| --- | ---: | ---: |',
    ...nat.map(
      (l, i) =>
        `| ${vpce[i]?.label ?? l.label} | ${usd(l.dollars)} | ${usd(vpce[i]?.dollars ?? 0)} |`
    ),
    `| **fixed total** | **${usd(sum(nat))}** | **${usd(sum(vpce))}** |`,
    `| 10,000 pushes a day (Lambda, API Gateway, WAF, SQS, S3 checks${', NAT data'}) | ${usd(usageCost(byMode.nat, 'nat'))} | ${usd(usageCost(byMode['vpc-endpoints'], 'vpc-endpoints'))} |`,
  ];
  return `${rows.join('\n')}\n`;
}
