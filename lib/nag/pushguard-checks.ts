/**
 * PushGuard's own cdk-nag pack. `SQSVisibility6x`: every SQS event source's queue has a
 * visibility timeout of at least 6× its function's timeout (cdk-nag's
 * LambdaEventSourceSQSVisibilityTimeout rule, in no prebuilt pack).
 */
import type { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagPack, type NagPackProps, rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export class PushGuardChecks extends NagPack {
  readonly name = 'PushGuard';

  constructor(scope?: IConstruct, props?: NagPackProps) {
    super(scope, props);
    this.packName = 'PushGuard';
  }

  protected checkResource(node: CfnResource): void {
    this.applyRule({
      ruleSuffixOverride: 'SQSVisibility6x',
      info: "The SQS event source's queue visibility timeout is below 6× the function timeout.",
      explanation:
        'Lambda keeps polling and batching while a batch runs; with a shorter visibility ' +
        'timeout a record still being processed is delivered again (AWS: at least 6×).',
      level: NagMessageLevel.ERROR,
      rule: rules.lambda.LambdaEventSourceSQSVisibilityTimeout,
      node,
    });
  }
}
