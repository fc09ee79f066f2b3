/**
 * The only Powertools Logger instance. Service name from POWERTOOLS_SERVICE_NAME (set by
 * PipelineFunction). Never log webhook bodies, headers or secret values.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pushguard',
});
