import { describe, expect, it } from 'vitest';
import { registryConfigYaml } from '../../lambdas/local/registry-config.ts';

describe('registry config.yml snippet', () => {
  it('has the S3 endpoint, bucket, region, credentials, root directory and Redis DB', () => {
    const yaml = registryConfigYaml({
      s3Endpoint: 'http://127.0.0.1:4566',
      bucket: 'registry',
      region: 'us-east-1',
      accessKey: 'ak',
      secretKey: 'sk',
      rootDirectory: 'harbor',
      redisUrl: 'redis://:p%40ss@127.0.0.1:6390',
      registryDb: 2,
    });
    const lines = yaml.split('\n');
    for (const want of [
      'storage:',
      '  s3:',
      '    regionendpoint: http://127.0.0.1:4566',
      '    bucket: registry',
      '    region: us-east-1',
      '    accesskey: ak',
      '    secretkey: sk',
      '    secure: false',
      '    v4auth: true',
      '    rootdirectory: /harbor',
      '    blobdescriptor: redis',
      'redis:',
      '  addr: 127.0.0.1:6390',
      '  db: 2',
      '  password: "p@ss"',
    ]) {
      expect(lines).toContain(want);
    }
    expect(yaml).toContain('WITHOUT AWS_CA_BUNDLE');
  });

  it('leaves out rootdirectory and password when there are none', () => {
    const yaml = registryConfigYaml({
      s3Endpoint: 'http://127.0.0.1:1',
      bucket: 'b',
      region: 'us-east-1',
      accessKey: 'a',
      secretKey: 's',
      rootDirectory: '',
      redisUrl: 'redis://127.0.0.1:6379',
      registryDb: 1,
    });
    expect(yaml).not.toContain('rootdirectory');
    expect(yaml).not.toContain('password');
  });
});
