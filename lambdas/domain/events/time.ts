/** Event times: ISO-8601 date-times with a zone → epoch ms, with a fast path for S3's own form. */
import { MalformedEventError } from '../errors.ts';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Days per month, 1-based (February handled apart). */
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (month 1-12), as Date.UTC counts them
 * (H. Hinnant's days_from_civil), in plain integer arithmetic.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS[month]!;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/**
 * Fast path for the form S3 sends, `YYYY-MM-DDTHH:MM:SS[.sss]Z`; -1 when `v` is not exactly
 * that (then Date.parse decides, with the same result for every input this accepts).
 */
export function canonicalIsoToMs(v: string): number {
  const n = v.length;
  if ((n !== 20 && n !== 24) || v.charCodeAt(n - 1) !== 90 /* Z */) return -1;
  if (v[4] !== '-' || v[7] !== '-' || v[10] !== 'T' || v[13] !== ':' || v[16] !== ':') return -1;
  const year = digits(v, 0, 4);
  const month = digits(v, 5, 2);
  const day = digits(v, 8, 2);
  const hour = digits(v, 11, 2);
  const minute = digits(v, 14, 2);
  const second = digits(v, 17, 2);
  let ms = 0;
  if (n === 24) {
    if (v[19] !== '.') return -1;
    ms = digits(v, 20, 3);
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1) return -1;
  if (day > daysInMonth(year, month)) return -1;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) {
    return -1;
  }
  return (
    daysFromCivil(year, month, day) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + ms
  );
}

/** ISO-8601 date-time with a zone → epoch ms. */
export function isoToMs(v: unknown, field: string): number {
  if (typeof v !== 'string') throw new MalformedEventError(field, 'expected an ISO-8601 time');
  const fast = canonicalIsoToMs(v);
  if (fast >= 0) return fast;
  if (!ISO_8601.test(v)) throw new MalformedEventError(field, 'not an ISO-8601 date-time');
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new MalformedEventError(field, 'not a valid date-time');
  return ms;
}
