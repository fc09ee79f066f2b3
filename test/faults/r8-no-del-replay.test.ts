/**
 * R8 (compare-and-delete, no DEL replayed after a reconnect) through the fault proxy: the
 * remediator's registry-cache connection goes through the proxy to the real redis-server, and the
 * proxy cuts it while the compare-and-delete script is on the wire:
 *
 * - upstream cut (the script half-sent): Redis never ran it, every key must survive;
 * - downstream cut (the reply lost): Redis ran it, the keys are gone, as decided.
 *
 * Then the registry caches the digest again (the same bytes the snapshot saw, so a replayed
 * script WOULD delete them), the proxy lets the client reconnect, and the keys must still be there:
 * nothing queued before the cut runs after the reconnect. A redelivery of the finding then clears
 * them once, with its own audit record. The control does the same with an ioredis client on its
 * defaults and shows the replay is real.
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileAuditLog } from '../../lambdas/adapters/file-audit-log.ts';
import { connectRedis } from '../../lambdas/adapters/redis-client.ts';
import { RedisDeleteBudget } from '../../lambdas/adapters/redis-delete-budget.ts';
import { RedisRegistryCache } from '../../lambdas/adapters/redis-registry-cache.ts';
import { S3StorageChecker } from '../../lambdas/adapters/s3-storage-checker.ts';
import { createRemediator, type Remediator } from '../../lambdas/app/remediate.ts';
import type { RemediationRecord } from '../../lambdas/domain/remediation.ts';
import type { AuditLog } from '../../lambdas/ports.ts';
import { fakeClock, finding } from '../integration/remediate.helpers.ts';
import { type CutFault, type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisUrl } from '../support/redis.ts';
import { dumpKeys, registryKeysOf, seedFromTrace } from '../support/seed-registry-cache.ts';
import { ROOT, untilReady } from './faults.helpers.ts';

const TRACE = readFileSync(
  new URL('../fixtures/registry-traces/e3-repush-stale.redis.txt', import.meta.url),
  'utf8'
);
/** Layers of library/stale in the trace: three keys each (hash, repository hash, set member). */
const LAYER = 'sha256:3a675ba150168bfe3bff53b39a3b926d510887d6379dc8da950cd142873f55ff';
const WARMUP = 'sha256:59fe8815c3e1d65006a6bb92d8fb8c390ddd7c55cfbd4cc214e3e18ce8bd990f';
const REPO = 'library/stale';
const BUCKET = 'r8-replay';

