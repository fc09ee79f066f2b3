/**
 * `pushguard/cdk`: PushGuard's CDK constructs for a CDK app of one's own. `PushGuard` is the whole
 * deployment in one construct; `PushGuardStateful` and `PushGuardPipeline` are its two halves, for
 * apps that keep data and functions in separate stacks; `StatefulStack` and `PipelineStack` are the
 * two stacks the repository's own app (bin/app.ts, through lib/app.ts) deploys. Built into
 * dist/cdk/ by `npm run build`.
 */

export { ConfigError } from '../lambdas/domain/errors.ts';
export type { PushGuardConfig, PushGuardConfigInput } from './config.ts';
export { parsePushGuardConfig } from './config.ts';
export { InvalidPropsError } from './constructs/props.ts';
export { PushGuard, type PushGuardProps } from './pushguard.ts';
export {
  PipelineStack,
  type PipelineStackProps,
  PushGuardPipeline,
  type PushGuardPipelineProps,
} from './stacks/pipeline-stack.ts';
export {
  PushGuardStateful,
  type PushGuardStatefulProps,
  type StatefulResources,
  StatefulStack,
  type StatefulStackProps,
} from './stacks/stateful-stack.ts';
