/**
 * `pushguard preflight` against local stand-ins of the read-only APIs it calls, each answering
 * as the API reference documents it (S3 GetBucketNotificationConfiguration XML, API Gateway
 * GetAccount JSON, Lambda GetAccountSettings JSON, EC2 DescribeRouteTables/DescribeVpcEndpoints
 * XML) and refusing unsigned or misrouted requests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsPreflight } from '../../lambdas/adapters/aws-preflight.ts';
import { runPreflightCommand } from '../../lambdas/cli/actions/preflight.ts';

const REGION = 'eu-west-1';
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
const ARN = (n: string, region = REGION) =>
  `arn:aws:secretsmanager:${region}:123456789012:secret:pushguard/${n}-AbCdEf`;

interface World {
  rules: { id: string; event: string; prefix: string }[];
  role?: string;
  unreserved: number;
  /** 0.0.0.0/0 target of the subnets' table. */
  defaultRoute: string;
  endpoints: { type: string; service: string }[];
}

let world: World;
const seen: string[] = [];
const refused: string[] = [];
let server: Server;
let endpoint: string;
let dir: string;

function s3Xml(): string {
  const rules = world.rules
    .map(
      (r) =>
        `<QueueConfiguration><Id>${r.id}</Id><Queue>arn:aws:sqs:${REGION}:123456789012:${r.id}</Queue><Event>${r.event}</Event>` +
        `<Filter><S3Key><FilterRule><Name>Prefix</Name><Value>${r.prefix}</Value></FilterRule></S3Key></Filter></QueueConfiguration>`
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</NotificationConfiguration>`;
}

function routeTablesXml(): string {
  const target = world.defaultRoute.startsWith('nat-')
    ? `<natGatewayId>${world.defaultRoute}</natGatewayId>`
    : `<gatewayId>${world.defaultRoute}</gatewayId>`;
  const assoc = SUBNETS.map(
    (s, i) =>
      `<item><routeTableAssociationId>rtbassoc-${i}</routeTableAssociationId><routeTableId>rtb-0123456789abcdef0</routeTableId><subnetId>${s}</subnetId><main>false</main></item>`
  ).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><DescribeRouteTablesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><routeTableSet><item><routeTableId>rtb-0123456789abcdef0</routeTableId><vpcId>vpc-0123456789abcdef0</vpcId><routeSet><item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><state>active</state></item><item><destinationCidrBlock>0.0.0.0/0</destinationCidrBlock>${target}<state>active</state></item></routeSet><associationSet>${assoc}</associationSet></item></routeTableSet></DescribeRouteTablesResponse>`;
}

function endpointsXml(): string {
  const items = world.endpoints
    .map(
      (e, i) =>
        `<item><vpcEndpointId>vpce-${i}</vpcEndpointId><vpcEndpointType>${e.type}</vpcEndpointType><vpcId>vpc-0123456789abcdef0</vpcId><serviceName>${e.service}</serviceName><privateDnsEnabled>${e.type === 'Interface'}</privateDnsEnabled><routeTableIdSet/></item>`
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><DescribeVpcEndpointsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-2</requestId><vpcEndpointSet>${items}</vpcEndpointSet></DescribeVpcEndpointsResponse>`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pushguard-preflight-'));
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://local');
      const send = (status: number, type: string, text: string) => {
        res.writeHead(status, { 'content-type': type });
        res.end(text);
      };
      if (!String(req.headers.authorization).startsWith('AWS4-HMAC-SHA256')) {
        refused.push(`${req.method} ${url.pathname} unsigned`);
        return send(403, 'application/xml', '<Error><Code>AccessDenied</Code></Error>');
      }
      if (
        req.method === 'GET' &&
        /^\/harbor-registry-prod\/?$/.test(url.pathname) &&
        url.searchParams.has('notification')
      ) {
        seen.push('s3:GetBucketNotificationConfiguration');
        return send(200, 'application/xml', s3Xml());
      }
      if (req.method === 'GET' && url.pathname === '/account') {
        seen.push('apigateway:GetAccount');
        const account = {
          throttleSettings: { burstLimit: 5000, rateLimit: 10000 },
          ...(world.role ? { cloudwatchRoleArn: world.role } : {}),
        };
        return send(200, 'application/json', JSON.stringify(account));
      }
      if (req.method === 'GET' && url.pathname.startsWith('/2016-08-19/account-settings')) {
        seen.push('lambda:GetAccountSettings');
        const limit = {
          TotalCodeSize: 80530636800,
          CodeSizeUnzipped: 262144000,
          CodeSizeZipped: 52428800,
          ConcurrentExecutions: 1000,
          UnreservedConcurrentExecutions: world.unreserved,
        };
        return send(
          200,
          'application/json',
          JSON.stringify({
            AccountLimit: limit,
            AccountUsage: { TotalCodeSize: 0, FunctionCount: 0 },
          })
        );
      }
      const form = new URLSearchParams(body);
      if (
        req.method === 'POST' &&
        form.get('Action') === 'DescribeRouteTables' &&
        form.get('Filter.1.Name') === 'vpc-id'
      ) {
        seen.push('ec2:DescribeRouteTables');
        return send(200, 'text/xml', routeTablesXml());
      }
      if (req.method === 'POST' && form.get('Action') === 'DescribeVpcEndpoints') {
        seen.push('ec2:DescribeVpcEndpoints');
        return send(200, 'text/xml', endpointsXml());
      }
      refused.push(`${req.method} ${req.url} ${form.get('Action') ?? ''}`);
      send(400, 'application/xml', '<Error><Code>InvalidAction</Code></Error>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const baseConfig = {
  registryBucketName: 'harbor-registry-prod',
  registryDb: 1,
  harborHost: 'harbor.example.com',
  redis: { host: 'redis.internal', db: 9, authSecretArn: ARN('redis-auth') },
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: SUBNETS,
  redisCidr: '10.0.0.0/16',
  webhook: { secretArn: ARN('webhook-current') },
};

async function preflight(config: Record<string, unknown>) {
  const file = join(dir, `c-${seen.length}.json`);
  writeFileSync(file, JSON.stringify(config));
  const lines: string[] = [];
  const aws = new AwsPreflight({
    region: REGION,
    endpoints: { s3: endpoint, apigateway: endpoint, lambda: endpoint, ec2: endpoint },
    credentials: { accessKeyId: 'AKIDPREFLIGHT', secretAccessKey: 'secret' },
  });
  const code = await runPreflightCommand(
    { config: file, region: REGION, json: true },
    { out: (l) => lines.push(l) },
    aws
  );
  aws.destroy();
  const results = lines.map(
    (l) => JSON.parse(l) as { check: string; status: string; detail: string }
  );
  return {
    code,
    results,
    byCheck: (prefix: string) => results.find((r) => r.check.startsWith(prefix))!,
  };
}

describe('pushguard preflight', () => {
  it('a ready account: every check ok, exit 0, each API called once, signed', async () => {
    world = {
      rules: [{ id: 'audit-logs', event: 's3:ObjectCreated:*', prefix: 'logs/' }],
      role: 'arn:aws:iam::123456789012:role/apigw-logs',
      unreserved: 1000,
      defaultRoute: 'nat-0123456789abcdef0',
      endpoints: [],
    };
    seen.length = 0;
    const { code, results } = await preflight(baseConfig);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(code).toBe(0);
    expect(seen.sort()).toEqual(
      [
        'apigateway:GetAccount',
        'ec2:DescribeRouteTables',
        'ec2:DescribeVpcEndpoints',
        'lambda:GetAccountSettings',
        's3:GetBucketNotificationConfiguration',
      ].sort()
    );
    expect(refused).toEqual([]);
  });

  it('names the overlapping rule and suggests useEventBridge; fails every blocker; exit 1', async () => {
    world = {
      rules: [{ id: 'registry-all', event: 's3:ObjectCreated:Put', prefix: 'docker/' }],
      unreserved: 120,
      defaultRoute: 'igw-0123456789abcdef0',
      endpoints: [],
    };
    const { code, byCheck } = await preflight({
      ...baseConfig,
      apiAccessLogs: 'existing-account-role',
      webhook: { ...baseConfig.webhook, reservedConcurrency: 50 },
      slack: { webhookSecretArn: ARN('slack', 'us-east-1') },
    });
    expect(code).toBe(1);
    expect(byCheck('registry bucket notifications')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(
        /"registry-all"[\s\S]*Configurations overlap[\s\S]*"useEventBridge": true/
      ),
    });
    expect(byCheck('API Gateway')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('no API Gateway CloudWatch role'),
    });
    expect(byCheck('Lambda concurrency')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('leave 70 unreserved'),
    });
    expect(byCheck("subnets' routes")).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('it goes to igw-0123456789abcdef0'),
    });
    expect(byCheck('secrets region')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(ARN('slack', 'us-east-1')),
    });
  });

  it('with useEventBridge the same rule is no obstacle', async () => {
    world = {
      rules: [{ id: 'registry-all', event: 's3:ObjectCreated:*', prefix: '' }],
      role: 'arn:aws:iam::123456789012:role/x',
      unreserved: 1000,
      defaultRoute: 'nat-0123456789abcdef0',
      endpoints: [],
    };
    const { byCheck } = await preflight({ ...baseConfig, useEventBridge: true });
    expect(byCheck('registry bucket notifications').status).toBe('ok');
  });

  it("vpc-endpoints: an existing private-DNS interface endpoint would clash with the stack's", async () => {
    world = {
      rules: [],
      role: 'arn:aws:iam::123456789012:role/x',
      unreserved: 1000,
      defaultRoute: 'nat-0123456789abcdef0',
      endpoints: [{ type: 'Interface', service: `com.amazonaws.${REGION}.sqs` }],
    };
    const { code, byCheck } = await preflight({
      ...baseConfig,
      egress: { mode: 'vpc-endpoints', routeTableIds: ['rtb-0123456789abcdef0'] },
    });
    expect(code).toBe(1);
    expect(byCheck("subnets' routes")).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('interface endpoint for sqs with private DNS already exists'),
    });
  });
});
