/**
 * RestoreSource from a peer registry (a Harbor replication target, a mirror): `GET
 * /v2/<repo>/manifests/<digest>` (Accept: every manifest type, so the peer never converts) or
 * `/v2/<repo>/blobs/<digest>`, streamed into the S3BlobStager, which hashes as it goes and writes
 * nothing unless the bytes hash to the digest. Credentials (`user:password`, from a secret) go as
 * Basic auth, or buy a Bearer token from the realm a 401 names (Harbor, Docker Hub style).
 */
import type { RestoreSource, StagedRestore } from '../ports.ts';
import type { S3BlobStager } from './s3-blob-stager.ts';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryPeerSourceOptions {
  /** `https://host[:port]` of the peer. */
  url: string;
  stager: S3BlobStager;
  /** `user:password` for the peer (from a secret), if it needs one. */
  credentials?: () => Promise<string | undefined>;
  /** Whole transfer deadline. @default 300000 */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class RegistryPeerSource implements RestoreSource {
  readonly name: string;
  private readonly base: string;

  constructor(private readonly o: RegistryPeerSourceOptions) {
    const u = new URL(o.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new RangeError(`peer registry URL must be http(s): ${o.url}`);
    }
    this.base = u.origin;
    this.name = `registry ${this.base}`;
  }

  async stage(req: {
    digest: string;
    key: string;
    repository: string;
    manifest: boolean;
  }): Promise<{ staged: StagedRestore } | { failed: string }> {
    const url = `${this.base}/v2/${req.repository}/${req.manifest ? 'manifests' : 'blobs'}/${req.digest}`;
    const signal = AbortSignal.timeout(this.o.timeoutMs ?? 300_000);
    const headers: Record<string, string> = req.manifest ? { Accept: MANIFEST_ACCEPT } : {};
    let res: Response;
    try {
      res = await this.get(url, headers, signal);
    } catch (err) {
      return { failed: `${url}: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      return { failed: `${url} answered HTTP ${res.status}` };
    }
    const result = await this.o.stager.stage({
      key: req.key,
      digest: req.digest,
      body: res.body as unknown as AsyncIterable<Uint8Array>,
      source: 'registry',
      origin: url,
    });
    return result;
  }

  /** GET with Basic credentials, or with a Bearer token from the realm of a 401. */
  private async get(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal
  ): Promise<Response> {
    const doFetch = this.o.fetch ?? fetch;
    const creds = await this.o.credentials?.();
    const basic = creds ? `Basic ${Buffer.from(creds).toString('base64')}` : undefined;
    const first = await doFetch(url, {
      headers: basic ? { ...headers, Authorization: basic } : headers,
      signal,
    });
    const challenge = first.headers.get('www-authenticate') ?? '';
    if (first.status !== 401 || !/^bearer\s/i.test(challenge)) return first;
    await first.body?.cancel();
    const token = await this.token(challenge, basic, signal);
    return doFetch(url, { headers: { ...headers, Authorization: `Bearer ${token}` }, signal });
  }

  private async token(
    challenge: string,
    basic: string | undefined,
    signal: AbortSignal
  ): Promise<string> {
    const params = new Map<string, string>();
    for (const m of challenge.matchAll(/(\w+)="([^"]*)"/g)) params.set(m[1]!.toLowerCase(), m[2]!);
    const realm = params.get('realm');
    if (!realm) throw new Error('401 with a Bearer challenge that names no realm');
    const u = new URL(realm);
    for (const k of ['service', 'scope']) {
      const v = params.get(k);
      if (v) u.searchParams.set(k, v);
    }
    const res = await (this.o.fetch ?? fetch)(u, {
      headers: basic ? { Authorization: basic } : {},
      signal,
    });
    if (res.status !== 200)
      throw new Error(`token endpoint ${u.origin} answered HTTP ${res.status}`);
    const body = (await res.json()) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') throw new Error('token endpoint gave no token');
    return token;
  }
}
