/** The `config.yml` lines a distribution 2.8 registry needs to use `pushguard local`. */

export interface RegistrySettings {
  s3Endpoint: string;
  bucket: string;
  region: string;
  accessKey: string;
  secretKey: string;
  /** Root directory inside the bucket; empty for none. */
  rootDirectory: string;
  /** `redis://[user:pass@]host:port` */
  redisUrl: string;
  registryDb: number;
}

/** A YAML snippet to paste into the registry's config.yml (storage.s3, cache, redis). */
export function registryConfigYaml(s: RegistrySettings): string {
  const redis = new URL(s.redisUrl);
  const lines = [
    '# Registry config.yml (distribution 2.8 / Harbor registry): storage and cache for pushguard local.',
    '# Start the registry WITHOUT AWS_CA_BUNDLE in its environment (the s3aws driver panics on it).',
    'storage:',
    '  s3:',
    `    region: ${s.region}`,
    `    regionendpoint: ${s.s3Endpoint}`,
    `    bucket: ${s.bucket}`,
    `    accesskey: ${s.accessKey}`,
    `    secretkey: ${s.secretKey}`,
    '    secure: false',
    '    v4auth: true',
  ];
  if (s.rootDirectory) lines.push(`    rootdirectory: /${s.rootDirectory.replace(/^\/+/, '')}`);
  lines.push(
    '  cache:',
    '    blobdescriptor: redis',
    '  redirect:',
    '    disable: true',
    'redis:',
    `  addr: ${redis.hostname}:${redis.port || 6379}`,
    `  db: ${s.registryDb}`
  );
  if (redis.password)
    lines.push(`  password: ${JSON.stringify(decodeURIComponent(redis.password))}`);
  return `${lines.join('\n')}\n`;
}
