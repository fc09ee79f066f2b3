/**
 * Helpers of the restore end-to-end tests: registry B (a second Debian docker-registry on local
 * filesystem storage, the peer PushGuard restores from), pushes to A and B, a real
 * `docker-registry garbage-collect` run on A, and raw blob reads.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { sharedTmpBase } from '../support/oci-image.ts';
import { cleanEnv, type RunningRegistry, startRegistry } from '../support/registry.ts';
import { type CopyOptions, type SkopeoEnv, skopeoCopy } from '../support/skopeo.ts';

export interface Peer {
  registry: RunningRegistry;
  /** Filesystem root of B's storage. */
  dir: string;
  stop(): Promise<void>;
}

export async function startPeer(): Promise<Peer> {
  const dir = mkdtempSync(join(sharedTmpBase(), 'pushguard-peer-'));
  const registry = await startRegistry({ storage: { kind: 'filesystem', dir }, logLevel: 'warn' });
  return {
    registry,
    dir,
    stop: async () => {
      await registry.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pushes `ref` to every registry given; returns the manifest digest (the same everywhere). */
export async function pushTo(
  skopeo: SkopeoEnv,
  ref: string,
  hosts: readonly string[],
  dest: { repository: string; tag: string },
  opts: CopyOptions = {}
): Promise<string> {
  const digests: string[] = [];
  for (const host of hosts) {
    const res = await skopeoCopy(skopeo, ref, { host, ...dest }, opts);
    expect(res.stderr, `skopeo push to ${host}/${dest.repository}:${dest.tag}`).toBe('');
    expect(res.code).toBe(0);
    digests.push(res.digest!);
  }
  expect(new Set(digests).size).toBe(1);
  return digests[0]!;
}

/** The path of a blob's data in a filesystem registry. */
export function peerBlobPath(peer: Peer, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(
    peer.dir,
    'docker',
    'registry',
    'v2',
    'blobs',
    'sha256',
    hex.slice(0, 2),
    hex,
    'data'
  );
}

/** Replaces B's copy of a blob with bytes of the same length that hash to something else. */
export function corruptPeerBlob(peer: Peer, digest: string): void {
  const path = peerBlobPath(peer, digest);
  const bytes = readFileSync(path);
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1]! + 1) & 0xff;
  writeFileSync(path, bytes);
}

/** GET `/v2/<repo>/blobs/<digest>`: status and bytes. */
export async function getBlob(
  registryUrl: string,
  repository: string,
  digest: string
): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(`${registryUrl}/v2/${repository}/blobs/${digest}`, {
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** `docker-registry garbage-collect <config>` on a registry's own config; resolves with its output. */
export function garbageCollect(registry: RunningRegistry): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker-registry', ['garbage-collect', registry.configPath], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`garbage-collect exited ${code}:\n${out}`))
    );
  });
}
