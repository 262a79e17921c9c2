// A small display-filter language in Wireshark's spelling: protocol names, fields compared with
// == != < <= > >= (or eq ne lt le gt ge), and/or/not (&& || !), parentheses. Fields the index
// keeps (addresses, ports, TCP flags and analysis, stream numbers, lengths) are answered from
// the index alone; any other field of the details tree (dns.qry.name, vxlan.vni...) makes the
// filter decode the packets it looks at. Pure: no I/O here, the caller supplies the details.
import { ConversationTable } from './conversations';
import { DecodedPacket, DetailNode, Layer, Mark, layerFilterNames } from './packet';
import { PacketIndex } from './packetIndex';
import { analysisFields, hasAnalysisField } from './tcpAnalysis';

export class FilterError extends Error {
  constructor(
    message: string,
    /** Where in the filter text (0-based character offset). */
    readonly position: number,
  ) {
    super(`${message} (at ${position + 1})`);
  }
}

type Operator = '==' | '!=' | '<' | '<=' | '>' | '>=';

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'op'; text: Operator; at: number }
  | { kind: 'and' | 'or' | 'not' | '(' | ')'; at: number }
  | { kind: 'end'; at: number };

const WORD_OPERATORS: Record<string, Operator> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      tokens.push({ kind: two === '&&' ? 'and' : 'or', at: i });
      i += 2;
      continue;
    }
    if (two === '==' || two === '!=' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'op', text: two, at: i });
      i += 2;
      continue;
    }
    if (c === '<' || c === '>') {
      tokens.push({ kind: 'op', text: c, at: i });
      i++;
      continue;
    }
    if (c === '!') {
      tokens.push({ kind: 'not', at: i });
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ kind: c, at: i });
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        value += text[j];
        j++;
      }
      if (j >= text.length) throw new FilterError('unterminated string', i);
      tokens.push({ kind: 'string', text: value, at: i });
      i = j + 1;
      continue;
    }
    const word = /^[A-Za-z0-9_.:/\-]+/.exec(text.slice(i));
    if (!word) throw new FilterError(`unexpected character "${c}"`, i);
    const w = word[0];
    const lower = w.toLowerCase();
    if (lower === 'and' || lower === 'or' || lower === 'not') tokens.push({ kind: lower, at: i });
    else if (WORD_OPERATORS[lower]) tokens.push({ kind: 'op', text: WORD_OPERATORS[lower], at: i });
    else tokens.push({ kind: 'word', text: w, at: i });
    i += w.length;
  }
  tokens.push({ kind: 'end', at: text.length });
  return tokens;
}

/** What a compiled filter asks of one packet. */
export interface PacketView {
  index: PacketIndex;
  i: number;
  /** The packet's details, decoded on first use (only filters on detail fields call it). */
  details(): DecodedPacket;
}

type Predicate = (p: PacketView) => boolean;

interface Node {
  test: Predicate;
  needsDetails: boolean;
}

export interface CompiledFilter {
  text: string;
  /** True when some field is not in the index: evaluating decodes the packets. */
  needsDetails: boolean;
  matches(view: PacketView): boolean;
}

// ---- values -----------------------------------------------------------------------------------

interface AddressValue {
  version: 4 | 6;
  words: number[];
  /** Prefix length in bits (32 or 128 for a single address). */
  prefix: number;
}

function parseAddress(text: string): AddressValue | undefined {
  const [address, prefixText] = text.split('/');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (!(prefix >= 0 && prefix <= 32)) return undefined;
    return { version: 4, words: [0, 0, 0, ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0], prefix: 96 + prefix };
  }
  if (address.includes(':')) {
    const [head, tail] = address.split('::');
    if (address.split('::').length > 2) return undefined;
    const groups = (s: string | undefined) => (s ? s.split(':') : []);
    const h = groups(head);
    const t = groups(tail);
    const all = tail !== undefined ? [...h, ...new Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
    if (all.length !== 8 || !all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
    const n = all.map((g) => parseInt(g, 16));
    const prefix = prefixText === undefined ? 128 : Number(prefixText);
    if (!(prefix >= 0 && prefix <= 128)) return undefined;
    return { version: 6, words: [0, 1, 2, 3].map((k) => ((n[2 * k] << 16) | n[2 * k + 1]) >>> 0), prefix };
  }
  return undefined;
}

function addressMatches(table: ConversationTable, c: number, side: number, value: AddressValue): boolean {
  if (table.versionOf(c) !== value.version) return false;
  let bits = value.prefix;
  for (let k = 0; k < 4 && bits > 0; k++, bits -= 32) {
    const word = table.addressWord(c, side, k);
    const mask = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits) >>> 0;
    if (((word & mask) >>> 0) !== ((value.words[k] & mask) >>> 0)) return false;
  }
  return true;
}

