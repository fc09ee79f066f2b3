/** Durations as users type them: `1500ms`, `90s`, `10m`, `2h` (a bare number is seconds). */
import { ConfigError } from './errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string, name = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new ConfigError([`${name}: "${text}" is not a duration (use e.g. 90s, 10m, 2h)`]);
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1_000));
}

/** A correlation window: 1 s to 2 h, so it stays below Harbor GC's 2 h grace period. */
export function parseWindow(text: string): number {
  const ms = parseDuration(text, 'window');
  if (ms < 1_000 || ms > 7_200_000) throw new ConfigError([`window: ${text} is outside 1s..2h`]);
  return ms;
}
