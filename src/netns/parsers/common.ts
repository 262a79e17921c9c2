// Shared shapes for the parsers: a parser never throws on odd input; it keeps what it understood
// and reports the rest as problems, so one strange line cannot hide the rule that matters.

/** A line (or document) a parser could not read, with why. */
export interface ParseProblem {
  /** 1-based line number in the input; absent for whole-document problems (e.g. bad JSON). */
  line?: number;
  text: string;
  reason: string;
}

/** Splits command output into lines, keeping 1-based numbers; CRLF-tolerant. */
export function numberedLines(text: string): { line: number; text: string }[] {
  return text.split(/\r?\n/).map((line, index) => ({ line: index + 1, text: line }));
}

/** The first n whitespace-separated words of a line and the rest after them (spacing kept). */
export function takeWords(line: string, n: number): { words: string[]; rest: string } {
  const words: string[] = [];
  const pattern = /\S+/g;
  let end = 0;
  while (words.length < n) {
    const match = pattern.exec(line);
    if (!match) break;
    words.push(match[0]);
    end = match.index + match[0].length;
  }
  return { words, rest: line.slice(end) };
}

/** A plain object from JSON. */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringField(object: JsonObject, key: string): string | undefined {
  const value = object[key];
  return typeof value === 'string' ? value : undefined;
}

export function numberField(object: JsonObject, key: string): number | undefined {
  const value = object[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function booleanField(object: JsonObject, key: string): boolean | undefined {
  const value = object[key];
  return typeof value === 'boolean' ? value : undefined;
}

export function stringArrayField(object: JsonObject, key: string): string[] {
  const value = object[key];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * Reads the JSON array that `ip -j` and `bridge -j` print. Empty output is an empty list (iproute2
 * prints nothing at all for some empty tables); anything else that is not an array is a problem.
 */
export function parseJsonArray(text: string, what: string): { items: unknown[]; problems: ParseProblem[] } {
  const trimmed = text.trim();
  if (!trimmed) return { items: [], problems: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { items: [], problems: [{ text: excerpt(trimmed), reason: `not JSON (${what}): ${reason}` }] };
  }
  if (!Array.isArray(parsed)) return { items: [], problems: [{ text: excerpt(trimmed), reason: `expected a JSON array (${what})` }] };
  return { items: parsed, problems: [] };
}

function excerpt(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/**
 * Reads the items of a JSON array with one reader per item; items the reader rejects become
 * problems (with the item's index in the text) instead of silently disappearing.
 */
export function readJsonItems<T>(text: string, what: string, read: (item: JsonObject) => T | string): { items: T[]; problems: ParseProblem[] } {
  const { items, problems } = parseJsonArray(text, what);
  const result: T[] = [];
  items.forEach((item, index) => {
    if (!isObject(item)) {
      problems.push({ text: JSON.stringify(item) ?? String(item), reason: `${what} item ${index} is not an object` });
      return;
    }
    const read1 = read(item);
    if (typeof read1 === 'string') problems.push({ text: JSON.stringify(item), reason: `${what} item ${index}: ${read1}` });
    else result.push(read1);
  });
  return { items: result, problems };
}

/** An address with an optional prefix length, as in "10.0.1.0/24" or "10.0.1.4". */
export interface Ipv4Cidr {
  /** The network address as a 32-bit unsigned number (host bits cleared). */
  network: number;
  prefixLength: number;
}

/** Parses a dotted IPv4 address; undefined for anything else (IPv6, names, garbage). */
export function ipv4ToNumber(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/**
 * Parses "a.b.c.d/len" or "a.b.c.d" (= /32, as `iptables -n` prints a host) or a dotted mask
 * "a.b.c.d/255.255.255.0" (as older iptables versions print non-contiguous masks).
 */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const [addressText, prefixText, ...rest] = text.split('/');
  if (rest.length) return undefined;
  const address = ipv4ToNumber(addressText);
  if (address === undefined) return undefined;
  let prefixLength = 32;
  if (prefixText !== undefined) {
    if (/^\d{1,2}$/.test(prefixText) && Number(prefixText) <= 32) prefixLength = Number(prefixText);
    else {
      const mask = ipv4ToNumber(prefixText);
      if (mask === undefined) return undefined;
      const bits = mask.toString(2).padStart(32, '0');
      if (!/^1*0*$/.test(bits)) return undefined; // non-contiguous masks: not a prefix
      prefixLength = bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
    }
  }
  return { network: maskTo(address, prefixLength), prefixLength };
}

function maskTo(address: number, prefixLength: number): number {
  if (prefixLength === 0) return 0;
  // >>> 0 keeps the result unsigned; shifts by 32 are not defined in JS, hence the /0 case above
  return (address & (~0 << (32 - prefixLength))) >>> 0;
}

/** True when the IPv4 address lies in the CIDR. */
export function ipv4InCidr(address: string, cidr: Ipv4Cidr): boolean | undefined {
  const value = ipv4ToNumber(address);
  if (value === undefined) return undefined;
  return maskTo(value, cidr.prefixLength) === cidr.network;
}
