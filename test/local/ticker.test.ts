import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTicker } from '../../lambdas/local/ticker.ts';

/** A ticker every 5 ms whose task takes 20 ms and fails on its first run. */
function countingTicker() {
  const seen = { running: 0, overlap: false, runs: 0, errors: [] as unknown[] };
  const ticker = startTicker(
    5,
    async () => {
      seen.running++;
      if (seen.running > 1) seen.overlap = true;
      seen.runs++;
      await new Promise((r) => setTimeout(r, 20));
      seen.running--;
      if (seen.runs === 1) throw new Error('first run fails');
    },
    (e) => seen.errors.push(e)
  );
  return { ticker, seen };
}

// Fake timers: "no run after stop" is judged over 10 s of timer time, not a real sleep.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('window-check ticker', () => {
  it('never runs two checks at once, keeps going after an error, and stop waits for the run', async () => {
    const { ticker, seen } = countingTicker();
    await vi.advanceTimersByTimeAsync(4 * 25);
    expect(seen.runs).toBeGreaterThanOrEqual(4);
    const stopped = ticker.stop();
    await vi.advanceTimersByTimeAsync(20); // the run in progress finishes
    await stopped;
    const after = seen.runs;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(seen.overlap).toBe(false);
    expect(seen.running).toBe(0);
    expect(seen.runs).toBe(after);
    expect(seen.errors).toHaveLength(1);
  });

  it('control: the same 10 s of timer time without stop() sees hundreds of runs', async () => {
    const { ticker, seen } = countingTicker();
    await vi.advanceTimersByTimeAsync(4 * 25);
    const before = seen.runs;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(seen.runs - before).toBeGreaterThan(300);
    const stopped = ticker.stop();
    await vi.advanceTimersByTimeAsync(20);
    await stopped;
  });
});
