/**
 * R10 (hardened webhook ingress), the timing half: a wrong Authorization header must take as long
 * to refuse whether it differs from the secret in its first byte or its last one, and as long as
 * the right one takes to match. 401/413/rotation/10 identical deliveries are proven by
 * test/handlers/webhook.test.ts; this adds the statistics.
 *
 * Paired design over 10,000 samples per variant: 100 rounds, each timing 100 calls of every
 * variant in a shuffled order, so drift, GC and JIT hit all variants alike; the figure is the
 * median over rounds of the per-round ratio. The same procedure run on a naive comparison that
 * stops at the first differing byte must see the difference (else the test could not fail).
 * Secrets are 1 KB long, so a byte-by-byte early exit would be well above the noise.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { acceptWebhook, authorizationMatches } from '../../lambdas/app/webhook-ingress.ts';
import { naiveMatches, type PairedTiming, pairedTiming, tokenVariants } from './faults.helpers.ts';

const ROUNDS = 100;
const PER_ROUND = 100;
const SECRET = `Bearer ${randomBytes(760).toString('base64url')}`.slice(0, 1024);
const PREVIOUS = `Bearer ${randomBytes(760).toString('base64url')}`.slice(0, 1024);
const VARIANTS = tokenVariants(SECRET);
type Variant = keyof typeof VARIANTS;

const measure = <K extends Variant>(
  call: (given: string) => unknown | Promise<unknown>,
  keys: readonly K[]
) =>
  pairedTiming(
    call,
    Object.fromEntries(keys.map((k) => [k, VARIANTS[k]])) as Record<K, string>,
    'wrongFirstByte' as K,
    { rounds: ROUNDS, perRound: PER_ROUND }
  );

function show<K extends Variant>(name: string, t: PairedTiming<K>): void {
  const parts = (Object.keys(t.meanNs) as K[]).map(
    (v) =>
      `${v} mean ${t.meanNs[v].toFixed(0)} ns, median ${t.medianNs[v].toFixed(0)} ns, ` +
      `paired ratio ×${t.medianRatio[v].toFixed(3)}`
  );
  console.log(`R10 timing, ${name}, ${ROUNDS * PER_ROUND} calls each: ${parts.join('; ')}`);
}

describe('R10 webhook timing: a wrong token is refused in the same time wherever it differs', () => {
  it('R10 timing: authorizationMatches takes the same time for right, wrong-first-byte and wrong-last-byte tokens (10k samples each)', async () => {
    const secrets = [SECRET, PREVIOUS];
    expect(authorizationMatches(VARIANTS.right, secrets)).toBe(true);
    expect(authorizationMatches(VARIANTS.wrongFirstByte, secrets)).toBe(false);
    expect(authorizationMatches(VARIANTS.wrongLastByte, secrets)).toBe(false);
    const variants = ['right', 'wrongFirstByte', 'wrongLastByte'] as const;

    const real = await measure((g) => authorizationMatches(g, secrets), variants);
    const naive = await measure((g) => naiveMatches(g, secrets), variants);
    show('authorizationMatches', real);
    show('naive early-exit control', naive);

    // The procedure sees an early exit: the control's last-byte mismatch costs far more.
    expect(naive.medianRatio.wrongLastByte).toBeGreaterThan(2);
    // The real comparison shows no such gap (loose bounds: noise, not a leak).
    expect(real.medianRatio.wrongLastByte).toBeGreaterThan(0.7);
    expect(real.medianRatio.wrongLastByte).toBeLessThan(1.4);
    expect(real.medianRatio.right).toBeGreaterThan(0.7);
    expect(real.medianRatio.right).toBeLessThan(1.4);
  });

  it('R10 timing: the whole 401 path of acceptWebhook takes the same time for wrong-first-byte and wrong-last-byte tokens', async () => {
    const body = JSON.stringify({ type: 'PUSH_ARTIFACT', occur_at: 1_720_012_600 });
    const deps = {
      secrets: async () => [SECRET, PREVIOUS],
      queue: {
        send: async () => {
          throw new Error('a wrong token must never be enqueued');
        },
      },
      dedupe: { firstSeen: async () => true },
    };
    const call = async (given: string) => {
      const res = await acceptWebhook({ headers: { Authorization: given }, body }, deps);
      if (res.statusCode !== 401) throw new Error(`expected 401, got ${res.statusCode}`);
    };
    const t = await measure(call, ['wrongFirstByte', 'wrongLastByte']);
    show('acceptWebhook 401 path', t);
    expect(t.medianRatio.wrongLastByte).toBeGreaterThan(0.7);
    expect(t.medianRatio.wrongLastByte).toBeLessThan(1.4);
  });
});
