/**
 * The ingest, window-check and check-runner use cases on MemoryWindowStore (pure, no I/O). The
 * storage checker here is an in-memory implementation of the StorageChecker port; the S3 adapter
 * itself is exercised against fauxqs in test/integration/window-store-checks.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../../lambdas/adapters/memory-window-store.ts';
import { runChecks } from '../../../lambdas/app/check-runner.ts';
import { ingestBatch } from '../../../lambdas/app/ingest.ts';
import { closeDueWindows } from '../../../lambdas/app/window-check.ts';
import type { EngineConfig } from '../../../lambdas/domain/engine.ts';
import { MalformedEventError } from '../../../lambdas/domain/errors.ts';
import { normalizeMessage } from '../../../lambdas/domain/events.ts';
import type { Check, Finding } from '../../../lambdas/domain/types.ts';
import type { Presence, StorageChecker, WindowStore } from '../../../lambdas/ports.ts';

const W = 60_000;
const ENGINE: EngineConfig = { windowMs: W, reportUnverified: false, rootDirectory: 'harbor' };
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
const STALE_M = 'sha256:8253b6d46b72820709392205cadf4f4e6219a47441d5406c3068e37d278ee09a';
const APP_M = 'sha256:2e5f30335435090b159c7142b2d0e275e53038b6760d8b78a0783373dd1f5b11';
const LAYER = `sha256:${'1'.repeat(64)}`;
const CONFIG = `sha256:${'2'.repeat(64)}`;

function trace(...names: string[]): { id: string; body: string }[] {
  return names.flatMap((name) =>
    readFileSync(join(FIXTURES, 'registry-traces', `${name}.s3events.ndjson`), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((body, i) => ({ id: `${name}#${i + 1}`, body }))
  );
}
const lastTime = (records: { body: string }[]) =>
  Math.max(
    ...records.flatMap((r) =>
      normalizeMessage(r.body, { rootDirectory: 'harbor' }).events.map((e) => e.time)
    )
  );

function clockAt(t: number) {
  const clock = {
    t,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

function publisher(failures = 0) {
  const p = {
    published: [] as Finding[],
    async publish(findings: readonly Finding[]) {
      if (failures-- > 0) throw new Error('queue unavailable');
      p.published.push(...findings);
    },
  };
  return p;
}

const kinds = (findings: readonly Finding[]) =>
  findings.map((f) => `${f.kind} ${f.repository} ${f.digest ?? f.uploadId ?? ''} ${f.verified}`);

/** StorageChecker port over a set of keys; counts calls and concurrency; can fail. */
class KeySetChecker implements StorageChecker {
  heads: string[] = [];
  reads: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly present: Set<string>,
    private readonly manifests: Record<string, string[]> = {},
    private readonly failing: Set<string> = new Set()
  ) {}
  async head(key: string): Promise<Presence> {
    this.heads.push(key);
    return this.answer(key, () => (this.present.has(key) ? 'present' : 'missing'));
  }
  async readManifest(key: string) {
    this.reads.push(key);
    return this.answer(key, () =>
      this.present.has(key)
        ? { presence: 'present' as const, references: this.manifests[key] ?? [] }
        : { presence: 'missing' as const }
    );
  }
  private async answer<T>(key: string, fn: () => T): Promise<T> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setImmediate(r));
    this.inFlight--;
    if (this.failing.has(key)) throw new Error('ETIMEDOUT');
    return fn();
  }
}

const dataKey = (d: string) =>
  `harbor/docker/registry/v2/blobs/sha256/${d.slice(7, 9)}/${d.slice(7)}/data`;

