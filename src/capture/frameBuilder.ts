// Builds frames byte by byte (Ethernet, Linux cooked v2, IPv4/IPv6, TCP, UDP, ICMP, VXLAN) with
// correct lengths and checksums: for tests, the benchmark's generated capture, and anyone who
// needs a well-formed packet to show.

export function parseIpv4(text: string): Buffer {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`not an IPv4 address: ${text}`);
  return Buffer.from(parts);
}

export function parseIpv6(text: string): Buffer {
  const [head, tail] = text.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail !== undefined ? [...h, ...new Array(8 - h.length - t.length).fill(0), ...t] : h;
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`not an IPv6 address: ${text}`);
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
  return b;
}

function parseAddress(text: string): Buffer {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

export function parseMac(text: string): Buffer {
  return Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
}

/** The Internet checksum of some byte ranges (RFC 1071). */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd = false;
  let carry = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      if (odd) sum += carry | part[i];
      else carry = part[i] << 8;
      odd = !odd;
    }
  }
  if (odd) sum += carry;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudoHeader(src: Buffer, dst: Buffer, protocol: number, length: number): Buffer {
  if (src.length === 4) {
    const b = Buffer.alloc(12);
    src.copy(b, 0);
    dst.copy(b, 4);
    b[9] = protocol;
    b.writeUInt16BE(length, 10);
    return b;
  }
  const b = Buffer.alloc(40);
  src.copy(b, 0);
  dst.copy(b, 16);
  b.writeUInt32BE(length, 32);
  b[39] = protocol;
  return b;
}

export interface TcpOptionsSpec {
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  timestamps?: [number, number];
  sack?: [number, number][];
}

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export interface TcpSpec {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  options?: TcpOptionsSpec;
  payload?: Uint8Array | number;
}

function tcpOptionBytes(o: TcpOptionsSpec | undefined): Buffer {
  if (!o) return Buffer.alloc(0);
  const parts: number[] = [];
  if (o.mss !== undefined) parts.push(2, 4, o.mss >> 8, o.mss & 0xff);
  if (o.sackPermitted) parts.push(4, 2);
  if (o.timestamps) {
    const t = Buffer.alloc(10);
    t[0] = 8;
    t[1] = 10;
    t.writeUInt32BE(o.timestamps[0] >>> 0, 2);
    t.writeUInt32BE(o.timestamps[1] >>> 0, 6);
    parts.push(...t);
  }
  if (o.sack?.length) {
    const t = Buffer.alloc(2 + 8 * o.sack.length);
    t[0] = 5;
    t[1] = t.length;
    o.sack.forEach(([l, r], i) => {
      t.writeUInt32BE(l >>> 0, 2 + 8 * i);
      t.writeUInt32BE(r >>> 0, 6 + 8 * i);
    });
    parts.push(1, 1, ...t);
  }
  if (o.windowScale !== undefined) parts.push(1, 3, 3, o.windowScale);
  while (parts.length % 4) parts.push(0);
  return Buffer.from(parts);
}

function payloadBytes(payload: Uint8Array | number | undefined): Buffer {
  if (payload === undefined) return Buffer.alloc(0);
  if (typeof payload === 'number') return Buffer.alloc(payload, 0x61);
  return Buffer.from(payload);
}

export function tcpSegment(src: string, dst: string, spec: TcpSpec): Buffer {
  const options = tcpOptionBytes(spec.options);
  const payload = payloadBytes(spec.payload);
  const b = Buffer.alloc(20 + options.length + payload.length);
  b.writeUInt16BE(spec.srcPort, 0);
  b.writeUInt16BE(spec.dstPort, 2);
  b.writeUInt32BE(spec.seq >>> 0, 4);
  b.writeUInt32BE((spec.ack ?? 0) >>> 0, 8);
  b.writeUInt16BE((((20 + options.length) / 4) << 12) | (spec.flags & 0x1ff), 12);
  b.writeUInt16BE(spec.window ?? 65535, 14);
  options.copy(b, 20);
  payload.copy(b, 20 + options.length);
  const checksum = internetChecksum(pseudoHeader(parseAddress(src), parseAddress(dst), 6, b.length), b);
  b.writeUInt16BE(checksum, 16);
  return b;
}

export function udpDatagram(src: string, dst: string, srcPort: number, dstPort: number, payload: Uint8Array | number): Buffer {
  const data = payloadBytes(payload);
  const b = Buffer.alloc(8 + data.length);
  b.writeUInt16BE(srcPort, 0);
  b.writeUInt16BE(dstPort, 2);
  b.writeUInt16BE(b.length, 4);
  data.copy(b, 8);
  const checksum = internetChecksum(pseudoHeader(parseAddress(src), parseAddress(dst), 17, b.length), b);
  b.writeUInt16BE(checksum === 0 ? 0xffff : checksum, 6);
  return b;
}

export function icmpMessage(type: number, code: number, rest: Uint8Array, body: Uint8Array = Buffer.alloc(0)): Buffer {
  const b = Buffer.concat([Buffer.from([type, code, 0, 0]), Buffer.from(rest), Buffer.from(body)]);
  b.writeUInt16BE(internetChecksum(b), 2);
  return b;
}

export interface Ipv4Spec {
  ttl?: number;
  id?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  fragmentOffset?: number;
  /** Options bytes (padded to 4 by the caller). */
  options?: Uint8Array;
}

