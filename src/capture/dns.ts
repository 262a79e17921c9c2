// DNS messages (RFC 1035; also mDNS and LLMNR, which share the format). Our own reader rather
// than a library: the details tree needs each field's byte offset for the hex pane, and a
// truncated or looping message must still show what could be read.
import { hex, ipv4At, ipv6At } from './format';
import { dnsOpcodeNames, dnsRcodeNames, dnsTypeNames } from './names';
import { DetailBuilder, DetailNode } from './packet';

/** Thrown inside the reader only; the caller turns it into a problem on the packet. */
class DnsFormatError extends Error {
  constructor(message: string, readonly at: number) {
    super(message);
  }
}

const MAX_POINTER_JUMPS = 64;
const MAX_NAME_LENGTH = 1024;
/** Records listed in the tree, so a hostile count cannot make the tree huge. */
const MAX_RECORDS = 500;

interface NameRead {
  name: string;
  /** Offset just after the name where it started (after the first pointer, if any). */
  next: number;
}

function readName(b: Uint8Array, message: number, o: number, end: number): NameRead {
  const labels: string[] = [];
  let next = -1;
  let jumps = 0;
  let length = 0;
  for (;;) {
    if (o >= end) throw new DnsFormatError('name runs past the end of the message', o);
    const len = b[o];
    if (len === 0) {
      o++;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (o + 1 >= end) throw new DnsFormatError('name pointer cut short', o);
      const target = message + (((len & 0x3f) << 8) | b[o + 1]);
      if (next < 0) next = o + 2;
      if (++jumps > MAX_POINTER_JUMPS) throw new DnsFormatError('name pointers loop', o);
      if (target >= end) throw new DnsFormatError('name pointer points past the message', o);
      o = target;
      continue;
    }
    if (kind !== 0) throw new DnsFormatError(`unknown label type 0x${(kind >> 6).toString(16)}`, o);
    if (o + 1 + len > end) throw new DnsFormatError('label runs past the end of the message', o);
    let label = '';
    for (let i = o + 1; i <= o + len; i++) {
      const c = b[i];
      label += c > 0x20 && c < 0x7f && c !== 0x2e ? String.fromCharCode(c) : c === 0x2e ? '\\.' : `\\${c.toString(8).padStart(3, '0')}`;
    }
    labels.push(label);
    length += len + 1;
    if (length > MAX_NAME_LENGTH) throw new DnsFormatError('name too long', o);
    o += 1 + len;
  }
  return { name: labels.length ? labels.join('.') : '<Root>', next: next >= 0 ? next : o };
}

function typeName(type: number): string {
  return dnsTypeNames[type] ?? `Unknown (${type})`;
}

interface DnsSummaryParts {
  questions: string[];
  answers: string[];
}

/**
 * Decodes the DNS message at b[o, end) into the details tree (`d`), and the Info column.
 * `label` is the protocol column: DNS, MDNS or LLMNR. Over TCP a 2-byte length comes first.
 */
