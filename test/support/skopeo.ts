/**
 * `skopeo copy` for end-to-end tests, plus plain-HTTP registry helpers (manifest GET/HEAD/PUT).
 *
 * skopeo keeps a blob-info cache that decides whether it mounts layers across repositories. Run
 * as root it is always /var/lib/containers/cache (shared with every other run on the machine), so
 * when we are root skopeo runs as `nobody` with a HOME of its own, which puts the cache under
 * `$HOME/.local/share/containers/cache`. Pushes that share a SkopeoEnv share that cache (so the
 * second repository mounts, as a CI runner that pushed both would); a new SkopeoEnv starts cold.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sharedTmpBase } from './oci-image.ts';

export interface SkopeoEnv {
  home: string;
  tmp: string;
  uid?: number;
  gid?: number;
  /** Removes HOME, its blob-info cache and temporary files. */
  dispose(): void;
}

const NOBODY = 65534;

/** A fresh HOME (and so a fresh blob-info cache) for skopeo; as root, skopeo runs as nobody. */
export function createSkopeoEnv(base = sharedTmpBase()): SkopeoEnv {
  const home = mkdtempSync(join(base, 'pushguard-skopeo-'));
  const tmp = join(home, 'tmp');
  mkdirSync(tmp);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    chownSync(home, NOBODY, NOBODY);
    chownSync(tmp, NOBODY, NOBODY);
  }
  chmodSync(home, 0o755);
  return {
    home,
    tmp,
    uid: asRoot ? NOBODY : undefined,
    gid: asRoot ? NOBODY : undefined,
    dispose: () => rmSync(home, { recursive: true, force: true }),
  };
}

export interface SkopeoResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The manifest digest skopeo pushed (from --digestfile), when it succeeded. */
  digest?: string;
}

export interface CopyOptions {
  /** Destination manifest format; `v2s2` (the default) converts OCI media types like Harbor's clients. */
  format?: 'v2s2' | 'oci' | 'none';
  /** Copy every image of a list (`--all`). */
  all?: boolean;
  extraArgs?: string[];
  /** Kill skopeo after this many ms (default 120 s). */
  timeoutMs?: number;
}

/** Runs `skopeo <args>` in `env`; never throws on a non-zero exit. */
export function runSkopeo(
  env: SkopeoEnv,
  args: string[],
  timeoutMs = 120_000
): Promise<SkopeoResult> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: env.home,
      TMPDIR: env.tmp,
      XDG_RUNTIME_DIR: env.tmp,
      XDG_DATA_HOME: join(env.home, '.local', 'share'),
      XDG_CONFIG_HOME: join(env.home, '.config'),
    };
    const child = spawn('skopeo', args, {
      env: childEnv,
      cwd: env.home,
      uid: env.uid,
      gid: env.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run skopeo (apt-get install -y skopeo): ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let digestFiles = 0;

/**
 * `skopeo copy --dest-tls-verify=false [--format v2s2] <src> docker://<host>/<repo>:<tag>`.
 * `src` is an `oci:<dir>:<tag>` reference.
 */
export async function skopeoCopy(
  env: SkopeoEnv,
  src: string,
  dest: { host: string; repository: string; tag: string },
  opts: CopyOptions = {}
): Promise<SkopeoResult> {
  const digestFile = join(env.tmp, `digest-${process.pid}-${++digestFiles}`);
  const args = [
    '--insecure-policy',
    'copy',
    '--dest-tls-verify=false',
    '--dest-no-creds',
    '--retry-times',
    '0',
    '--digestfile',
    digestFile,
  ];
  const format = opts.format ?? 'v2s2';
  if (format !== 'none') args.push('--format', format);
  if (opts.all) args.push('--all');
  args.push(...(opts.extraArgs ?? []), src, `docker://${dest.host}/${dest.repository}:${dest.tag}`);
  const res = await runSkopeo(env, args, opts.timeoutMs);
  if (res.code === 0) {
    try {
      res.digest = readFileSync(digestFile, 'utf8').trim();
    } catch {
      // no digest file: leave undefined
    }
  }
  rmSync(digestFile, { force: true });
  return res;
}

/** Accept header for every manifest type a v2.8 registry serves. */
export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

export interface ManifestResponse {
  status: number;
  /** Docker-Content-Digest header. */
  digest?: string;
  contentType?: string;
  body: Buffer;
  /** Registry error codes of a 4xx/5xx JSON body (e.g. MANIFEST_UNKNOWN). */
  errors: { code: string; message?: string; detail?: unknown }[];
}

async function toManifestResponse(res: Response): Promise<ManifestResponse> {
  const body = Buffer.from(await res.arrayBuffer());
  let errors: ManifestResponse['errors'] = [];
  if (res.status >= 400 && body.length > 0) {
    try {
      errors =
        (JSON.parse(body.toString()) as { errors?: ManifestResponse['errors'] }).errors ?? [];
    } catch {
      errors = [];
    }
  }
  return {
    status: res.status,
    digest: res.headers.get('docker-content-digest') ?? undefined,
    contentType: res.headers.get('content-type') ?? undefined,
    body,
    errors,
  };
}

/** GET or HEAD `/v2/<repo>/manifests/<ref>` with the usual Accept types. */
export async function fetchManifest(
  registryUrl: string,
  repository: string,
  reference: string,
  method: 'GET' | 'HEAD' = 'GET'
): Promise<ManifestResponse> {
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, {
    method,
    headers: { Accept: MANIFEST_ACCEPT },
    signal: AbortSignal.timeout(15_000),
  });
  return toManifestResponse(res);
}

/** PUT `/v2/<repo>/manifests/<ref>`: a manifest-only (re-)push of bytes already known. */
export async function putManifest(
  registryUrl: string,
  repository: string,
  reference: string,
  body: Buffer,
  mediaType: string
): Promise<ManifestResponse> {
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'Content-Type': mediaType },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  return toManifestResponse(res);
}

/** HEAD `/v2/<repo>/blobs/<digest>`: the status code. */
export async function headBlob(
  registryUrl: string,
  repository: string,
  digest: string
): Promise<number> {
  const res = await fetch(`${registryUrl}/v2/${repository}/blobs/${digest}`, {
    method: 'HEAD',
    signal: AbortSignal.timeout(15_000),
  });
  await res.arrayBuffer();
  return res.status;
}
