/**
 * Builds the real app (lib/app.ts) from cdk.json's context, with overrides, for the infra tests.
 * Asset bundling is skipped (`aws:cdk:bundling-stacks: []`, what `cdk synth -e` does for other
 * stacks); `npm run synth` keeps the real esbuild bundling.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildPushGuard } from '../../lib/app.ts';

export const cdkJson = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')
) as { context: Record<string, unknown> & { pushguard: Record<string, unknown> } };

export const exampleConfig = () => structuredClone(cdkJson.context.pushguard);

export function appWith(pushguard: unknown, opts: { nag?: boolean } = {}) {
  const app = new App({
    context: { ...cdkJson.context, pushguard, 'aws:cdk:bundling-stacks': [] },
  });
  const built = buildPushGuard(app, {
    nag: opts.nag ?? false,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  return { app, ...built };
}

export function synth(overrides: Record<string, unknown> = {}) {
  const built = appWith({ ...exampleConfig(), ...overrides });
  return {
    ...built,
    st: Template.fromStack(built.stateful),
    pt: Template.fromStack(built.pipeline),
  };
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

/** Every IAM policy statement of a template (inline policies and managed policies). */
export function iamStatements(t: Template): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const resources = t.toJSON().Resources as Record<string, Resource>;
  for (const r of Object.values(resources)) {
    const p = r.Properties ?? {};
    const docs: unknown[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      docs.push(p.PolicyDocument);
    }
    if (r.Type === 'AWS::IAM::Role') {
      for (const ip of (p.Policies as { PolicyDocument: unknown }[] | undefined) ?? []) {
        docs.push(ip.PolicyDocument);
      }
    }
    for (const d of docs) {
      out.push(...((d as { Statement: Record<string, unknown>[] }).Statement ?? []));
    }
  }
  return out;
}

export const asArray = <T>(v: T | T[] | undefined): T[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** Resources of a type, by logical id. */
export function resources(t: Template, type: string): Record<string, Resource> {
  return t.findResources(type) as Record<string, Resource>;
}
