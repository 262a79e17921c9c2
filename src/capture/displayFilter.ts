// A small display-filter language, after Wireshark's: fields, comparisons, and/or/not and
// parentheses. Compiled once to a predicate over the packet index's columns, so filtering a
// million packets needs no decoding.
//
//   ip.addr == 10.0.1.5 && tcp.flags.reset        not arp        tcp.port == 8081 || udp.port == 53
//   ip.src == 10.0.1.0/24 and tcp.analysis.retransmission          frame.number >= 100
//
// Fields: frame.number, frame.len, ip.addr, ip.src, ip.dst (the innermost IP header; CIDR
// allowed), tcp.port, tcp.srcport, tcp.dstport, udp.port, udp.srcport, udp.dstport,
// tcp.flags.{syn,ack,fin,reset,push,urg}, tcp.analysis.<flag>, icmp.error, and the protocol names
// (tcp, udp, icmp, icmpv6, arp, dns, vxlan, ip, ipv6, eth, vlan, sll ...).
import { Layer, layerFilterNames, Mark } from './packet';
import type { PacketIndex } from './packetIndex';
import { hasAnalysisField } from './tcpAnalysis';

export type PacketPredicate = (index: PacketIndex, i: number) => boolean;

export type FilterResult = { ok: true; predicate: PacketPredicate } | { ok: false; error: string; position: number };

interface Token {
  kind: 'word' | 'op' | 'lparen' | 'rparen' | 'string';
  text: string;
  position: number;
}

class FilterError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
  }
}

const OPERATORS = ['==', '!=', '>=', '<=', '>', '<', '&&', '||', '!'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'lparen' : 'rparen', text: c, position: i });
      i++;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new FilterError('unclosed quote', i);
      tokens.push({ kind: 'string', text: text.slice(i + 1, end), position: i });
      i = end + 1;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op) {
        tokens.push({ kind: 'op', text: op, position: i });
        i += op.length;
        continue;
      }
      const match = /^[A-Za-z0-9_.:/-]+/.exec(text.slice(i));
      if (!match) throw new FilterError(`unexpected "${c}"`, i);
      const word = match[0];
      const lower = word.toLowerCase();
      // Wireshark's word operators.
      const alias: Record<string, string> = { and: '&&', or: '||', not: '!', eq: '==', ne: '!=', gt: '>', lt: '<', ge: '>=', le: '<=' };
      tokens.push(alias[lower] ? { kind: 'op', text: alias[lower], position: i } : { kind: 'word', text: word, position: i });
      i += word.length;
    }
  }
  return tokens;
}

const TCP_FLAG_BITS: Record<string, number> = { fin: 0x01, syn: 0x02, reset: 0x04, rst: 0x04, push: 0x08, psh: 0x08, ack: 0x10, urg: 0x20 };

