import { describe, expect, it } from 'vitest';
import { startTicker } from '../../lambdas/local/ticker.ts';

describe('window-check ticker', () => {
  it('never runs two checks at once, keeps going after an error, and stop waits for the run', async () => {
    let running = 0;
    let overlap = false;
    let runs = 0;
    const errors: unknown[] = [];
    const ticker = startTicker(
      5,
      async () => {
        running++;
        if (running > 1) overlap = true;
        runs++;
        await new Promise((r) => setTimeout(r, 20));
        running--;
        if (runs === 1) throw new Error('first run fails');
      },
      (e) => errors.push(e)
    );
    while (runs < 4) await new Promise((r) => setTimeout(r, 10));
    await ticker.stop();
    const after = runs;
    await new Promise((r) => setTimeout(r, 50));
    expect(overlap).toBe(false);
    expect(running).toBe(0);
    expect(runs).toBe(after);
    expect(errors).toHaveLength(1);
  });
});
