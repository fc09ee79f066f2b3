/**
 * Seed-bug detection latency behind a real registry, p50/p95 over 20 runs (moved here from the
 * e2e suite: a figure, not a test). The e2e stack (test/e2e/harness.ts): Debian's docker-registry
 * on the S3 emulator of `pushguard local --enforce`, window 4 s. Per run: push a fresh one-layer
 * image with skopeo, GET it (the registry caches `blobs::<M>`), delete the manifest and its data,
 * then PUT the manifest again (201; the revision link is written inside this PUT). Timed from the
 * PUT to the `action` line and to `blobs::<M>` gone. bench/latency.bench.ts measures the same
 * path without a registry.
 *
 * Runs alone with `npx tsx bench/registry-latency.bench.ts` (starts its own redis-server, registry
 * and `pushguard local`). Prints figures; never fails on speed.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  percentile,
  removeAndRecache,
  type Stack,
  startStack,
  waitLine,
} from '../test/e2e/harness.ts';
import { buildImage } from '../test/support/oci-image.ts';
import { fetchManifest, putManifest, skopeoCopy } from '../test/support/skopeo.ts';
import type { Figure } from './figures.ts';

const RUNS = 20;
const WINDOW_MS = 4_000;
const V2S2 = 'application/vnd.docker.distribution.manifest.v2+json';

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`registry latency bench: ${what}`);
}

/** One run: the seed bug reproduced on `repo`; ms from the manifest PUT to action and to clear. */
async function oneRun(stack: Stack, i: number): Promise<{ toAction: number; toCleared: number }> {
  const repo = `latency/run-${i}`;
  const img = buildImage({
    dir: join(stack.work, `lat-${i}`),
    seed: `e2e-latency-${i}`,
    layers: [2_048],
    tag: 'v1',
  });
  const pushed = await skopeoCopy(stack.skopeo, img.ref, {
    host: stack.registry.host,
    repository: repo,
    tag: 'v1',
  });
  check(pushed.code === 0 && pushed.digest !== undefined, `push ${repo}: ${pushed.stderr}`);
  const m = pushed.digest!;
  const got = await fetchManifest(stack.registry.url, repo, 'v1');
  check(got.status === 200, `GET ${repo}:v1 answered ${got.status}`);
  const del = await fetch(`${stack.registry.url}/v2/${repo}/manifests/${m}`, { method: 'DELETE' });
  check(del.status === 202, `DELETE ${repo}@${m} answered ${del.status}`);
  // Cleared on the removal (issue 12), then cached again as a registry sharing the DB would.
  await removeAndRecache(stack, m);
  const t0 = performance.now();
  const put = await putManifest(stack.registry.url, repo, 'v1', got.body, V2S2);
  check(put.status === 201, `PUT ${repo}:v1 answered ${put.status}`);
  const action = waitLine(stack, 'action', repo, 'manifest-data-missing', m);
  let cleared = Number.NaN;
  while (performance.now() - t0 < 30_000) {
    if ((await stack.cache.exists(`blobs::${m}`)) === 0) {
      cleared = performance.now();
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  check(!Number.isNaN(cleared), `blobs::${m} still cached 30 s after the re-push`);
  return { toAction: (await action).at - t0, toCleared: cleared - t0 };
}

export async function run(): Promise<Figure[]> {
  const stack = await startStack({ rootDirectory: '/harbor', windowMs: WINDOW_MS, enforce: true });
  const toAction: number[] = [];
  const toCleared: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const r = await oneRun(stack, i);
      toAction.push(r.toAction);
      toCleared.push(r.toCleared);
    }
  } finally {
    await stack.stop();
  }
  const a = [...toAction].sort((x, y) => x - y);
  const c = [...toCleared].sort((x, y) => x - y);
  const what = `real registry, ${RUNS} runs, window ${WINDOW_MS / 1000} s`;
  return [
    {
      name: `latency: manifest PUT → action line, p50 (${what})`,
      value: percentile(a, 50),
      unit: 'ms',
    },
    {
      name: `latency: manifest PUT → action line, p95 (${what})`,
      value: percentile(a, 95),
      unit: 'ms',
    },
    {
      name: `latency: manifest PUT → blobs::<M> gone, p50 (${what})`,
      value: percentile(c, 50),
      unit: 'ms',
    },
    {
      name: `latency: manifest PUT → blobs::<M> gone, p95 (${what})`,
      value: percentile(c, 95),
      unit: 'ms',
      goal: '≤ 2,000 ms',
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Node 20 like the CLI; the SDK's Node 22 notice is noise here (bench/run.ts sets the same).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  for (const f of await run()) {
    console.log(`${f.name}: ${f.value.toFixed(0)} ${f.unit}${f.goal ? `  goal: ${f.goal}` : ''}`);
  }
}