function parseNumber(text: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(text)) return parseInt(text, 16);
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'True' || text === 'TRUE') return 1;
  if (text === 'false' || text === 'False' || text === 'FALSE') return 0;
  return undefined;
}

function compareNumbers(a: number, op: Operator, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

// ---- fields the index answers -------------------------------------------------------------------

/** The conversations a packet belongs to (its own flow, and a tunnel's or a quoted one) with the packet's side in each. */
function flowsOf(index: PacketIndex, i: number, each: (c: number, senderSide: number) => boolean): boolean {
  const c = index.conversation[i];
  if (c >= 0 && each(c, index.marks[i] & Mark.REVERSE ? 1 : 0)) return true;
  const related = index.related[i];
  return related >= 0 && each(related, index.marks[i] & Mark.RELATED_REVERSE ? 1 : 0);
}

const TCP_FLAG_BITS: Record<string, number> = { fin: 0x01, syn: 0x02, reset: 0x04, rst: 0x04, push: 0x08, psh: 0x08, ack: 0x10, urg: 0x20, ece: 0x40, cwr: 0x80, ae: 0x100, ns: 0x100 };

type IndexField =
  | { kind: 'address'; version: 4 | 6; side: 'src' | 'dst' | 'any' }
  | { kind: 'port'; protocol: number; side: 'src' | 'dst' | 'any' }
  | { kind: 'stream'; protocol: number }
  | { kind: 'number'; get: (index: PacketIndex, i: number) => number | undefined };

function indexField(name: string): IndexField | undefined {
  const address = /^(ip|ipv6)\.(addr|src|dst|host)$/.exec(name);
  if (address) return { kind: 'address', version: address[1] === 'ip' ? 4 : 6, side: address[2] === 'src' ? 'src' : address[2] === 'dst' ? 'dst' : 'any' };
  const port = /^(tcp|udp)\.(port|srcport|dstport)$/.exec(name);
  if (port) return { kind: 'port', protocol: port[1] === 'tcp' ? 6 : 17, side: port[2] === 'srcport' ? 'src' : port[2] === 'dstport' ? 'dst' : 'any' };
  const stream = /^(tcp|udp)\.stream$/.exec(name);
  if (stream) return { kind: 'stream', protocol: stream[1] === 'tcp' ? 6 : 17 };
  switch (name) {
    case 'frame.number':
      return { kind: 'number', get: (_, i) => i + 1 };
    case 'frame.len':
      return { kind: 'number', get: (x, i) => x.originalLength[i] };
    case 'frame.cap_len':
      return { kind: 'number', get: (x, i) => x.capturedLength[i] };
    case 'tcp.flags':
      return { kind: 'number', get: (x, i) => (x.layers[i] & Layer.TCP ? x.tcpFlags[i] : undefined) };
    case 'frame.time_relative':
      return { kind: 'number', get: (x, i) => x.time[i] / 1e9 };
  }
  const flag = /^tcp\.flags\.(\w+)$/.exec(name);
  if (flag && TCP_FLAG_BITS[flag[1]] !== undefined) {
    const bit = TCP_FLAG_BITS[flag[1]];
    return { kind: 'number', get: (x, i) => (x.layers[i] & Layer.TCP ? (x.tcpFlags[i] & bit ? 1 : 0) : undefined) };
  }
  const analysis = /^tcp\.analysis\.(\w+)$/.exec(name);
  if (analysis && (analysis[1] === 'flags' || analysisFields.some(([, field]) => field === analysis[1]))) {
    const field = analysis[1];
    return { kind: 'number', get: (x, i) => (hasAnalysisField(x.analysis[i], field) ? 1 : undefined) };
  }
  return undefined;
}

function portMatches(table: ConversationTable, c: number, senderSide: number, protocol: number, side: 'src' | 'dst' | 'any', test: (port: number) => boolean): boolean {
  if (table.protocolOf(c) !== protocol || table.portOf(c, 0) < 0) return false;
  if (side === 'any') return test(table.portOf(c, 0)) || test(table.portOf(c, 1));
  return test(table.portOf(c, side === 'src' ? senderSide : 1 - senderSide));
}

// ---- fields from the details tree ---------------------------------------------------------------

function detailValues(packet: DecodedPacket, name: string): DetailNode[] {
  const found: DetailNode[] = [];
  const walk = (nodes: DetailNode[]) => {
    for (const node of nodes) {
      if (node.name === name) found.push(node);
      if (node.children) walk(node.children);
    }
  };
  walk(packet.layers);
  return found;
}

function valueMatches(node: DetailNode, op: Operator, text: string): boolean {
  const v = node.value;
  if (typeof v === 'number' || typeof v === 'boolean') {
    const n = parseNumber(text);
    return n !== undefined && compareNumbers(typeof v === 'boolean' ? (v ? 1 : 0) : v, op, n);
  }
  if (typeof v === 'string') {
    if (op === '==') return v === text || v.toLowerCase() === text.toLowerCase();
    if (op === '!=') return v !== text && v.toLowerCase() !== text.toLowerCase();
    return compareNumbers(v.localeCompare(text), op, 0);
  }
  return false;
}

// ---- parser ---------------------------------------------------------------------------------------

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.at];
  }
  private take(): Token {
    return this.tokens[this.at++];
  }

  parse(): Node {
    if (this.peek().kind === 'end') throw new FilterError('empty filter', 0);
    const node = this.or();
    const rest = this.peek();
    if (rest.kind !== 'end') throw new FilterError(`unexpected ${describe(rest)}`, rest.at);
    return node;
  }

  private or(): Node {
    let left = this.and();
    while (this.peek().kind === 'or') {
      this.take();
      const right = this.and();
      const [a, b] = [left.test, right.test];
      left = { test: (p) => a(p) || b(p), needsDetails: left.needsDetails || right.needsDetails };
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.peek().kind === 'and') {
      this.take();
      const right = this.not();
      const [a, b] = [left.test, right.test];
      left = { test: (p) => a(p) && b(p), needsDetails: left.needsDetails || right.needsDetails };
    }
    return left;
  }

  private not(): Node {
    if (this.peek().kind === 'not') {
      this.take();
      const inner = this.not();
      const t = inner.test;
      return { test: (p) => !t(p), needsDetails: inner.needsDetails };
    }
    return this.primary();
  }

  private primary(): Node {
    const token = this.take();
    if (token.kind === '(') {
      const inner = this.or();
      const close = this.take();
      if (close.kind !== ')') throw new FilterError(`expected ")" to close the "(" at ${token.at + 1}, found ${describe(close)}`, close.at);
      return inner;
    }
    if (token.kind !== 'word') throw new FilterError(`expected a field or protocol name, found ${describe(token)}`, token.at);
    const field = token.text.toLowerCase();
    if (!/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/.test(field)) throw new FilterError(`"${token.text}" is not a field name`, token.at);
    if (this.peek().kind === 'op') {
      const op = this.take() as { kind: 'op'; text: Operator; at: number };
      const value = this.take();
      if (value.kind !== 'word' && value.kind !== 'string') throw new FilterError(`expected a value after "${op.text}", found ${describe(value)}`, value.at);
      return this.comparison(field, token.at, op.text, value.text, value.at, value.kind === 'string');
    }
    return this.presence(field, token.at);
  }

  /** A bare name: a protocol present, or a field present (a TCP flag or analysis flag set). */
  private presence(field: string, at: number): Node {
    const layer = layerFilterNames[field];
    if (layer !== undefined) return { test: (p) => (p.index.layers[p.i] & layer) !== 0, needsDetails: false };
    if (field === 'icmp.error' || field === 'icmp_error') return { test: (p) => (p.index.marks[p.i] & Mark.ICMP_ERROR) !== 0, needsDetails: false };
    const known = indexField(field);
    if (known?.kind === 'number') {
      const get = known.get;
      const isFlag = /^tcp\.(flags\.|analysis\.)/.test(field);
      return { test: (p) => (isFlag ? !!get(p.index, p.i) : get(p.index, p.i) !== undefined), needsDetails: false };
    }
    if (known?.kind === 'address') {
      const version = known.version;
      return { test: (p) => flowsOf(p.index, p.i, (c) => p.index.conversations.versionOf(c) === version), needsDetails: false };
    }
    if (known?.kind === 'port' || known?.kind === 'stream') {
      const protocol = known.protocol;
      return { test: (p) => flowsOf(p.index, p.i, (c) => p.index.conversations.protocolOf(c) === protocol), needsDetails: false };
    }
    checkDetailField(field, at);
    return { test: (p) => detailValues(p.details(), field).length > 0, needsDetails: true };
  }

  private comparison(field: string, at: number, op: Operator, text: string, valueAt: number, quoted: boolean): Node {
    const known = indexField(field);
    if (known?.kind === 'address') {
      const value = parseAddress(text);
      if (!value) throw new FilterError(`"${text}" is not an IP address`, valueAt);
      if (value.version !== known.version) throw new FilterError(`${field} takes an ${known.version === 4 ? 'IPv4' : 'IPv6'} address; "${text}" is ${value.version === 4 ? 'IPv4 (use ip.*)' : 'IPv6 (use ipv6.*)'}`, valueAt);
      if (op !== '==' && op !== '!=') throw new FilterError(`addresses compare with == or != only`, valueAt - 1);
      const side = known.side;
      const equal: Predicate = (p) =>
        flowsOf(p.index, p.i, (c, sender) => {
          const table = p.index.conversations;
          if (side === 'any') return addressMatches(table, c, 0, value) || addressMatches(table, c, 1, value);
          return addressMatches(table, c, side === 'src' ? sender : 1 - sender, value);
        });
      return { test: op === '==' ? equal : (p) => !equal(p), needsDetails: false };
    }
    if (known) {
      const n = parseNumber(text);
      if (n === undefined || quoted) throw new FilterError(`${field} takes a number; "${text}" is not one`, valueAt);
      if (known.kind === 'port') {
        const { protocol, side } = known;
        const test: Predicate = (p) => flowsOf(p.index, p.i, (c, sender) => portMatches(p.index.conversations, c, sender, protocol, side, (port) => compareNumbers(port, op === '!=' ? '==' : op, n)));
        return { test: op === '!=' ? (p) => !test(p) : test, needsDetails: false };
      }
      if (known.kind === 'stream') {
        const protocol = known.protocol;
        const test: Predicate = (p) => flowsOf(p.index, p.i, (c) => p.index.conversations.protocolOf(c) === protocol && compareNumbers(p.index.conversations.streamOf(c), op === '!=' ? '==' : op, n));
        return { test: op === '!=' ? (p) => !test(p) : test, needsDetails: false };
      }
      const get = known.get;
      const isFlag = /^tcp\.(flags\.|analysis\.)/.test(field) && field !== 'tcp.flags';
      const test: Predicate = (p) => {
        const v = get(p.index, p.i) ?? (isFlag ? 0 : undefined);
        return v !== undefined && compareNumbers(v, op === '!=' ? '==' : op, n);
      };
      return { test: op === '!=' ? (p) => !test(p) : test, needsDetails: false };
    }
    if (layerFilterNames[field] !== undefined) throw new FilterError(`"${field}" is a protocol: use it alone, or one of its fields`, at);
    checkDetailField(field, at);
    const test: Predicate = (p) => detailValues(p.details(), field).some((node) => valueMatches(node, op === '!=' ? '==' : op, text));
    return { test: op === '!=' ? (p) => !test(p) : test, needsDetails: true };
  }
}

