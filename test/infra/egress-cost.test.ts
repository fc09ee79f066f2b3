/**
 * Egress modes validated at synth (a clear message when a SaaS integration has no internet path),
 * the endpoints `vpc-endpoints` creates, and the README's cost table: computed from the
 * synthesized templates of both modes, it must be in the README verbatim (regenerate with
 * `npx tsx lib/cost/templates.ts`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/domain/errors.ts';
import { costTable } from '../../lib/cost/cost-table.ts';
import { costTemplates } from '../../lib/cost/templates.ts';
import { exampleConfig, resources, synth } from './helpers.ts';

const ROUTES = ['rtb-0123456789abcdef0'];

describe('egress modes', () => {
  it('refuses vpc-endpoints with Jira or GitHub configured, naming the fix', () => {
    const config = {
      egress: { mode: 'vpc-endpoints', routeTableIds: ROUTES },
      jira: {
        baseUrl: 'https://example.atlassian.net',
        projectKey: 'OPS',
        email: 'a@example.com',
        tokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jira-AbCdEf',
      },
    };
    let error: unknown;
    try {
      synth(config);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(
      /jira: egress.mode "vpc-endpoints" gives the VPC functions no internet path[\s\S]*use egress.mode "nat"/
    );
  });

  it('refuses vpc-endpoints without the route tables of the S3 gateway endpoint', () => {
    expect(() => synth({ egress: { mode: 'vpc-endpoints' } })).toThrow(/egress.routeTableIds/);
  });

  it('vpc-endpoints: S3 gateway on the route tables, SQS/SNS/Secrets Manager interfaces', () => {
    const { pt } = synth({ egress: { mode: 'vpc-endpoints', routeTableIds: ROUTES } });
    const endpoints = Object.values(resources(pt, 'AWS::EC2::VPCEndpoint')).map(
      (r) => r.Properties!
    );
    expect(endpoints.filter((e) => e.VpcEndpointType === 'Gateway')).toEqual([
      expect.objectContaining({ RouteTableIds: ROUTES }),
    ]);
    const services = endpoints
      .filter((e) => e.VpcEndpointType === 'Interface')
      .map((e) => JSON.stringify(e.ServiceName));
    expect(services.map((s) => /\.(sqs|sns|secretsmanager)"/.exec(s)?.[1]).sort()).toEqual([
      'secretsmanager',
      'sns',
      'sqs',
    ]);
    expect(
      endpoints.filter((e) => e.VpcEndpointType === 'Interface').every((e) => e.PrivateDnsEnabled)
    ).toBe(true);
  });

  it('nat (the default) creates no endpoint', () => {
    expect(exampleConfig().egress).toBeUndefined();
    const { pt } = synth();
    expect(Object.keys(resources(pt, 'AWS::EC2::VPCEndpoint'))).toEqual([]);
  });
});

describe('README cost table', () => {
  it('is the one the synthesized templates give', () => {
    const table = costTable(costTemplates());
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /<!-- cost-table:start -->\n([\s\S]*?)<!-- cost-table:end -->/.exec(readme)?.[1];
    expect(block, 'stale: regenerate with `npx tsx lib/cost/templates.ts`').toBe(table);
  });

  it('counts what the templates bill: endpoints only in vpc-endpoints mode', () => {
    const t = costTemplates();
    expect(costTable(t)).toMatch(
      /VPC interface endpoints \(3, per subnet\) \| \$0\.00 \| \$43\.80 \|/
    );
  });
});