function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** An address value: exact text (IPv6 or IPv4), or an IPv4 network. */
function addressMatcher(value: string, position: number): (address: string) => boolean {
  const slash = value.indexOf('/');
  if (slash > 0) {
    const base = parseIpv4(value.slice(0, slash));
    const bits = Number(value.slice(slash + 1));
    if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) throw new FilterError(`"${value}" is not an IPv4 network`, position);
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (address) => {
      const a = parseIpv4(address);
      return a !== undefined && ((a & mask) >>> 0) === ((base & mask) >>> 0);
    };
  }
  if (parseIpv4(value) === undefined && !value.includes(':')) throw new FilterError(`"${value}" is not an IP address`, position);
  const normal = value.toLowerCase();
  return (address) => address.toLowerCase() === normal;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[], private readonly length: number) {}

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private position(): number {
    return this.peek()?.position ?? this.length;
  }

  parse(): PacketPredicate {
    const predicate = this.or();
    if (this.peek()) throw new FilterError(`unexpected "${this.peek()!.text}"`, this.position());
    return predicate;
  }

  private or(): PacketPredicate {
    let left = this.and();
    while (this.peek()?.kind === 'op' && this.peek()!.text === '||') {
      this.at++;
      const l = left;
      const r = this.and();
      left = (x, i) => l(x, i) || r(x, i);
    }
    return left;
  }

  private and(): PacketPredicate {
    let left = this.not();
    while (this.peek()?.kind === 'op' && this.peek()!.text === '&&') {
      this.at++;
      const l = left;
      const r = this.not();
      left = (x, i) => l(x, i) && r(x, i);
    }
    return left;
  }

  private not(): PacketPredicate {
    if (this.peek()?.kind === 'op' && this.peek()!.text === '!') {
      this.at++;
      const inner = this.not();
      return (x, i) => !inner(x, i);
    }
    return this.primary();
  }

  private primary(): PacketPredicate {
    const token = this.peek();
    if (!token) throw new FilterError('the filter ends too early', this.length);
    if (token.kind === 'lparen') {
      this.at++;
      const inner = this.or();
      if (this.peek()?.kind !== 'rparen') throw new FilterError('")" expected', this.position());
      this.at++;
      return inner;
    }
    if (token.kind !== 'word') throw new FilterError(`a field name expected, not "${token.text}"`, token.position);
    this.at++;
    const next = this.peek();
    if (next?.kind === 'op' && ['==', '!=', '>', '<', '>=', '<='].includes(next.text)) {
      this.at++;
      const value = this.peek();
      if (!value || (value.kind !== 'word' && value.kind !== 'string')) throw new FilterError(`a value expected after "${next.text}"`, this.position());
      this.at++;
      return comparison(token, next.text, value);
    }
    return presence(token);
  }
}

function direction(index: PacketIndex, i: number, side: 'src' | 'dst'): number {
  const reverse = (index.marks[i] & Mark.REVERSE) !== 0;
  return side === 'src' ? (reverse ? 1 : 0) : reverse ? 0 : 1;
}

/** Address text of side 0 (A) or 1 (B) of a conversation, cached per index. */
const addressCache = new WeakMap<PacketIndex, Map<number, [string, string]>>();
function conversationAddresses(index: PacketIndex, c: number): [string, string] {
  let cache = addressCache.get(index);
  if (!cache) addressCache.set(index, (cache = new Map()));
  let pair = cache.get(c);
  if (!pair) {
    pair = [index.conversations.addressText(c, 0), index.conversations.addressText(c, 1)];
    cache.set(c, pair);
  }
  return pair;
}

function addressOf(index: PacketIndex, i: number, side: 'src' | 'dst'): string | undefined {
  const c = index.conversation[i];
  if (c < 0) return undefined;
  return conversationAddresses(index, c)[direction(index, i, side)];
}

function portOf(index: PacketIndex, i: number, side: 'src' | 'dst'): number {
  const c = index.conversation[i];
  if (c < 0) return -1;
  return index.conversations.portOf(c, direction(index, i, side));
}

function compareNumbers(op: string, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    default:
      return a <= b;
  }
}

function numberValue(value: Token): number {
  const n = value.text.startsWith('0x') ? parseInt(value.text, 16) : Number(value.text);
  if (!Number.isFinite(n)) throw new FilterError(`"${value.text}" is not a number`, value.position);
  return n;
}