describe('Function: ingestBatch()', () => {
  it('fails a malformed record alone, skips a TestEvent, applies the rest', async () => {
    // Prepare
    const store = new MemoryWindowStore({ engine: ENGINE });
    const good = trace('e1-push').slice(0, 5);
    const testEvent = readFileSync(join(FIXTURES, 's3-events', 's3_sqs_test_event.json'), 'utf8');
    const records = [
      ...good,
      { id: 'test', body: testEvent },
      { id: 'bad-json', body: '{"Records": [' },
      { id: 'bad-field', body: '{"Records":[{"eventName":"ObjectCreated:Put"}]}' },
    ];
    // Act
    const result = await ingestBatch(records, {
      store,
      publisher: publisher(),
      clock: clockAt(lastTime(good)),
    });
    // Assess
    expect(result.failures.map((f) => f.id)).toEqual(['bad-json', 'bad-field']);
    for (const f of result.failures) expect(f.error).toBeInstanceOf(MalformedEventError);
    expect(result.skipped).toBe(1);
    expect(result.events).toBe(5);
    expect(result.duplicates).toBe(0);
    expect([...store.snapshot().scopes.keys()]).toContain('repo:library/stale');
  });

  it('fails every record that carried events when the store throws, and still reports the bad one', async () => {
    const down: WindowStore = new MemoryWindowStore({ engine: ENGINE });
    down.apply = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    };
    const good = trace('e1-push').slice(0, 3);
    const result = await ingestBatch([...good, { id: 'bad', body: 'nope' }], {
      store: down,
      publisher: publisher(),
      clock: clockAt(0),
    });
    expect(result.failures.map((f) => f.id).sort()).toEqual(
      ['bad', ...good.map((g) => g.id)].sort()
    );
    expect(result.failures.find((f) => f.id === 'bad')!.error).toBeInstanceOf(MalformedEventError);
    expect(result.failures.find((f) => f.id === good[0]!.id)!.error.message).toMatch(
      /ECONNREFUSED/
    );
  });

  it('e1+e2+e3 with no checker: exactly one manifest-data-missing once the windows close', async () => {
    const store = new MemoryWindowStore({ engine: ENGINE });
    const records = trace('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale');
    const clock = clockAt(lastTime(records));
    const pub = publisher();
    const ingested = await ingestBatch(records, { store, publisher: pub, clock });
    expect(ingested.findings).toEqual([]);
    const before = await closeDueWindows({ store, publisher: pub, clock });
    expect(before.findings).toEqual([]);
    for (let i = 0; i < 10; i++) {
      clock.t += W / 2;
      await closeDueWindows({ store, publisher: pub, clock });
    }
    expect(kinds(pub.published)).toEqual([`manifest-data-missing library/stale ${STALE_M} true`]);
  });

  it('deduplicates a redelivered batch', async () => {
    const store = new MemoryWindowStore({ engine: ENGINE });
    const records = trace('e1-push').slice(0, 10);
    const deps = { store, publisher: publisher(), clock: clockAt(lastTime(records)) };
    const first = await ingestBatch(records, deps);
    const snapshot = JSON.stringify([...store.snapshot().scopes]);
    const second = await ingestBatch(records, deps);
    const third = await ingestBatch(records, deps);
    expect([first.duplicates, second.duplicates, third.duplicates]).toEqual([0, 10, 10]);
    expect(JSON.stringify([...store.snapshot().scopes])).toBe(snapshot);
  });

  it('forgets delivered events after the dedupe horizon, and state once its windows are closed', async () => {
    const store = new MemoryWindowStore({ engine: ENGINE, dedupeTtlSeconds: 3600 });
    const records = trace('e1-push').slice(0, 10);
    const t = lastTime(records);
    const clock = clockAt(t);
    await ingestBatch(records, { store, publisher: publisher(), clock });
    clock.t = t + 3599_000;
    expect((await ingestBatch(records, { store, publisher: publisher(), clock })).duplicates).toBe(
      10
    );
    clock.t = t + 3601_000;
    await store.closeDue(clock.t);
    expect(store.snapshot().scopes.get('repo:library/stale')).toBeUndefined();
    expect((await ingestBatch(records, { store, publisher: publisher(), clock })).duplicates).toBe(
      0
    );
  });

  it('keeps findings in the outbox when publishing fails, and delivers them once on the next drain', async () => {
    const store = new MemoryWindowStore({ engine: ENGINE });
    const records = trace('e1-push', 'e2-lose-manifest-data', 'e3-repush-stale');
    const clock = clockAt(lastTime(records) + 2 * W);
    const pub = publisher(1);
    await ingestBatch(records, { store, publisher: pub, clock });
    const failed = await closeDueWindows({ store, publisher: pub, clock });
    expect(failed.findings).toEqual([]);
    expect(failed.deferred?.map((e) => e.message)).toEqual(['queue unavailable']);
    expect(await store.outboxLength()).toBe(1);
    clock.t += W;
    const retried = await closeDueWindows({ store, publisher: pub, clock });
    expect(kinds(retried.findings)).toEqual([
      `manifest-data-missing library/stale ${STALE_M} true`,
    ]);
    expect(await store.drainOutbox((f) => pub.publish(f))).toEqual([]);
    expect(pub.published).toHaveLength(1);
  });

  it('follows a present manifest to its referenced blobs in the next round', async () => {
    // b1 alone: the manifest data exists and names a layer and a config; the layer is gone
    const b1 = trace('b1-repush-same');
    const checker = new KeySetChecker(new Set([dataKey(APP_M), dataKey(CONFIG)]), {
      [dataKey(APP_M)]: [CONFIG, LAYER],
    });
    const store = new MemoryWindowStore({ engine: ENGINE });
    const result = await ingestBatch(b1, {
      store,
      checker,
      publisher: publisher(),
      clock: clockAt(lastTime(b1)),
    });
    expect(checker.reads).toEqual([dataKey(APP_M)]);
    expect(checker.heads.sort()).toEqual([dataKey(CONFIG), dataKey(LAYER)].sort());
    expect(result.checked).toBe(3);
    expect(kinds(result.findings)).toEqual([`layer-data-missing library/app ${LAYER} true`]);
  });

  it('stops after maxCheckRounds; the remaining checks wait for their deadline', async () => {
    const b1 = trace('b1-repush-same');
    const checker = new KeySetChecker(new Set([dataKey(APP_M), dataKey(CONFIG)]), {
      [dataKey(APP_M)]: [CONFIG, LAYER],
    });
    const result = await ingestBatch(b1, {
      store: new MemoryWindowStore({ engine: ENGINE }),
      checker,
      publisher: publisher(),
      clock: clockAt(lastTime(b1)),
      maxCheckRounds: 1,
    });
    expect(checker.reads).toHaveLength(1);
    expect(checker.heads).toEqual([]);
    expect(result.findings).toEqual([]);
  });
});

