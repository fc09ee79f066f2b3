/** Minimal XML text handling for S3 request and response bodies. */

/** The five named entities; looked up by a name from the request, so a Map (`&constructor;`). */
const NAMED = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
]);

/**
 * Decodes XML character data: the five named entities and numeric character references, decimal
 * (`&#34;`, which Go's encoding/xml writes for `"`) and hexadecimal (`&#x22;`).
 */
export function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return codePoint(Number.parseInt(ref.slice(2), 16), whole);
    if (ref.startsWith('#')) return codePoint(Number.parseInt(ref.slice(1), 10), whole);
    return NAMED.get(ref) ?? whole;
  });
}

function codePoint(n: number, fallback: string): string {
  return Number.isFinite(n) && n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : fallback;
}

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** `<name>escaped value</name>` */
export function el(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A whole S3 response document with the S3 namespace on its root element. */
export function s3Document(root: string, children: string[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
    ...children,
    `</${root}>`,
  ].join('\n');
}

/** Text content of every `<name>…</name>` element in `xml`, decoded. */
export function elementTexts(xml: string, name: string): string[] {
  const re = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g');
  return [...xml.matchAll(re)].map((m) => decodeXmlText(m[1] ?? ''));
}
