#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy --all`. Configuration comes from the `pushguard`
 * context object (cdk.json, or `-c pushguard='{...}'`); cdk-nag (AwsSolutions, Serverless and
 * PushGuard's own pack) validates at synth.
 */
import { App } from 'aws-cdk-lib';
import { buildPushGuard } from '../lib/app.ts';

const app = new App();
try {
  buildPushGuard(app);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
app.synth();