export function ipv4Packet(src: string, dst: string, protocol: number, payload: Uint8Array, spec: Ipv4Spec = {}): Buffer {
  const options = spec.options ? Buffer.from(spec.options) : Buffer.alloc(0);
  const headerLength = 20 + options.length;
  const b = Buffer.alloc(headerLength + payload.length);
  b[0] = 0x40 | (headerLength / 4);
  b.writeUInt16BE(b.length, 2);
  b.writeUInt16BE(spec.id ?? 0x1234, 4);
  b.writeUInt16BE((spec.dontFragment ? 0x4000 : 0) | (spec.moreFragments ? 0x2000 : 0) | ((spec.fragmentOffset ?? 0) >> 3), 6);
  b[8] = spec.ttl ?? 64;
  b[9] = protocol;
  parseIpv4(src).copy(b, 12);
  parseIpv4(dst).copy(b, 16);
  options.copy(b, 20);
  b.writeUInt16BE(internetChecksum(b.subarray(0, headerLength)), 10);
  b.set(payload, headerLength);
  return b;
}

export function ipv6Packet(src: string, dst: string, nextHeader: number, payload: Uint8Array, hopLimit = 64): Buffer {
  const b = Buffer.alloc(40 + payload.length);
  b.writeUInt32BE(0x60000000, 0);
  b.writeUInt16BE(payload.length, 4);
  b[6] = nextHeader;
  b[7] = hopLimit;
  parseIpv6(src).copy(b, 8);
  parseIpv6(dst).copy(b, 24);
  b.set(payload, 40);
  return b;
}

/** An IP packet of the right version for its addresses. */
export function ipPacket(src: string, dst: string, protocol: number, payload: Uint8Array, spec: Ipv4Spec = {}): Buffer {
  return src.includes(':') ? ipv6Packet(src, dst, protocol, payload, spec.ttl) : ipv4Packet(src, dst, protocol, payload, spec);
}

export function ethernetFrame(etherType: number, payload: Uint8Array, src = '02:42:0a:00:00:01', dst = '02:42:0a:00:00:02', vlanIds: number[] = []): Buffer {
  const tags = vlanIds.map((id, i) => {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(i === 0 && vlanIds.length > 1 ? 0x88a8 : 0x8100, 0);
    t.writeUInt16BE(id & 0xfff, 2);
    return t;
  });
  const header = Buffer.alloc(14);
  parseMac(dst).copy(header, 0);
  parseMac(src).copy(header, 6);
  // With tags, the first TPID sits where the type would, and each tag ends with the next type.
  if (tags.length) {
    tags[0].copy(header, 12, 0, 2);
    const body: Buffer[] = [];
    for (let i = 0; i < tags.length; i++) {
      const t = Buffer.alloc(4);
      t.writeUInt16BE(tags[i].readUInt16BE(2), 0);
      t.writeUInt16BE(i + 1 < tags.length ? tags[i + 1].readUInt16BE(0) : etherType, 2);
      body.push(t);
    }
    return Buffer.concat([header, ...body, Buffer.from(payload)]);
  }
  header.writeUInt16BE(etherType, 12);
  return Buffer.concat([header, Buffer.from(payload)]);
}

/** Linux cooked v2 (what `tcpdump -i any` writes). */
export function sll2Frame(protocol: number, payload: Uint8Array, interfaceIndex = 2, packetType = 0, mac = '02:42:0a:00:00:01'): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(protocol, 0);
  b.writeUInt32BE(interfaceIndex, 4);
  b.writeUInt16BE(1, 8);
  b[10] = packetType;
  b[11] = 6;
  parseMac(mac).copy(b, 12);
  return Buffer.concat([b, Buffer.from(payload)]);
}

export function vxlanPayload(vni: number, innerFrame: Uint8Array): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x08;
  b.writeUIntBE(vni, 4, 3);
  return Buffer.concat([b, Buffer.from(innerFrame)]);
}

/** An Ethernet/IP frame of the right EtherType for the addresses. */
export function ipFrame(src: string, dst: string, protocol: number, payload: Uint8Array, spec: Ipv4Spec = {}): Buffer {
  return ethernetFrame(src.includes(':') ? 0x86dd : 0x0800, ipPacket(src, dst, protocol, payload, spec));
}

export function tcpFrame(src: string, dst: string, spec: TcpSpec, ip: Ipv4Spec = {}): Buffer {
  return ipFrame(src, dst, 6, tcpSegment(src, dst, spec), ip);
}

export function udpFrame(src: string, dst: string, srcPort: number, dstPort: number, payload: Uint8Array | number, ip: Ipv4Spec = {}): Buffer {
  return ipFrame(src, dst, 17, udpDatagram(src, dst, srcPort, dstPort, payload), ip);
}

/** A DNS query or response with A answers, as bytes (for UDP payloads). */
export function dnsMessage(id: number, name: string, answers: string[] = [], response = answers.length > 0, type = 1): Buffer {
  const labels = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(response ? 0x8180 : 0x0100, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const question = Buffer.concat([labels, Buffer.from([0, type, 0, 1])]);
  const records = answers.map((address) => {
    const r = Buffer.alloc(12);
    r.writeUInt16BE(0xc00c, 0);
    r.writeUInt16BE(type, 2);
    r.writeUInt16BE(1, 4);
    r.writeUInt32BE(60, 6);
    const data = type === 28 ? parseIpv6(address) : parseIpv4(address);
    r.writeUInt16BE(data.length, 10);
    return Buffer.concat([r, data]);
  });
  return Buffer.concat([header, question, ...records]);
}
