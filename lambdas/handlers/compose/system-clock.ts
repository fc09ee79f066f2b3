/** The wall clock and real timers, for the deployed functions. */
import type { Clock } from '../../ports.ts';

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};