export function decodeDnsDetails(b: Uint8Array, o: number, end: number, d: DetailBuilder, label: string, overTcp: boolean): void {
  const start = o;
  let messageEnd = end;
  let lengthPrefix = -1;
  if (overTcp) {
    if (end - o < 2) return;
    lengthPrefix = (b[o] << 8) | b[o + 1];
    o += 2;
    messageEnd = Math.min(end, o + lengthPrefix);
  }
  const layer = d.layer('dns', label === 'DNS' ? 'Domain Name System' : label === 'MDNS' ? 'Multicast Domain Name System' : 'Link-local Multicast Name Resolution', start, messageEnd - start);
  if (lengthPrefix >= 0) d.field(layer, 'dns.length', `Length: ${lengthPrefix}`, start, 2, lengthPrefix);
  if (messageEnd - o < 12) {
    d.problem('DNS header cut short', o);
    d.columns(label, '[Malformed Packet]');
    return;
  }
  const id = (b[o] << 8) | b[o + 1];
  const flags = (b[o + 2] << 8) | b[o + 3];
  const response = (flags & 0x8000) !== 0;
  const opcode = (flags >> 11) & 0xf;
  const rcode = flags & 0xf;
  const counts = [0, 1, 2, 3].map((i) => (b[o + 4 + 2 * i] << 8) | b[o + 5 + 2 * i]);
  d.field(layer, 'dns.id', `Transaction ID: ${hex(id, 4)}`, o, 2, id);
  const flagsNode = d.field(layer, 'dns.flags', `Flags: ${hex(flags, 4)} ${dnsOpcodeNames[opcode] ?? `Opcode ${opcode}`}${response ? ' response' : ''}${rcode ? `, ${dnsRcodeNames[rcode] ?? `rcode ${rcode}`}` : ''}`, o + 2, 2, flags);
  d.field(flagsNode, 'dns.flags.response', `Response: ${response ? 'Message is a response' : 'Message is a query'}`, o + 2, 1, response);
  d.field(flagsNode, 'dns.flags.opcode', `Opcode: ${dnsOpcodeNames[opcode] ?? opcode} (${opcode})`, o + 2, 1, opcode);
  if (response) {
    d.field(flagsNode, 'dns.flags.authoritative', `Authoritative: ${(flags & 0x0400) !== 0}`, o + 2, 1, (flags & 0x0400) !== 0);
    d.field(flagsNode, 'dns.flags.truncated', `Truncated: ${(flags & 0x0200) !== 0}`, o + 2, 1, (flags & 0x0200) !== 0);
  }
  d.field(flagsNode, 'dns.flags.recdesired', `Recursion desired: ${(flags & 0x0100) !== 0}`, o + 2, 1, (flags & 0x0100) !== 0);
  if (response) {
    d.field(flagsNode, 'dns.flags.recavail', `Recursion available: ${(flags & 0x0080) !== 0}`, o + 3, 1, (flags & 0x0080) !== 0);
    d.field(flagsNode, 'dns.flags.rcode', `Reply code: ${rcode ? dnsRcodeNames[rcode] ?? rcode : 'No error'} (${rcode})`, o + 3, 1, rcode);
  }
  const countNames = [
    ['dns.count.queries', 'Questions'],
    ['dns.count.answers', 'Answer RRs'],
    ['dns.count.auth_rr', 'Authority RRs'],
    ['dns.count.add_rr', 'Additional RRs'],
  ];
  for (let i = 0; i < 4; i++) d.field(layer, countNames[i][0], `${countNames[i][1]}: ${counts[i]}`, o + 4 + 2 * i, 2, counts[i]);

  const parts: DnsSummaryParts = { questions: [], answers: [] };
  let p = o + 12;
  let malformed = '';
  try {
    if (counts[0] > 0) {
      const queries = d.field(layer, 'dns.queries', 'Queries', p, 0);
      const first = p;
      for (let i = 0; i < counts[0] && i < MAX_RECORDS; i++) p = readQuestion(b, o, p, messageEnd, d, queries, parts);
      queries.length = p - first;
    }
    const sections: [string, string, number][] = [
      ['dns.answers', 'Answers', counts[1]],
      ['dns.authorities', 'Authoritative nameservers', counts[2]],
      ['dns.additional', 'Additional records', counts[3]],
    ];
    for (const [name, title, count] of sections) {
      if (count === 0) continue;
      const section = d.field(layer, name, title, p, 0);
      const first = p;
      for (let i = 0; i < count && i < MAX_RECORDS; i++) p = readRecord(b, o, p, messageEnd, d, section, name === 'dns.answers' ? parts : undefined);
      section.length = p - first;
    }
  } catch (e) {
    if (!(e instanceof DnsFormatError)) throw e;
    malformed = e.message;
    d.problem(`DNS: ${e.message}`, e.at);
  }
  let info = `${dnsOpcodeNames[opcode] ?? `Unknown operation (${opcode})`}${response ? ' response' : ''} ${hex(id, 4)}`;
  if (response && rcode) info += ` ${dnsRcodeNames[rcode] ?? `Unknown error (${rcode})`}`;
  for (const q of parts.questions) info += ` ${q}`;
  for (const a of parts.answers) info += ` ${a}`;
  if (malformed) info += ' [Malformed Packet]';
  d.columns(label, info);
}

function readQuestion(b: Uint8Array, message: number, p: number, end: number, d: DetailBuilder, parent: DetailNode, parts: DnsSummaryParts): number {
  const name = readName(b, message, p, end);
  if (name.next + 4 > end) throw new DnsFormatError('question cut short', name.next);
  const type = (b[name.next] << 8) | b[name.next + 1];
  const klass = (b[name.next + 2] << 8) | b[name.next + 3];
  const node = d.field(parent, 'dns.qry', `${name.name}: type ${typeName(type)}, class ${className(klass)}`, p, name.next + 4 - p);
  d.field(node, 'dns.qry.name', `Name: ${name.name}`, p, name.next - p, name.name);
  d.field(node, 'dns.qry.type', `Type: ${typeName(type)} (${type})`, name.next, 2, type);
  d.field(node, 'dns.qry.class', `Class: ${className(klass)} (${hex(klass, 4)})`, name.next + 2, 2, klass);
  parts.questions.push(`${typeName(type)} ${name.name}`);
  return name.next + 4;
}

