/**
 * `pushguard preflight`: what a first `cdk deploy` depends on, checked with read-only calls
 * before anything is created, each with a verdict and what to do.
 */
import type { BucketNotificationRule, PreflightAws } from '../ports.ts';

export interface PreflightConfig {
  region: string;
  registryBucketName: string;
  /** `[root/]docker/registry/v2/`. */
  registryPrefix: string;
  useEventBridge: boolean;
  apiAccessLogs: 'off' | 'existing-account-role' | 'manage-account-role';
  reservedConcurrency?: number;
  vpcId: string;
  subnetIds: readonly string[];
  egress: { mode: 'nat' | 'vpc-endpoints'; routeTableIds?: readonly string[] };
  secretArns: readonly string[];
}

export interface CheckResult {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

/** The events PushGuard's notification asks for (lib/constructs/s3-to-sqs.ts). */
const OURS = ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'];

function eventsOverlap(a: string, b: string): boolean {
  const base = (e: string) => e.replace(/:\*$/, '');
  return (
    a === b || a.startsWith(`${base(b)}:`) || b.startsWith(`${base(a)}:`) || base(a) === base(b)
  );
}

/** S3 refuses two rules whose event types overlap and whose prefixes and suffixes overlap. */
export function overlapsOurs(rule: BucketNotificationRule, prefix: string): boolean {
  const events = rule.events.some((e) => OURS.some((o) => eventsOverlap(e, o)));
  const prefixes = rule.prefix.startsWith(prefix) || prefix.startsWith(rule.prefix);
  return events && prefixes;
}

async function notifications(aws: PreflightAws, c: PreflightConfig): Promise<CheckResult> {
  const check = 'registry bucket notifications';
  if (c.useEventBridge) {
    return { check, status: 'ok', detail: 'useEventBridge: the bucket notification is not used' };
  }
  const { rules } = await aws.bucketNotifications(c.registryBucketName);
  const clash = rules.filter((r) => overlapsOurs(r, c.registryPrefix));
  if (clash.length === 0) {
    return { check, status: 'ok', detail: `${rules.length} existing rule(s), none overlaps` };
  }
  const names = clash.map(
    (r) => `"${r.id}" (${r.events.join(', ')} on "${r.prefix}*" → ${r.target})`
  );
  return {
    check,
    status: 'fail',
    detail:
      `rule ${names.join(', ')} overlaps PushGuard's (${OURS.join(', ')} on "${c.registryPrefix}*"): ` +
      'S3 would reject it ("Configurations overlap") and the stateful stack would roll back. ' +
      'Set "useEventBridge": true (PushGuard then listens through EventBridge), or narrow that rule.',
  };
}

async function apiAccount(aws: PreflightAws, c: PreflightConfig): Promise<CheckResult> {
  const check = 'API Gateway CloudWatch role';
  const role = await aws.apiGatewayCloudWatchRole();
  if (c.apiAccessLogs === 'existing-account-role' && !role) {
    return {
      check,
      status: 'fail',
      detail:
        'apiAccessLogs is "existing-account-role" but the account has no API Gateway ' +
        'CloudWatch role: the stage would fail to create. Use "manage-account-role" or "off".',
    };
  }
  if (c.apiAccessLogs === 'manage-account-role' && role) {
    return { check, status: 'warn', detail: `the stack will replace the account's role ${role}` };
  }
  if (c.apiAccessLogs === 'off') {
    return { check, status: 'ok', detail: `access logs off (account role: ${role ?? 'none'})` };
  }
  return { check, status: 'ok', detail: `account role: ${role ?? 'to be created by the stack'}` };
}

async function concurrency(aws: PreflightAws, c: PreflightConfig): Promise<CheckResult> {
  const check = 'Lambda concurrency';
  const { limit, unreserved } = await aws.concurrency();
  const wanted = c.reservedConcurrency ?? 0;
  if (unreserved - wanted < 100) {
    return {
      check,
      status: 'fail',
      detail:
        `reserving ${wanted} would leave ${unreserved - wanted} unreserved of ${limit} (Lambda ` +
        'keeps at least 100): unset webhook.reservedConcurrency or raise the quota.',
    };
  }
  return {
    check,
    status: 'ok',
    detail: `quota ${limit}, unreserved ${unreserved}, reserving ${wanted}`,
  };
}

const INTERFACE = ['sqs', 'sns', 'secretsmanager'];

async function routes(aws: PreflightAws, c: PreflightConfig): Promise<CheckResult> {
  const check = `subnets' routes (egress ${c.egress.mode})`;
  const tables = await aws.subnetRoutes(c.vpcId, c.subnetIds);
  const endpoints = await aws.vpcEndpoints(c.vpcId);
  const problems: string[] = [];
  if (c.egress.mode === 'nat') {
    for (const t of tables) {
      const out = t.routes.find((r) => r.destination === '0.0.0.0/0');
      const nat = out && /^nat-/.test(out.target);
      const s3 = endpoints.some(
        (e) => e.service.endsWith('.s3') && e.routeTableIds.includes(t.routeTableId ?? '')
      );
      if (!nat) {
        problems.push(
          `${t.subnetId} has no 0.0.0.0/0 route to a NAT gateway (${out ? `it goes to ${out.target}` : 'none'})${s3 ? '; S3 has a gateway endpoint' : ''}: no path to SQS, SNS, Secrets Manager, Jira, GitHub`
        );
      }
    }
  } else {
    for (const svc of INTERFACE) {
      const e = endpoints.find(
        (x) => x.service.endsWith(`.${svc}`) && x.type === 'Interface' && x.privateDns
      );
      if (e) {
        problems.push(
          `an interface endpoint for ${svc} with private DNS already exists in ${c.vpcId}: the stack's would conflict; use egress "nat" (the existing endpoints are then used) or remove it`
        );
      }
    }
    const s3 = endpoints.filter(
      (e) =>
        e.service.endsWith('.s3') &&
        e.type === 'Gateway' &&
        e.routeTableIds.some((r) => c.egress.routeTableIds?.includes(r))
    );
    if (s3.length > 0)
      problems.push(
        "an S3 gateway endpoint already serves these route tables: the stack's would conflict"
      );
  }
  if (problems.length > 0) return { check, status: 'fail', detail: problems.join('; ') };
  return {
    check,
    status: 'ok',
    detail: `${tables.length} subnet(s) checked, ${endpoints.length} endpoint(s) in the VPC`,
  };
}

function secretsRegion(c: PreflightConfig): CheckResult {
  const check = 'secrets region';
  const away = c.secretArns.filter((a) => a.split(':')[3] !== c.region);
  if (away.length > 0) {
    return {
      check,
      status: 'fail',
      detail: `not in ${c.region}, where the functions read them: ${away.join(', ')}`,
    };
  }
  return { check, status: 'ok', detail: `${c.secretArns.length} secret(s) in ${c.region}` };
}

/** Runs every check; a check whose call fails reports that (it never stops the others). */
export async function runPreflight(aws: PreflightAws, c: PreflightConfig): Promise<CheckResult[]> {
  const guard = async (check: string, f: () => Promise<CheckResult>): Promise<CheckResult> => {
    try {
      return await f();
    } catch (err) {
      const e = err as { name?: string; message?: string };
      return {
        check,
        status: 'fail',
        detail: `could not check: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`,
      };
    }
  };
  return [
    await guard('registry bucket notifications', () => notifications(aws, c)),
    await guard('API Gateway CloudWatch role', () => apiAccount(aws, c)),
    await guard('Lambda concurrency', () => concurrency(aws, c)),
    await guard(`subnets' routes (egress ${c.egress.mode})`, () => routes(aws, c)),
    secretsRegion(c),
  ];
}