/** Waits (polling CLIENT LIST) until the server holds no connection named `name`. */
async function untilServerDropped(name: string): Promise<void> {
  for (;;) {
    const list = String(await admin.call('CLIENT', 'LIST'));
    if (!list.split('\n').some((l) => l.includes(` name=${name} `))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

let aws: TestAws;
let proxy: FaultProxy;
let admin: Redis;
let registryDb: number;
let stateDb: number;
let auditDir: string;
const clients: Redis[] = [];

beforeAll(async () => {
  aws = await startFauxqs();
  await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  [registryDb, stateDb] = (await allocateDbs(2)) as [number, number];
  const url = new URL(redisUrl());
  proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
  admin = await connectRedis(`${redisUrl()}/${registryDb}`);
  clients.push(admin);
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await proxy?.close();
  await aws?.stop();
});
beforeEach(async () => {
  proxy.set({});
  await admin.flushdb();
  await seedFromTrace(admin, TRACE, 'AFTER');
  auditDir = await mkdtemp(join(tmpdir(), 'pushguard-r8-'));
});
afterEach(async () => {
  proxy.set({});
  await rm(auditDir, { recursive: true, force: true });
});

/** Cuts the next bytes in `cut.direction`, then refuses reconnects until the test lets them. */
function armCut(cut: Omit<CutFault, 'scope'>): void {
  proxy.events.once('cut', () => proxy.set({ mode: 'reset' }));
  proxy.set({ cut: { ...cut, scope: 'total' } });
}

/** The remediator (enforce) with its registry cache behind the proxy; `arm` runs after the audit write. */
async function remediatorBehindProxy(): Promise<{
  remediator: Remediator;
  client: Redis;
  audits: RemediationRecord[];
  armNextDelete(cut: Omit<CutFault, 'scope'>): void;
}> {
  const client = await connectRedis(`redis://${proxy.address}/${registryDb}`, {
    commandTimeoutMs: 3000,
    connectionName: 'r8-remediator',
  });
  const state = await connectRedis(`${redisUrl()}/${stateDb}`);
  clients.push(client, state);
  await state.flushdb();
  const files = new FileAuditLog(auditDir);
  const audits: RemediationRecord[] = [];
  let pending: Omit<CutFault, 'scope'> | undefined;
  // The compare-and-delete script is the next thing sent on the registry connection after the
  // write-ahead audit record (the DB check is cached, the budget lives in the state DB).
  const audit: AuditLog = {
    write: async (record) => {
      const id = await files.write(record);
      audits.push(record);
      if (pending) armCut(pending);
      pending = undefined;
      return id;
    },
    read: (id) => files.read(id),
  };
  const remediator = createRemediator({
    checker: new S3StorageChecker({ client: aws.s3, bucket: BUCKET }),
    registryCache: new RedisRegistryCache(client, { store: 'registry' }),
    audit,
    budget: new RedisDeleteBudget(state, { perHour: 10_000 }),
    notifiers: [],
    clock: fakeClock(),
    config: {
      mode: 'enforce',
      settleMs: 0,
      maxKeysPerFinding: 10,
      maxDeletesPerRun: 1000,
      rootDirectory: ROOT,
      registryHost: 'harbor.example.com',
      actor: 'r8@pushguard',
      version: '0.1.0-test',
      cacheLayer: false,
    },
  });
  // First delete of another digest: the DB check is done and the script is loaded (EVALSHA).
  const warm = await remediator.remediate(finding({ kind: 'layer-data-missing', digest: WARMUP }));
  expect(warm.decision).toBe('cleared');
  return {
    remediator,
    client,
    audits,
    armNextDelete: (cut) => {
      pending = cut;
    },
  };
}

const victim = () => finding({ kind: 'layer-data-missing', repository: REPO, digest: LAYER });
const victimKeys = registryKeysOf(REPO, LAYER);

/** Where every victim key stands: hash/set present, and the set still lists the digest. */
async function victimState(): Promise<boolean[]> {
  return [
    (await admin.exists(victimKeys[0]!)) === 1,
    (await admin.exists(victimKeys[1]!)) === 1,
    (await admin.sismember(victimKeys[2]!, LAYER)) === 1,
  ];
}

describe('R8 no DEL replay: a compare-and-delete cut on the wire is never run later', () => {
  const cases: { name: string; cut: Omit<CutFault, 'scope'>; ranOnServer: boolean }[] = [
    {
      name: 'upstream after 1 byte',
      cut: { direction: 'upstream', afterBytes: 1 },
      ranOnServer: false,
    },
    {
      name: 'upstream after 60 bytes',
      cut: { direction: 'upstream', afterBytes: 60 },
      ranOnServer: false,
    },
    {
      name: 'upstream after 250 bytes',
      cut: { direction: 'upstream', afterBytes: 250 },
      ranOnServer: false,
    },
    {
      name: 'downstream, reply lost',
      cut: { direction: 'downstream', afterBytes: 0 },
      ranOnServer: true,
    },
    {
      name: 'downstream, reply half read',
      cut: { direction: 'downstream', afterBytes: 3 },
      ranOnServer: true,
    },
  ];

  for (const c of cases) {
    it(`R8 no DEL replay (${c.name}): keys ${c.ranOnServer ? 'deleted as decided' : 'kept'}, nothing runs after the reconnect`, async () => {
      const { remediator, client, audits, armNextDelete } = await remediatorBehindProxy();
      // Act 1: the delete is decided (audit record written), then cut on the wire.
      armNextDelete(c.cut);
      const outcome = await remediator.remediate(victim()).then(
        (r) => `resolved ${r.decision}`,
        (e: Error) => `rejected: ${e.message}`
      );
      expect(outcome).toMatch(/^rejected: /);
      expect(proxy.stats().cuts).toBeGreaterThan(0);
      expect(audits.filter((a) => a.finding.digest === LAYER)).toHaveLength(1);
      // Assess 1: exactly what the server ran, while the client is still cut off.
      const expected = c.ranOnServer ? [false, false, false] : [true, true, true];
      expect(await victimState()).toEqual(expected);

      // The registry caches the digest again, byte for byte what the snapshot saw.
      await seedFromTrace(admin, TRACE, 'AFTER');
      const recached = await dumpKeys(admin, victimKeys);
      expect(await victimState()).toEqual([true, true, true]);

      // Act 2: let the client reconnect and talk again.
      proxy.set({});
      await untilReady(client);
      // A barrier, not a sleep: a command held from before the cut would be resent ahead of this
      // PING on the same connection, so it has run once PONG is back (the control shows it).
      expect(await client.ping()).toBe('PONG');
      // Assess 2: nothing held from before the cut ran after the reconnect.
      expect(await dumpKeys(admin, victimKeys)).toEqual(recached);

      // Act 3: SQS redelivers the finding; storage still has no data: cleared once, audited once.
      await remediator.endRun();
      const again = await remediator.remediate(victim());
      expect(again.decision).toBe('cleared');
      expect(again.clearedKeys.sort()).toEqual(
        [victimKeys[0], victimKeys[1], `${victimKeys[2]} ${LAYER}`].sort()
      );
      expect(await victimState()).toEqual([false, false, false]);
      expect(audits.filter((a) => a.finding.digest === LAYER)).toHaveLength(2);
      expect((await readdir(auditDir)).length).toBe(3); // warm-up, cut-off attempt, redelivery
    });
  }

  it('control: an ioredis client on its defaults DOES run the cut-off UNLINK after the reconnect', async () => {
    const naive = new Redis(`redis://${proxy.address}/${registryDb}`, {
      lazyConnect: true,
      connectionName: 'r8-naive',
    });
    naive.on('error', () => undefined);
    clients.push(naive);
    await naive.connect();
    const key = victimKeys[0]!;
    armCut({ direction: 'upstream', afterBytes: 20 });
    const pending = naive.eval("return redis.call('UNLINK', KEYS[1])", 1, key);
    await new Promise((r) => proxy.events.once('cut', r));
    // Cut off half-sent and nothing can reconnect: once the server has dropped the connection,
    // the half command can never run there.
    await untilServerDropped('r8-naive');
    expect(await admin.exists(key)).toBe(1);
    proxy.set({});
    // After the reconnect ioredis resends it ahead of the barrier PING: the key decided stale
    // earlier is deleted now, and the barrier the tests above rely on sees it.
    expect(await naive.ping()).toBe('PONG');
    expect(await admin.exists(key)).toBe(0);
    expect(await pending).toBe(1);
  });
});