/** Protocols whose fields the details tree names; a field of another is a typo to report. */
const DETAIL_PROTOCOLS = new Set(['frame', 'eth', 'vlan', 'ieee8021ad', 'sll', 'null', 'mpls', 'pppoe', 'ppp', 'llc', 'ip', 'ipv6', 'tcp', 'udp', 'icmp', 'icmpv6', 'arp', 'dns', 'vxlan', 'geneve', 'gre', 'data']);

function checkDetailField(field: string, at: number): void {
  const protocol = field.split('.')[0];
  if (!DETAIL_PROTOCOLS.has(protocol)) throw new FilterError(`unknown field or protocol "${field}"`, at);
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the filter';
    case 'word':
      return `"${token.text}"`;
    case 'string':
      return `the string "${token.text}"`;
    case 'op':
      return `"${token.text}"`;
    default:
      return `"${token.kind}"`;
  }
}

/** Compiles a filter; throws FilterError (with the position) when it does not parse. */
export function compileFilter(text: string): CompiledFilter {
  const root = new Parser(tokenize(text)).parse();
  return { text, needsDetails: root.needsDetails, matches: root.test };
}

/**
 * The packets of the index that match. `details(i)` decodes packet i (from the file) and is only
 * called for filters on fields the index does not keep.
 */
export function filterPackets(index: PacketIndex, filter: CompiledFilter, details?: (i: number) => DecodedPacket): Uint32Array {
  const out = new Uint32Array(index.count);
  let n = 0;
  if (filter.needsDetails && !details) throw new Error(`the filter "${filter.text}" needs the packets' details: give filterPackets a way to decode them`);
  let cached: DecodedPacket | undefined;
  const view: PacketView = {
    index,
    i: 0,
    details: () => (cached ??= details!(view.i)),
  };
  for (let i = 0; i < index.count; i++) {
    view.i = i;
    cached = undefined;
    if (filter.matches(view)) out[n++] = i;
  }
  return out.slice(0, n);
}
