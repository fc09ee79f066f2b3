/** The one Secrets Manager reader of a function container (values cached per ARN). */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSecrets } from '../../adapters/secrets.ts';
import { observed } from './aws-client.ts';

let instance: SecretsManagerSecrets | undefined;

export function secrets(): SecretsManagerSecrets {
  instance ??= new SecretsManagerSecrets(observed(new SecretsManagerClient({})));
  return instance;
}