function comparison(field: Token, op: string, value: Token): PacketPredicate {
  const name = field.text.toLowerCase();
  if (name === 'ip.addr' || name === 'ip.src' || name === 'ip.dst' || name === 'ipv6.addr' || name === 'ipv6.src' || name === 'ipv6.dst') {
    if (op !== '==' && op !== '!=') throw new FilterError(`${name} takes == or !=`, field.position);
    const matches = addressMatcher(value.text, value.position);
    const sides: ('src' | 'dst')[] = name.endsWith('.src') ? ['src'] : name.endsWith('.dst') ? ['dst'] : ['src', 'dst'];
    const hit: PacketPredicate = (x, i) => sides.some((side) => {
      const address = addressOf(x, i, side);
      return address !== undefined && matches(address);
    });
    // "ip.addr != X" means neither end is X, as people read it.
    return op === '==' ? hit : (x, i) => !hit(x, i) && x.conversation[i] >= 0;
  }
  const portField = /^(tcp|udp)\.(port|srcport|dstport)$/.exec(name);
  if (portField) {
    const layer = portField[1] === 'tcp' ? Layer.TCP : Layer.UDP;
    const n = numberValue(value);
    const sides: ('src' | 'dst')[] = portField[2] === 'srcport' ? ['src'] : portField[2] === 'dstport' ? ['dst'] : ['src', 'dst'];
    const hit: PacketPredicate = (x, i) => (x.layers[i] & layer) !== 0 && sides.some((side) => compareNumbers(op === '!=' ? '==' : op, portOf(x, i, side), n));
    return op === '!=' ? (x, i) => (x.layers[i] & layer) !== 0 && !hit(x, i) : hit;
  }
  if (name === 'frame.number') {
    const n = numberValue(value);
    return (_x, i) => compareNumbers(op, i + 1, n);
  }
  if (name === 'frame.len') {
    const n = numberValue(value);
    return (x, i) => compareNumbers(op, x.originalLength[i], n);
  }
  const flag = /^tcp\.flags\.(\w+)$/.exec(name);
  if (flag && TCP_FLAG_BITS[flag[1]] !== undefined) {
    const bit = TCP_FLAG_BITS[flag[1]];
    const want = value.text === '1' || value.text.toLowerCase() === 'true';
    if (!['0', '1', 'true', 'false'].includes(value.text.toLowerCase())) throw new FilterError(`${name} is 0 or 1`, value.position);
    return (x, i) => (x.layers[i] & Layer.TCP) !== 0 && compareNumbers(op, (x.tcpFlags[i] & bit) !== 0 ? 1 : 0, want ? 1 : 0);
  }
  if (name === 'tcp.flags') {
    const n = numberValue(value);
    return (x, i) => (x.layers[i] & Layer.TCP) !== 0 && compareNumbers(op, x.tcpFlags[i], n);
  }
  throw new FilterError(`unknown field "${field.text}" (or it takes no value)`, field.position);
}

function presence(field: Token): PacketPredicate {
  const name = field.text.toLowerCase();
  const layer = layerFilterNames[name];
  if (layer !== undefined) return (x, i) => (x.layers[i] & layer) !== 0;
  const flag = /^tcp\.flags\.(\w+)$/.exec(name);
  if (flag && TCP_FLAG_BITS[flag[1]] !== undefined) {
    const bit = TCP_FLAG_BITS[flag[1]];
    return (x, i) => (x.layers[i] & Layer.TCP) !== 0 && (x.tcpFlags[i] & bit) !== 0;
  }
  const analysis = /^tcp\.analysis\.(\w+)$/.exec(name);
  if (analysis) {
    const flagName = analysis[1];
    if (flagName !== 'flags' && !hasAnalysisField(0xffff, flagName)) throw new FilterError(`unknown TCP analysis flag "${flagName}"`, field.position);
    return (x, i) => hasAnalysisField(x.analysis[i], flagName);
  }
  if (name === 'icmp.error') return (x, i) => (x.marks[i] & Mark.ICMP_ERROR) !== 0;
  if (name === 'ip.flags.mf' || name === 'ip.fragment') return (x, i) => (x.marks[i] & Mark.FRAGMENT) !== 0;
  if (name === 'malformed' || name === '_ws.malformed') return (x, i) => (x.marks[i] & Mark.MALFORMED) !== 0;
  throw new FilterError(`unknown field or protocol "${field.text}"`, field.position);
}

/** Compiles a filter; an error says what and where (a character position). */
export function compileDisplayFilter(text: string): FilterResult {
  try {
    const tokens = tokenize(text);
    if (!tokens.length) return { ok: true, predicate: () => true };
    return { ok: true, predicate: new Parser(tokens, text.length).parse() };
  } catch (error) {
    if (error instanceof FilterError) return { ok: false, error: `${error.message} (at ${error.position + 1})`, position: error.position };
    throw error;
  }
}