function className(klass: number): string {
  const base = klass & 0x7fff;
  return base === 1 ? 'IN' : base === 3 ? 'CH' : base === 4 ? 'HS' : base === 255 ? 'ANY' : `${klass}`;
}

function readRecord(b: Uint8Array, message: number, p: number, end: number, d: DetailBuilder, parent: DetailNode, parts: DnsSummaryParts | undefined): number {
  const name = readName(b, message, p, end);
  const q = name.next;
  if (q + 10 > end) throw new DnsFormatError('resource record cut short', q);
  const type = (b[q] << 8) | b[q + 1];
  const klass = (b[q + 2] << 8) | b[q + 3];
  const ttl = ((b[q + 4] << 24) | (b[q + 5] << 16) | (b[q + 6] << 8) | b[q + 7]) >>> 0;
  const rdLength = (b[q + 8] << 8) | b[q + 9];
  const r = q + 10;
  if (r + rdLength > end) throw new DnsFormatError('resource record data runs past the end of the message', r);
  const value = rdataText(b, message, type, r, rdLength, end);
  const node = d.field(parent, 'dns.resp', `${name.name}: type ${typeName(type)}, class ${type === 41 ? `(UDP payload size ${klass})` : className(klass)}${value ? `, ${value}` : ''}`, p, r + rdLength - p);
  d.field(node, 'dns.resp.name', `Name: ${name.name}`, p, q - p, name.name);
  d.field(node, 'dns.resp.type', `Type: ${typeName(type)} (${type})`, q, 2, type);
  if (type === 41) d.field(node, 'dns.rr.udp_payload_size', `UDP payload size: ${klass}`, q + 2, 2, klass);
  else d.field(node, 'dns.resp.class', `Class: ${className(klass)} (${hex(klass, 4)})`, q + 2, 2, klass);
  if (type !== 41) d.field(node, 'dns.resp.ttl', `Time to live: ${ttl}`, q + 4, 4, ttl);
  d.field(node, 'dns.resp.len', `Data length: ${rdLength}`, q + 8, 2, rdLength);
  if (value) d.field(node, rdataFieldName(type), value, r, rdLength, value.replace(/^\S+: /, ''));
  if (parts) parts.answers.push(`${typeName(type)}${value ? ' ' + value.replace(/^\S+: /, '') : ''}`);
  return r + rdLength;
}

function rdataFieldName(type: number): string {
  switch (type) {
    case 1:
      return 'dns.a';
    case 28:
      return 'dns.aaaa';
    case 5:
      return 'dns.cname';
    case 2:
      return 'dns.ns';
    case 12:
      return 'dns.ptr.domain_name';
    case 15:
      return 'dns.mx.mail_exchange';
    case 16:
      return 'dns.txt';
    case 33:
      return 'dns.srv.target';
    default:
      return 'dns.data';
  }
}

/** The record's data as text ("addr: 10.0.0.1"); empty for types shown as raw bytes only. */
function rdataText(b: Uint8Array, message: number, type: number, r: number, length: number, end: number): string {
  switch (type) {
    case 1:
      return length === 4 ? `addr: ${ipv4At(b, r)}` : '';
    case 28:
      return length === 16 ? `addr: ${ipv6At(b, r)}` : '';
    case 2:
    case 5:
    case 12:
    case 39:
      return `${type === 5 ? 'cname' : type === 2 ? 'ns' : type === 12 ? 'ptr' : 'dname'}: ${readName(b, message, r, Math.min(end, r + length)).name}`;
    case 15:
      if (length < 3) return '';
      return `mx: ${(b[r] << 8) | b[r + 1]} ${readName(b, message, r + 2, Math.min(end, r + length)).name}`;
    case 33:
      if (length < 7) return '';
      return `srv: ${(b[r] << 8) | b[r + 1]} ${(b[r + 2] << 8) | b[r + 3]} ${(b[r + 4] << 8) | b[r + 5]} ${readName(b, message, r + 6, Math.min(end, r + length)).name}`;
    case 16: {
      const strings: string[] = [];
      let p = r;
      while (p < r + length) {
        const len = b[p];
        if (p + 1 + len > r + length) break;
        strings.push(Buffer.from(b.buffer, b.byteOffset + p + 1, len).toString('latin1'));
        p += 1 + len;
      }
      return `txt: ${strings.join(' ')}`;
    }
    case 6: {
      const mname = readName(b, message, r, Math.min(end, r + length));
      const rname = readName(b, message, mname.next, Math.min(end, r + length));
      return `soa: ${mname.name} ${rname.name}`;
    }
    default:
      return '';
  }
}
