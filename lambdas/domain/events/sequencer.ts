/** S3 sequencers: hex text that orders the events of one key. */

export const HEX = /^[0-9A-Fa-f]+$/;

/** HEX.test without the regex machinery (the hot path's sequencers). */
export function isHex(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * Orders two S3 sequencers of the same key: right-pad the shorter with '0', compare as text
 * (hex case-insensitive). Negative when `a` is older.
 */
export function sequencerCompare(a: string, b: string): number {
  // Fast path, no allocation: ASCII text compared code by code, a-z folded, the shorter padded.
  const la = a.length;
  const lb = b.length;
  const n = Math.max(la, lb);
  for (let i = 0; i < n; i++) {
    let ca = i < la ? a.charCodeAt(i) : 48;
    let cb = i < lb ? b.charCodeAt(i) : 48;
    if (ca > 127 || cb > 127) return sequencerCompareText(a, b);
    if (ca >= 97 && ca <= 122) ca -= 32;
    if (cb >= 97 && cb <= 122) cb -= 32;
    if (ca !== cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

/** The definition, for any text: upper-case both, right-pad the shorter with '0', compare. */
function sequencerCompareText(a: string, b: string): number {
  const x = a.toUpperCase();
  const y = b.toUpperCase();
  const n = Math.max(x.length, y.length);
  const px = x.length < n ? x.padEnd(n, '0') : x;
  const py = y.length < n ? y.padEnd(n, '0') : y;
  return px < py ? -1 : px > py ? 1 : 0;
}