describe('Function: runChecks()', () => {
  const blob = (n: number): Check => {
    const d = `sha256:${n.toString(16).padStart(64, '0')}`;
    return { type: 'blob-data', digest: d, key: dataKey(d) };
  };

  it('asks storage once per distinct check', async () => {
    const checker = new KeySetChecker(new Set([blob(1).key]));
    const results = await runChecks([blob(1), blob(2), blob(1), { ...blob(2) }], checker, 5);
    expect(checker.heads).toHaveLength(2);
    expect(results.map((r) => [r.check.key, r.presence, r.time])).toEqual([
      [blob(1).key, 'present', 5],
      [blob(2).key, 'missing', 5],
    ]);
  });

  it('keeps at most `concurrency` storage calls in flight', async () => {
    const checker = new KeySetChecker(new Set());
    const checks = Array.from({ length: 50 }, (_, i) => blob(i + 1));
    const results = await runChecks(checks, checker, 0, { concurrency: 4 });
    expect(results).toHaveLength(50);
    expect(checker.maxInFlight).toBe(4);
  });

  it('turns an error into unknown, never into missing', async () => {
    const checker = new KeySetChecker(new Set(), {}, new Set([blob(1).key, dataKey(APP_M)]));
    const manifest: Check = {
      type: 'manifest',
      digest: APP_M,
      key: dataKey(APP_M),
      repository: 'library/app',
    };
    const results = await runChecks([blob(1), manifest, blob(2)], checker, 0);
    expect(results.map((r) => r.presence)).toEqual(['unknown', 'unknown', 'missing']);
  });

  it('passes a manifest check to readManifest with its references, revision links to head', async () => {
    const link = `harbor/docker/registry/v2/repositories/library/app/_manifests/revisions/sha256/${APP_M.slice(7)}/link`;
    const checker = new KeySetChecker(new Set([dataKey(APP_M), link]), {
      [dataKey(APP_M)]: [LAYER],
    });
    const results = await runChecks(
      [
        { type: 'manifest', digest: APP_M, key: dataKey(APP_M), repository: 'library/app' },
        { type: 'revision-link', digest: APP_M, key: link, repository: 'library/app' },
      ],
      checker,
      0
    );
    expect(results[0]).toMatchObject({ presence: 'present', references: [LAYER] });
    expect(results[1]).toMatchObject({ presence: 'present' });
    expect(results[1]!.references).toBeUndefined();
    expect(checker.reads).toEqual([dataKey(APP_M)]);
    expect(checker.heads).toEqual([link]);
  });

  it('reads an unexpected presence value as unknown', async () => {
    const odd: StorageChecker = {
      head: async () => 'maybe' as unknown as Presence,
      readManifest: async () => ({ presence: 'present' }),
    };
    expect((await runChecks([blob(1)], odd, 0))[0]!.presence).toBe('unknown');
  });
});
