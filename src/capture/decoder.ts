// Frame decoding, from the link layer down to TCP/UDP/ICMP and the few applications that matter
// here (DNS, VXLAN). One pass serves two callers: the indexer (facts only: no allocation, no
// strings) and the details view (the same pass, also building the tree and the summary columns),
// so what the list shows and what the details say cannot disagree.
import { decodeDnsDetails } from './dns';
import { bytesHex, hex, ipv4At, ipv4Text, ipv6At, macAt } from './format';
import { LinkType, linkTypeName } from './linkTypes';
import { etherTypeNames, icmpTypeNames, icmpUnreachableCodes, icmpv6TypeNames, icmpv6UnreachableCodes, ipProtocolNames, sllPacketTypes } from './names';
import { DecodedPacket, DetailBuilder, DetailNode, Layer, Mark, PacketFacts, Protocol } from './packet';

export interface DecodeOptions {
  /** UDP ports that carry VXLAN besides 4789 (a swarm's --data-path-port). */
  vxlanPorts?: number[];
}

/** What the details view knows beyond the frame: from the file and from the index. */
export interface FrameContext {
  number?: number;
  seconds?: number;
  nanoseconds?: number;
  interfaceName?: string;
  /** TCP: the conversation's initial sequence numbers (for relative Seq/Ack) and window shift. */
  tcp?: { baseSeq: number; reverseBaseSeq: number | undefined; relative: boolean; windowShift: number; stream: number };
  /** UDP stream (conversation) number, for udp.stream. */
  udpStream?: number;
  /** Analysis notes, e.g. ["TCP Retransmission"], put in front of Info as Wireshark does. */
  analysis?: string[];
}

/** What a UDP port carries, for the decoder and the index's fast path. */
export const enum UdpApp {
  NONE = 0,
  DNS = 1,
  MDNS = 2,
  LLMNR = 3,
  VXLAN = 4,
  GENEVE = 5,
}

const TCP_FLAG_NAMES: [number, string][] = [
  [0x001, 'FIN'],
  [0x002, 'SYN'],
  [0x004, 'RST'],
  [0x008, 'PSH'],
  [0x010, 'ACK'],
  [0x020, 'URG'],
  [0x040, 'ECE'],
  [0x080, 'CWR'],
  [0x100, 'AE'],
  [0xe00, 'Reserved'],
];

export function tcpFlagsText(flags: number): string {
  const names = TCP_FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name);
  return names.length ? names.join(', ') : '<None>';
}

/** The dotted or IPv6 text of an address kept as words (see PacketFacts.address). */
export function addressText(version: number, words: Uint32Array, at: number): string {
  if (version === 4) return ipv4Text(words[at + 3]);
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const w = words[at + i];
    bytes[4 * i] = w >>> 24;
    bytes[4 * i + 1] = (w >>> 16) & 0xff;
    bytes[4 * i + 2] = (w >>> 8) & 0xff;
    bytes[4 * i + 3] = w & 0xff;
  }
  return ipv6At(bytes, 0);
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Tunnels nest; past this depth the rest of the frame is left undecoded (a crafted frame). */
const MAX_DEPTH = 8;

export class PacketDecoder {
  /** What each UDP port carries (UdpApp; 0: nothing decoded further). Not to be changed. */
  readonly udpApps = new Uint8Array(65536);
  private depth = 0;
  /** Details for the TCP segment being decoded (relative numbers), when the caller knows them. */
  private context: FrameContext | undefined;

  constructor(options: DecodeOptions = {}) {
    this.udpApps[53] = UdpApp.DNS;
    this.udpApps[5353] = UdpApp.MDNS;
    this.udpApps[5355] = UdpApp.LLMNR;
    this.udpApps[4789] = UdpApp.VXLAN;
    this.udpApps[6081] = UdpApp.GENEVE;
    for (const port of options.vxlanPorts ?? []) if (port > 0 && port < 65536) this.udpApps[port] = UdpApp.VXLAN;
  }

  /** Facts only: for indexing. `f` is reset and filled. */
  decode(b: Uint8Array, start: number, capturedLength: number, originalLength: number, linkType: number, f: PacketFacts): void {
    f.reset(linkType);
    this.depth = 0;
    this.context = undefined;
    const end = start + capturedLength;
    this.link(b, start, end, start + Math.max(originalLength, capturedLength), linkType, f, null);
  }

  /** Facts, details tree and summary columns: for the selected packet and visible rows. */
  details(b: Uint8Array, start: number, capturedLength: number, originalLength: number, linkType: number, context: FrameContext = {}, f: PacketFacts = new PacketFacts()): DecodedPacket {
    f.reset(linkType);
    this.depth = 0;
    this.context = context;
    const d = new DetailBuilder(start);
    const end = start + capturedLength;
    const frame = d.layer('frame', `Frame${context.number !== undefined ? ' ' + context.number : ''}: ${originalLength} bytes on wire, ${capturedLength} bytes captured`, start, capturedLength);
    if (context.interfaceName) d.field(frame, 'frame.interface_name', `Interface: ${context.interfaceName}`, start, 0, context.interfaceName);
    if (context.seconds !== undefined) {
      const date = new Date(context.seconds * 1000);
      const fraction = String(context.nanoseconds ?? 0).padStart(9, '0');
      // A corrupt timestamp can lie outside what a Date holds: then say the seconds.
      const time = Number.isNaN(date.getTime()) ? `${context.seconds}.${fraction} s after the epoch (beyond dates)` : `${date.toISOString().replace(/\.\d+Z$/, '')}.${fraction} UTC`;
      d.field(frame, 'frame.time', `Arrival time: ${time}`, start, 0, `${context.seconds}.${fraction}`);
    }
    d.field(frame, 'frame.len', `Frame length: ${originalLength} bytes`, start, 0, originalLength);
    d.field(frame, 'frame.cap_len', `Capture length: ${capturedLength} bytes`, start, 0, capturedLength);
    d.field(frame, 'frame.encap', `Link type: ${linkTypeName(linkType)} (${linkType})`, start, 0, linkType);
    d.columns(linkTypeName(linkType), '');
    try {
      this.link(b, start, end, start + Math.max(originalLength, capturedLength), linkType, f, d);
    } finally {
      this.context = undefined;
    }
    if (context.analysis?.length) d.info = context.analysis.map((a) => `[${a}] `).join('') + d.info;
    if (f.marks & Mark.TRUNCATED && !(f.marks & Mark.MALFORMED) && capturedLength < originalLength) d.info += ' [Packet size limited during capture]';
    return { source: d.source, destination: d.destination, protocol: d.protocol, info: d.info, layers: d.layers, problems: d.problems };
  }

  // ---- link layers -------------------------------------------------------------------------

  private link(b: Uint8Array, o: number, end: number, reported: number, linkType: number, f: PacketFacts, d: DetailBuilder | null): void {
    switch (linkType) {
      case LinkType.ETHERNET:
        return this.ethernet(b, o, end, reported, f, d);
      case LinkType.LINUX_SLL:
        return this.sll(b, o, end, reported, f, d);
      case LinkType.LINUX_SLL2:
        return this.sll2(b, o, end, reported, f, d);
      case LinkType.NULL:
      case LinkType.LOOP:
        return this.loopback(b, o, end, reported, linkType, f, d);
      case LinkType.RAW:
      case LinkType.RAW_12:
      case LinkType.RAW_14:
        return this.rawIp(b, o, end, reported, f, d);
      case LinkType.IPV4:
        return this.ipv4(b, o, end, reported, f, d);
      case LinkType.IPV6:
        return this.ipv6(b, o, end, reported, f, d);
      default:
        if (d) d.columns(linkTypeName(linkType), `Link type ${linkType} is not decoded`);
    }
  }

  private truncated(f: PacketFacts, d: DetailBuilder | null, what: string, at: number): void {
    f.marks |= Mark.TRUNCATED;
    if (d) {
      d.problem(`${what}: frame ends`, at);
      if (!d.quoting) d.info = d.info ? `${d.info} [truncated]` : `${what} (truncated)`;
    }
  }

  private malformed(f: PacketFacts, d: DetailBuilder | null, what: string, at: number): void {
    f.marks |= Mark.MALFORMED;
    if (d) {
      d.problem(what, at);
      if (!d.quoting) d.info = d.info ? `${d.info} [${what}]` : what;
    }
  }

  private ethernet(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 14) return this.truncated(f, d, 'Ethernet header', o);
    f.layers |= Layer.ETH;
    f.protocol = Protocol.ETHERNET;
    const type = u16(b, o + 12);
    if (d) {
      const dst = macAt(b, o);
      const src = macAt(b, o + 6);
      const layer = d.layer('eth', `Ethernet II, Src: ${src}, Dst: ${dst}`, o, 14);
      d.field(layer, 'eth.dst', `Destination: ${dst}`, o, 6, dst);
      d.field(layer, 'eth.src', `Source: ${src}`, o + 6, 6, src);
      if (type > 1500) d.field(layer, 'eth.type', `Type: ${etherTypeNames[type] ?? 'Unknown'} (${hex(type, 4)})`, o + 12, 2, type);
      else d.field(layer, 'eth.len', `Length: ${type}`, o + 12, 2, type);
      d.addresses(src, dst);
      d.columns('Ethernet', type > 1500 ? `Ethernet II, type ${hex(type, 4)}` : `IEEE 802.3, length ${type}`);
    }
    if (type <= 1500) return this.llc(b, o + 14, Math.min(end, o + 14 + type), Math.min(reported, o + 14 + type), f, d);
    this.etherPayload(type, b, o + 14, end, reported, f, d);
  }

  private llc(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 3) return this.truncated(f, d, 'LLC header', o);
    const dsap = b[o];
    const ssap = b[o + 1];
    if (dsap === 0xaa && ssap === 0xaa && end - o >= 8) {
      const oui = (b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5];
      const type = u16(b, o + 6);
      if (d) {
        const layer = d.layer('llc', `Logical-Link Control, SNAP, OUI ${hex(oui, 6)}, PID ${hex(type, 4)}`, o, 8);
        d.field(layer, 'llc.oui', `Organization code: ${hex(oui, 6)}`, o + 3, 3, oui);
        d.field(layer, 'llc.pid', `Protocol ID: ${hex(type, 4)}`, o + 6, 2, type);
      }
      if (oui === 0 || oui === 0xf8) return this.etherPayload(type, b, o + 8, end, reported, f, d);
      return;
    }
    if (d) {
      const name = dsap === 0x42 ? 'STP' : dsap === 0xe0 ? 'IPX' : dsap === 0xf0 ? 'NetBIOS' : dsap === 0xfe ? 'OSI' : 'LLC';
      const layer = d.layer('llc', `Logical-Link Control, DSAP ${hex(dsap, 2)}, SSAP ${hex(ssap, 2)}`, o, 3);
      d.field(layer, 'llc.dsap', `DSAP: ${hex(dsap, 2)}`, o, 1, dsap);
      d.field(layer, 'llc.ssap', `SSAP: ${hex(ssap, 2)}`, o + 1, 1, ssap);
      d.columns(name, `${name} (DSAP ${hex(dsap, 2)}, SSAP ${hex(ssap, 2)})`);
    }
  }

  private etherPayload(type: number, b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    switch (type) {
      case 0x0800:
        return this.ipv4(b, o, end, reported, f, d);
      case 0x86dd:
        return this.ipv6(b, o, end, reported, f, d);
      case 0x0806:
        return this.arp(b, o, end, f, d);
      case 0x8100:
      case 0x88a8:
      case 0x9100:
        return this.vlan(type, b, o, end, reported, f, d);
      case 0x8847:
      case 0x8848:
        return this.mpls(b, o, end, reported, f, d);
      case 0x8864:
        return this.pppoe(b, o, end, reported, f, d);
      case 0x6558:
        if (++this.depth > MAX_DEPTH) return;
        return this.ethernet(b, o, end, reported, f, d);
      default:
        if (d) {
          const name = etherTypeNames[type];
          d.columns(name ?? 'Ethernet', name ? `${name}` : `Ethertype ${hex(type, 4)} (not decoded)`);
        }
    }
  }

  private vlan(tpid: number, b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 4) return this.truncated(f, d, '802.1Q tag', o);
    if (++this.depth > MAX_DEPTH) return;
    const tci = u16(b, o);
    const type = u16(b, o + 2);
    const id = tci & 0x0fff;
    f.layers |= Layer.VLAN;
    if (f.vlanId < 0) f.vlanId = id;
    if (d) {
      // Wireshark names an 802.1ad (provider) tag's fields ieee8021ad.*, an 802.1Q tag's vlan.*.
      const prefix = tpid === 0x88a8 ? 'ieee8021ad' : 'vlan';
      const layer = d.layer(prefix, `802.1${tpid === 0x88a8 ? 'ad' : 'Q'} Virtual LAN, PRI: ${tci >> 13}, DEI: ${(tci >> 12) & 1}, ID: ${id}`, o, 4);
      d.field(layer, `${prefix}.priority`, `Priority: ${tci >> 13}`, o, 2, tci >> 13);
      d.field(layer, `${prefix}.dei`, `DEI: ${(tci >> 12) & 1}`, o, 2, (tci >> 12) & 1);
      d.field(layer, `${prefix}.id`, `ID: ${id}`, o, 2, id);
      if (type > 1500) d.field(layer, `${prefix}.etype`, `Type: ${etherTypeNames[type] ?? 'Unknown'} (${hex(type, 4)})`, o + 2, 2, type);
      else d.field(layer, `${prefix}.len`, `Length: ${type}`, o + 2, 2, type);
    }
    if (type <= 1500) return this.llc(b, o + 4, Math.min(end, o + 4 + type), Math.min(reported, o + 4 + type), f, d);
    this.etherPayload(type, b, o + 4, end, reported, f, d);
  }

  private mpls(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    f.layers |= Layer.MPLS;
    const layer = d ? d.layer('mpls', 'MultiProtocol Label Switching Header', o, 0) : null;
    for (let i = 0; i < 16; i++) {
      if (end - o < 4) return this.truncated(f, d, 'MPLS label', o);
      const entry = u32(b, o);
      if (d && layer) {
        layer.length += 4;
        d.field(layer, 'mpls.label', `MPLS Label: ${entry >>> 12}, Exp: ${(entry >> 9) & 7}, S: ${(entry >> 8) & 1}, TTL: ${entry & 0xff}`, o, 4, entry >>> 12);
      }
      o += 4;
      if (entry & 0x100) break;
    }
    if (end - o < 1) return;
    const version = b[o] >> 4;
    if (version === 4) return this.ipv4(b, o, end, reported, f, d);
    if (version === 6) return this.ipv6(b, o, end, reported, f, d);
    if (d) d.columns('MPLS', 'MPLS payload not decoded');
  }

  private pppoe(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 8) return this.truncated(f, d, 'PPPoE header', o);
    const session = u16(b, o + 2);
    const length = u16(b, o + 4);
    const protocol = u16(b, o + 6);
    if (d) {
      const layer = d.layer('pppoes', `PPP-over-Ethernet Session, session ${hex(session, 4)}`, o, 6);
      d.field(layer, 'pppoe.session_id', `Session ID: ${hex(session, 4)}`, o + 2, 2, session);
      d.field(layer, 'pppoe.payload_length', `Payload Length: ${length}`, o + 4, 2, length);
      const ppp = d.layer('ppp', `Point-to-Point Protocol, protocol ${hex(protocol, 4)}`, o + 6, 2);
      d.field(ppp, 'ppp.protocol', `Protocol: ${hex(protocol, 4)}`, o + 6, 2, protocol);
      d.columns('PPPoES', `PPP protocol ${hex(protocol, 4)}`);
    }
    const payloadEnd = o + 6 + length;
    if (protocol === 0x0021) return this.ipv4(b, o + 8, Math.min(end, payloadEnd), Math.min(reported, payloadEnd), f, d);
    if (protocol === 0x0057) return this.ipv6(b, o + 8, Math.min(end, payloadEnd), Math.min(reported, payloadEnd), f, d);
  }

  private sll(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 16) return this.truncated(f, d, 'Linux cooked header', o);
    f.layers |= Layer.SLL;
    const packetType = u16(b, o);
    const hardware = u16(b, o + 2);
    const addressLength = u16(b, o + 4);
    const protocol = u16(b, o + 14);
    f.linkPacketType = packetType;
    if (d) {
      const layer = d.layer('sll', 'Linux cooked capture v1', o, 16);
      d.field(layer, 'sll.pkttype', `Packet type: ${sllPacketTypes[packetType] ?? 'Unknown'} (${packetType})`, o, 2, packetType);
      d.field(layer, 'sll.hatype', `Link-layer address type: ${hardware}`, o + 2, 2, hardware);
      d.field(layer, 'sll.halen', `Link-layer address length: ${addressLength}`, o + 4, 2, addressLength);
      if (addressLength > 0) {
        const source = macAt(b, o + 6, Math.min(addressLength, 8));
        d.field(layer, 'sll.src.eth', `Source: ${source}`, o + 6, Math.min(addressLength, 8), source);
        d.addresses(source, '');
      }
      d.field(layer, 'sll.etype', `Protocol: ${etherTypeNames[protocol] ?? 'Unknown'} (${hex(protocol, 4)})`, o + 14, 2, protocol);
    }
    this.cookedPayload(hardware, protocol, b, o + 16, end, reported, f, d);
  }

  private sll2(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 20) return this.truncated(f, d, 'Linux cooked v2 header', o);
    f.layers |= Layer.SLL;
    const protocol = u16(b, o);
    const interfaceIndex = u32(b, o + 4);
    const hardware = u16(b, o + 8);
    const packetType = b[o + 10];
    const addressLength = b[o + 11];
    f.linkPacketType = packetType;
    f.linkInterface = interfaceIndex;
    if (d) {
      const layer = d.layer('sll', `Linux cooked capture v2, interface ${interfaceIndex}, ${sllPacketTypes[packetType] ?? 'packet type ' + packetType}`, o, 20);
      d.field(layer, 'sll.etype', `Protocol: ${etherTypeNames[protocol] ?? 'Unknown'} (${hex(protocol, 4)})`, o, 2, protocol);
      d.field(layer, 'sll.ifindex', `Interface index: ${interfaceIndex}`, o + 4, 4, interfaceIndex);
      d.field(layer, 'sll.hatype', `Link-layer address type: ${hardware}`, o + 8, 2, hardware);
      d.field(layer, 'sll.pkttype', `Packet type: ${sllPacketTypes[packetType] ?? 'Unknown'} (${packetType})`, o + 10, 1, packetType);
      d.field(layer, 'sll.halen', `Link-layer address length: ${addressLength}`, o + 11, 1, addressLength);
      if (addressLength > 0) {
        const source = macAt(b, o + 12, Math.min(addressLength, 8));
        d.field(layer, 'sll.src.eth', `Source: ${source}`, o + 12, Math.min(addressLength, 8), source);
        d.addresses(source, '');
      }
    }
    this.cookedPayload(hardware, protocol, b, o + 20, end, reported, f, d);
  }

  private cookedPayload(hardware: number, protocol: number, b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    // ARPHRD_IPGRE (778) carries a GRE protocol type; 824 is netlink (not decoded).
    if (hardware === 824) {
      if (d) d.columns('Netlink', 'Netlink message (not decoded)');
      return;
    }
    if (protocol === 0x0004) return this.llc(b, o, end, reported, f, d);
    if (protocol < 0x0600) {
      if (d) d.columns('SLL', `Linux cooked protocol ${hex(protocol, 4)} (not decoded)`);
      return;
    }
    this.etherPayload(protocol, b, o, end, reported, f, d);
  }

  private loopback(b: Uint8Array, o: number, end: number, reported: number, linkType: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 4) return this.truncated(f, d, 'Loopback header', o);
    f.layers |= Layer.LOOPBACK;
    // NULL: the capturing host's byte order; LOOP: network order. Upper half set means swapped.
    let family = u32(b, o);
    if (linkType === LinkType.NULL) {
      const little = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
      family = little & 0xffff0000 ? family : little;
    }
    if (d) {
      const layer = d.layer('null', `Null/Loopback, family ${family}`, o, 4);
      d.field(layer, 'null.family', `Family: ${family === 2 ? 'IP' : family === 24 || family === 28 || family === 30 ? 'IPv6' : family} (${family})`, o, 4, family);
    }
    if (family === 2) return this.ipv4(b, o + 4, end, reported, f, d);
    if (family === 24 || family === 28 || family === 30 || family === 10) return this.ipv6(b, o + 4, end, reported, f, d);
    // Some systems put an Ethernet type there instead of an address family.
    if (family > 1500 && family <= 0xffff) return this.etherPayload(family, b, o + 4, end, reported, f, d);
    if (d) d.columns('NULL', `Address family ${family} (not decoded)`);
  }

  private rawIp(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 1) return this.truncated(f, d, 'Raw IP packet', o);
    const version = b[o] >> 4;
    if (version === 4) return this.ipv4(b, o, end, reported, f, d);
    if (version === 6) return this.ipv6(b, o, end, reported, f, d);
    if (d) d.layer('raw', 'Raw packet data', o, end - o);
    this.malformed(f, d, `Raw IP: bogus IP version ${version}`, o);
  }

  // ---- network layer -----------------------------------------------------------------------

  /** A header inside a tunnel: remember the outer flow, forget its transport facts. */
  private enterTunnel(f: PacketFacts): boolean {
    if (++this.depth > MAX_DEPTH) return false;
    if (f.ipVersion) {
      f.tunnelVersion = f.ipVersion;
      f.tunnelAddress.set(f.address);
      f.tunnelProtocol = f.ipProtocol;
      f.tunnelSrcPort = f.srcPort;
      f.tunnelDstPort = f.dstPort;
      f.marks |= Mark.TUNNELED;
    }
    f.forgetTransport();
    return true;
  }

  private ipv4(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 1) return this.truncated(f, d, 'IPv4 header', o);
    const version = b[o] >> 4;
    if (version === 6) return this.ipv6(b, o, end, reported, f, d);
    const layer = d ? d.layer('ip', 'Internet Protocol', o, Math.min(20, end - o)) : null;
    if (d && layer) d.field(layer, 'ip.version', `Version: ${version}`, o, 1, version);
    if (version !== 4) return this.malformed(f, d, `Bogus IP version (${version})`, o);
    const headerLength = (b[o] & 0x0f) * 4;
    if (d && layer) d.field(layer, 'ip.hdr_len', `Header Length: ${headerLength} bytes (${headerLength >> 2})`, o, 1, headerLength);
    if (headerLength < 20) return this.malformed(f, d, `Bogus IP header length (${headerLength}, must be at least 20)`, o);
    if (end - o < 20) return this.truncated(f, d, 'IPv4 header', o);
    let totalLength = u16(b, o + 2);
    const available = reported - o;
    if (totalLength === 0) {
      // TCP segmentation offload and BIG TCP leave 0 here: the frame says how long it is.
      totalLength = available;
    } else if (totalLength < headerLength) {
      if (d && layer) d.field(layer, 'ip.len', `Total Length: ${totalLength}`, o + 2, 2, totalLength);
      return this.malformed(f, d, `Bogus IP length (${totalLength}, less than header length ${headerLength})`, o + 2);
    }
    const identification = u16(b, o + 4);
    const flagsAndOffset = u16(b, o + 6);
    const moreFragments = (flagsAndOffset & 0x2000) !== 0;
    const fragmentOffset = (flagsAndOffset & 0x1fff) * 8;
    const ttl = b[o + 8];
    const protocol = b[o + 9];
    const src = u32(b, o + 12);
    const dst = u32(b, o + 16);
    f.layers |= Layer.IPV4;
    f.protocol = Protocol.IPV4;
    f.ipVersion = 4;
    const a = f.address;
    a[0] = a[1] = a[2] = a[4] = a[5] = a[6] = 0;
    a[3] = src;
    a[7] = dst;
    f.ipProtocol = protocol;
    f.ipLength = totalLength;
    f.ttl = ttl;
    const fragmented = moreFragments || fragmentOffset > 0;
    if (fragmented) f.marks |= Mark.FRAGMENT;
    // The payload ends where the IP length says (Ethernet padding excluded), or at the frame's.
    const datagramEnd = o + Math.min(totalLength, available);
    if (totalLength > available) this.malformed(f, d, `IPv4 total length exceeds packet length (${available} bytes)`, o + 2);
    if (d && layer) {
      const srcText = ipv4Text(src);
      const dstText = ipv4Text(dst);
      layer.label = `Internet Protocol Version 4, Src: ${srcText}, Dst: ${dstText}`;
      layer.length = Math.min(headerLength, end - o);
      const tos = b[o + 1];
      d.field(layer, 'ip.dsfield', `Differentiated Services Field: ${hex(tos, 2)} (DSCP: ${tos >> 2}, ECN: ${tos & 3})`, o + 1, 1, tos);
      const lengthField = u16(b, o + 2);
      d.field(layer, 'ip.len', lengthField === 0 ? `Total Length: 0 (segmentation offload: ${totalLength} from the frame)` : `Total Length: ${lengthField}`, o + 2, 2, totalLength);
      d.field(layer, 'ip.id', `Identification: ${hex(identification, 4)} (${identification})`, o + 4, 2, identification);
      const flags = d.field(layer, 'ip.flags', `Flags: ${hex(flagsAndOffset >> 13, 1)}${flagsAndOffset & 0x4000 ? ", Don't fragment" : ''}${moreFragments ? ', More fragments' : ''}`, o + 6, 1, flagsAndOffset >> 13);
      d.field(flags, 'ip.flags.rb', `Reserved bit: ${flagsAndOffset & 0x8000 ? 'Set' : 'Not set'}`, o + 6, 1, (flagsAndOffset & 0x8000) !== 0);
      d.field(flags, 'ip.flags.df', `Don't fragment: ${flagsAndOffset & 0x4000 ? 'Set' : 'Not set'}`, o + 6, 1, (flagsAndOffset & 0x4000) !== 0);
      d.field(flags, 'ip.flags.mf', `More fragments: ${moreFragments ? 'Set' : 'Not set'}`, o + 6, 1, moreFragments);
      // The field counts 8-byte units, as Wireshark's ip.frag_offset does.
      d.field(layer, 'ip.frag_offset', `Fragment Offset: ${fragmentOffset} (${fragmentOffset / 8} units of 8 bytes)`, o + 6, 2, fragmentOffset / 8);
      d.field(layer, 'ip.ttl', `Time to Live: ${ttl}`, o + 8, 1, ttl);
      d.field(layer, 'ip.proto', `Protocol: ${ipProtocolNames[protocol] ?? 'Unknown'} (${protocol})`, o + 9, 1, protocol);
      d.field(layer, 'ip.checksum', `Header Checksum: ${hex(u16(b, o + 10), 4)}`, o + 10, 2, u16(b, o + 10));
      d.field(layer, 'ip.src', `Source Address: ${srcText}`, o + 12, 4, srcText);
      d.field(layer, 'ip.dst', `Destination Address: ${dstText}`, o + 16, 4, dstText);
      if (headerLength > 20) this.ipv4OptionsDetails(b, o + 20, Math.min(o + headerLength, end), layer, d);
      d.addresses(srcText, dstText);
      const name = ipProtocolNames[protocol] ?? `IP protocol ${protocol}`;
      d.columns(protocol === 2 ? 'IGMP' : 'IPv4', fragmented && fragmentOffset > 0 ? `Fragmented IP protocol (proto=${name} ${protocol}, off=${fragmentOffset}, ID=${hex(identification, 4).slice(2)})` : `${name}`);
    }
    if (end - o < headerLength) return this.truncated(f, d, 'IPv4 options', o + 20);
    if (fragmentOffset > 0) return;
    this.ipPayload(protocol, 4, b, o + headerLength, Math.min(end, datagramEnd), datagramEnd, fragmented, f, d);
  }

  private ipv4OptionsDetails(b: Uint8Array, o: number, end: number, layer: DetailNode, d: DetailBuilder): void {
    const options = d.field(layer, 'ip.options', `Options: (${end - o} bytes)`, o, end - o);
    const names: Record<number, string> = { 0: 'End of Options List (EOL)', 1: 'No-Operation (NOP)', 7: 'Record Route', 68: 'Time Stamp', 130: 'Security', 131: 'Loose Source Route', 136: 'Stream ID', 137: 'Strict Source Route', 148: 'Router Alert', 149: 'Selective Directed Broadcast', 82: 'Traceroute', 25: 'Quick-Start' };
    while (o < end) {
      const type = b[o];
      if (type === 0 || type === 1) {
        d.field(options, 'ip.opt.type', `IP Option - ${names[type]}`, o, 1, type);
        o++;
        if (type === 0) break;
        continue;
      }
      if (o + 1 >= end) break;
      const len = b[o + 1];
      if (len < 2 || o + len > end) {
        d.field(options, 'ip.opt.type', `IP Option - ${names[type] ?? `Unknown (${type})`}: bogus length ${len}`, o, end - o, type);
        d.problem(`IPv4 option ${type}: bogus length ${len}`, o);
        break;
      }
      d.field(options, 'ip.opt.type', `IP Option - ${names[type] ?? `Unknown (${type})`} (${len} bytes)`, o, len, type);
      o += len;
    }
  }

  private ipv6(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 1) return this.truncated(f, d, 'IPv6 header', o);
    const version = b[o] >> 4;
    if (version !== 6) {
      // Unlike IPv4's (which hands a version 6 header on), the IPv6 decoder takes only IPv6.
      if (d) d.layer('ipv6', 'Internet Protocol Version 6', o, 1);
      return this.malformed(f, d, `Bogus IPv6 version (${version})`, o);
    }
    if (end - o < 40) return this.truncated(f, d, 'IPv6 header', o);
    let payloadLength = u16(b, o + 4);
    const firstNext = b[o + 6];
    const hopLimit = b[o + 7];
    f.layers |= Layer.IPV6;
    f.protocol = Protocol.IPV6;
    f.ipVersion = 6;
    const a = f.address;
    for (let i = 0; i < 4; i++) {
      a[i] = u32(b, o + 8 + 4 * i);
      a[4 + i] = u32(b, o + 24 + 4 * i);
    }
    f.ttl = hopLimit;
    let layer: DetailNode | null = null;
    if (d) {
      const srcText = ipv6At(b, o + 8);
      const dstText = ipv6At(b, o + 24);
      layer = d.layer('ipv6', `Internet Protocol Version 6, Src: ${srcText}, Dst: ${dstText}`, o, 40);
      const vtf = u32(b, o);
      d.field(layer, 'ipv6.version', `Version: 6`, o, 1, 6);
      d.field(layer, 'ipv6.tclass', `Traffic Class: ${hex((vtf >>> 20) & 0xff, 2)}`, o, 2, (vtf >>> 20) & 0xff);
      d.field(layer, 'ipv6.flow', `Flow Label: ${hex(vtf & 0xfffff, 5)}`, o + 1, 3, vtf & 0xfffff);
      d.field(layer, 'ipv6.plen', `Payload Length: ${payloadLength}`, o + 4, 2, payloadLength);
      d.field(layer, 'ipv6.nxt', `Next Header: ${ipProtocolNames[firstNext] ?? 'Unknown'} (${firstNext})`, o + 6, 1, firstNext);
      d.field(layer, 'ipv6.hlim', `Hop Limit: ${hopLimit}`, o + 7, 1, hopLimit);
      d.field(layer, 'ipv6.src', `Source Address: ${srcText}`, o + 8, 16, srcText);
      d.field(layer, 'ipv6.dst', `Destination Address: ${dstText}`, o + 24, 16, dstText);
      d.addresses(srcText, dstText);
      d.columns('IPv6', ipProtocolNames[firstNext] ?? `IPv6 next header ${firstNext}`);
    }
    // Extension headers, up to the transport header.
    let next = firstNext;
    let p = o + 40;
    const available = reported - o - 40;
    let jumbo = false;
    let fragmented = false;
    let fragmentOffset = 0;
    for (let count = 0; count < 32; count++) {
      if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
        if (end - p < 2) {
          f.ipProtocol = next;
          return this.truncated(f, d, 'IPv6 extension header', p);
        }
        const length = (b[p + 1] + 1) * 8;
        if (end - p < length) {
          f.ipProtocol = next;
          return this.truncated(f, d, 'IPv6 extension header', p);
        }
        if (next === 0 && payloadLength === 0) {
          // A jumbo payload option (RFC 2675) gives the real length.
          for (let q = p + 2; q + 1 < p + length; ) {
            const type = b[q];
            if (type === 0) {
              q++;
              continue;
            }
            if (type === 0xc2 && b[q + 1] === 4 && q + 6 <= p + length) {
              payloadLength = u32(b, q + 2);
              jumbo = true;
            }
            q += 2 + b[q + 1];
          }
        }
        if (d && layer) {
          const names: Record<number, string> = { 0: 'Hop-by-Hop Options', 43: 'Routing Header', 60: 'Destination Options', 135: 'Mobility Header', 139: 'Host Identity Protocol', 140: 'Shim6' };
          const ext = d.field(layer, `ipv6.${next === 0 ? 'hopopts' : next === 43 ? 'routing' : next === 60 ? 'dstopts' : 'ext'}`, `${names[next]}, next header ${b[p]}, length ${length}`, p, length, next);
          d.field(ext, 'ipv6.ext.nxt', `Next Header: ${ipProtocolNames[b[p]] ?? 'Unknown'} (${b[p]})`, p, 1, b[p]);
          d.field(ext, 'ipv6.ext.len', `Length: ${b[p + 1]} (${length} bytes)`, p + 1, 1, b[p + 1]);
        }
        if (next === 135 || next === 139 || next === 140) {
          next = 59;
          p += length;
          break;
        }
        next = b[p];
        p += length;
        continue;
      }
      if (next === 44) {
        if (end - p < 8) {
          f.ipProtocol = next;
          return this.truncated(f, d, 'IPv6 fragment header', p);
        }
        const field = u16(b, p + 2);
        fragmentOffset = field & 0xfff8;
        const more = (field & 1) !== 0;
        fragmented = fragmentOffset > 0 || more;
        if (fragmented) f.marks |= Mark.FRAGMENT;
        if (d && layer) {
          const ext = d.field(layer, 'ipv6.fragment', `Fragment Header, offset ${fragmentOffset}${more ? ', more fragments' : ''}, id ${hex(u32(b, p + 4), 8)}`, p, 8, 44);
          d.field(ext, 'ipv6.fragment.nxt', `Next Header: ${ipProtocolNames[b[p]] ?? 'Unknown'} (${b[p]})`, p, 1, b[p]);
          d.field(ext, 'ipv6.fragment.offset', `Offset: ${fragmentOffset}`, p + 2, 2, fragmentOffset);
          d.field(ext, 'ipv6.fragment.more', `More Fragments: ${more ? 'Yes' : 'No'}`, p + 3, 1, more);
          d.field(ext, 'ipv6.fragment.id', `Identification: ${hex(u32(b, p + 4), 8)}`, p + 4, 4, u32(b, p + 4));
        }
        next = b[p];
        p += 8;
        continue;
      }
      if (next === 51) {
        // Authentication header: its length counts 4-byte words, minus 2.
        if (end - p < 2) return this.truncated(f, d, 'IPv6 AH header', p);
        const length = (b[p + 1] + 2) * 4;
        if (end - p < length) return this.truncated(f, d, 'IPv6 AH header', p);
        if (d && layer) d.field(layer, 'ah', `Authentication Header, length ${length}`, p, length, 51);
        next = b[p];
        p += length;
        continue;
      }
      break;
    }
    f.ipProtocol = next;
    f.ipLength = 40 + payloadLength;
    const payloadEnd = o + 40 + Math.min(payloadLength, available);
    if (payloadLength > available && !(payloadLength === 0 && !jumbo)) this.malformed(f, d, `IPv6 payload length exceeds framing length (${available} bytes)`, o + 4);
    if (d && layer) {
      layer.length = p - o;
      if (fragmentOffset > 0) d.columns('IPv6', `IPv6 fragment (off=${fragmentOffset}, nh=${next})`);
    }
    if (fragmentOffset > 0) return;
    if (p > payloadEnd) return this.malformed(f, d, 'IPv6 extension headers run past the payload length', p);
    this.ipPayload(next, 6, b, p, Math.min(end, payloadEnd), payloadEnd, fragmented, f, d);
  }

  private ipPayload(protocol: number, version: number, b: Uint8Array, o: number, end: number, reported: number, fragmented: boolean, f: PacketFacts, d: DetailBuilder | null): void {
    switch (protocol) {
      case 6:
        return this.tcp(b, o, end, reported, fragmented, f, d);
      case 17:
        return this.udp(b, o, end, reported, fragmented, version, f, d);
      case 1:
        return this.icmp(b, o, end, reported, f, d);
      case 58:
        return this.icmpv6(b, o, end, reported, f, d);
      case 4:
        if (fragmented || !this.enterTunnel(f)) return;
        return this.ipv4(b, o, end, reported, f, d);
      case 41:
        if (fragmented || !this.enterTunnel(f)) return;
        return this.ipv6(b, o, end, reported, f, d);
      case 47:
        if (fragmented) return;
        return this.gre(b, o, end, reported, f, d);
      case 2:
        f.protocol = Protocol.IGMP;
        if (d) d.columns('IGMP', end - o >= 1 ? `IGMP type ${hex(b[o], 2)}` : 'IGMP');
        return;
      case 50:
        f.protocol = Protocol.ESP;
        if (d && end - o >= 8) d.columns('ESP', `ESP (SPI=${hex(u32(b, o), 8)})`);
        return;
      case 132:
        f.protocol = Protocol.SCTP;
        if (end - o >= 4 && !fragmented) {
          f.srcPort = u16(b, o);
          f.dstPort = u16(b, o + 2);
          if (d) d.columns('SCTP', `${f.srcPort} → ${f.dstPort}`);
        }
        return;
      default:
        if (d) {
          const name = ipProtocolNames[protocol];
          if (name) d.columns(name, name);
        }
    }
  }

  // ---- transport ---------------------------------------------------------------------------

  private tcp(b: Uint8Array, o: number, end: number, reported: number, fragmented: boolean, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 4) return this.truncated(f, d, 'TCP header', o);
    const srcPort = u16(b, o);
    const dstPort = u16(b, o + 2);
    f.layers |= Layer.TCP;
    f.protocol = Protocol.TCP;
    f.srcPort = srcPort;
    f.dstPort = dstPort;
    const layer = d ? d.layer('tcp', `Transmission Control Protocol, Src Port: ${srcPort}, Dst Port: ${dstPort}`, o, Math.min(20, end - o)) : null;
    if (d && layer) {
      d.field(layer, 'tcp.srcport', `Source Port: ${srcPort}`, o, 2, srcPort);
      d.field(layer, 'tcp.dstport', `Destination Port: ${dstPort}`, o + 2, 2, dstPort);
      if (this.context?.tcp && !d.quoting) d.field(layer, 'tcp.stream', `Stream index: ${this.context.tcp.stream}`, o, 0, this.context.tcp.stream);
      d.columns('TCP', `${srcPort} → ${dstPort}`);
    }
    if (end - o < 20) {
      // An ICMP error quotes only 8 bytes of TCP: ports and sequence number.
      if (d && layer && d.quoting && end - o >= 8) d.field(layer, 'tcp.seq', `Sequence Number: ${u32(b, o + 4)}`, o + 4, 4, u32(b, o + 4));
      f.seq = end - o >= 8 ? u32(b, o + 4) : 0;
      return this.truncated(f, d, 'TCP header', o);
    }
    const seq = u32(b, o + 4);
    const ack = u32(b, o + 8);
    const headerLength = (b[o + 12] >> 4) * 4;
    const flags = u16(b, o + 12) & 0x0fff;
    const window = u16(b, o + 14);
    f.seq = seq;
    f.ack = ack;
    f.tcpFlags = flags;
    f.window = window;
    f.tcpHeaderLength = headerLength;
    const segmentReported = reported - o;
    // As Wireshark: no segment length for a fragment, or when the header does not fit.
    const segmentLength = !fragmented && segmentReported >= headerLength ? segmentReported - headerLength : -1;
    f.segmentLength = segmentLength;
    const context = d && !d.quoting && this.context?.tcp?.relative ? this.context.tcp : undefined;
    if (d && layer) {
      if (segmentLength >= 0 && !d.quoting) d.field(layer, 'tcp.len', `TCP Segment Len: ${segmentLength}`, o + 12, 1, segmentLength);
      const relSeq = context ? (seq - context.baseSeq) >>> 0 : seq;
      d.field(layer, 'tcp.seq', `Sequence Number: ${relSeq}${context ? '    (relative sequence number)' : ''}`, o + 4, 4, relSeq);
      d.field(layer, 'tcp.seq_raw', `Sequence Number (raw): ${seq}`, o + 4, 4, seq);
      const relAck = context && flags & 0x010 && context.reverseBaseSeq !== undefined ? (ack - context.reverseBaseSeq) >>> 0 : ack;
      d.field(layer, 'tcp.ack', `Acknowledgment Number: ${relAck}${context && flags & 0x010 ? '    (relative ack number)' : ''}`, o + 8, 4, relAck);
      d.field(layer, 'tcp.ack_raw', `Acknowledgment number (raw): ${ack}`, o + 8, 4, ack);
      d.field(layer, 'tcp.hdr_len', `Header Length: ${headerLength} bytes (${headerLength >> 2})`, o + 12, 1, headerLength);
    }
    if (headerLength < 20) return this.malformed(f, d, `Bogus TCP header length (${headerLength}, must be at least 20)`, o + 12);
    const optionsEnd = Math.min(o + headerLength, end);
    // Options first (the Info column lists them), then the fixed fields' tree.
    let optionsInfo = '';
    let optionsNode: DetailNode | null = null;
    if (d && layer) {
      layer.length = Math.min(headerLength, end - o);
      const flagsNode = d.field(layer, 'tcp.flags', `Flags: ${hex(flags, 3)} (${tcpFlagsText(flags)})`, o + 12, 2, flags);
      for (const [bit, name] of TCP_FLAG_NAMES) {
        const field = name === 'Reserved' ? 'tcp.flags.res' : name === 'AE' ? 'tcp.flags.ae' : name === 'ECE' ? 'tcp.flags.ece' : `tcp.flags.${name === 'PSH' ? 'push' : name === 'RST' ? 'reset' : name.toLowerCase()}`;
        d.field(flagsNode, field, `${name}: ${flags & bit ? 'Set' : 'Not set'}`, bit > 0xff ? o + 12 : o + 13, 1, (flags & bit) !== 0);
      }
      d.field(layer, 'tcp.window_size_value', `Window: ${window}`, o + 14, 2, window);
      if (context && !(flags & 0x002) && context.windowShift > 0) d.field(layer, 'tcp.window_size', `Calculated window size: ${window * 2 ** context.windowShift}`, o + 14, 2, window * 2 ** context.windowShift);
      d.field(layer, 'tcp.checksum', `Checksum: ${hex(u16(b, o + 16), 4)}`, o + 16, 2, u16(b, o + 16));
      d.field(layer, 'tcp.urgent_pointer', `Urgent Pointer: ${u16(b, o + 18)}`, o + 18, 2, u16(b, o + 18));
      if (headerLength > 20) optionsNode = d.field(layer, 'tcp.options', `Options: (${headerLength - 20} bytes)`, o + 20, optionsEnd - (o + 20));
    }
    if (headerLength > 20) optionsInfo = this.tcpOptions(b, o + 20, optionsEnd, f, d, optionsNode);
    if (d && layer) {
      const relSeq = context ? (seq - context.baseSeq) >>> 0 : seq;
      const relAck = context && context.reverseBaseSeq !== undefined ? (ack - context.reverseBaseSeq) >>> 0 : ack;
      const shownWindow = context && !(flags & 0x002) ? window * 2 ** context.windowShift : window;
      let info = `${srcPort} → ${dstPort} [${tcpFlagsText(flags)}] Seq=${relSeq}`;
      if (flags & 0x010) info += ` Ack=${relAck}`;
      info += ` Win=${shownWindow}`;
      if (segmentLength >= 0) info += ` Len=${segmentLength}`;
      d.columns('TCP', info + optionsInfo);
    }
    if (o + headerLength > end) return this.truncated(f, d, 'TCP options', o + 20);
    const payload = o + headerLength;
    const payloadEnd = Math.min(end, reported);
    if (fragmented || payloadEnd <= payload) return;
    if (d && !d.quoting && (srcPort === 53 || dstPort === 53) && payloadEnd - payload >= 14) {
      f.layers |= Layer.DNS;
      f.protocol = Protocol.DNS;
      decodeDnsDetails(b, payload, payloadEnd, d, 'DNS', true);
    } else if ((srcPort === 53 || dstPort === 53) && payloadEnd - payload >= 14) {
      f.layers |= Layer.DNS;
      f.protocol = Protocol.DNS;
    } else if (d && !d.quoting) {
      const data = d.layer('data', `Data (${payloadEnd - payload} bytes)`, payload, payloadEnd - payload);
      d.field(data, 'data.data', `Data: ${bytesHex(b, payload, Math.min(32, payloadEnd - payload))}${payloadEnd - payload > 32 ? '…' : ''}`, payload, payloadEnd - payload);
    }
  }

  /** Reads TCP options into the facts; returns their Info-column text (" MSS=1460 ..."). */
  private tcpOptions(b: Uint8Array, o: number, end: number, f: PacketFacts, d: DetailBuilder | null, node: DetailNode | null): string {
    let info = '';
    while (o < end) {
      const kind = b[o];
      if (kind === 0) {
        if (d && node) d.field(node, 'tcp.option_kind', 'TCP Option - End of Option List (EOL)', o, 1, 0);
        break;
      }
      if (kind === 1) {
        if (d && node) d.field(node, 'tcp.option_kind', 'TCP Option - No-Operation (NOP)', o, 1, 1);
        o++;
        continue;
      }
      if (o + 1 >= end) {
        this.malformed(f, d, `TCP option ${kind}: length missing`, o);
        break;
      }
      const len = b[o + 1];
      if (len < 2 || o + len > end) {
        this.malformed(f, d, `TCP option ${kind}: bogus length ${len}`, o);
        break;
      }
      switch (kind) {
        case 2:
          if (len === 4) {
            f.mss = u16(b, o + 2);
            if (d) info += ` MSS=${f.mss}`;
            if (d && node) d.field(node, 'tcp.options.mss_val', `TCP Option - Maximum segment size: ${f.mss} bytes`, o, len, f.mss);
          }
          break;
        case 3:
          if (len === 3) {
            // Wireshark (and RFC 7323) cap the shift at 14.
            f.windowScale = Math.min(b[o + 2], 14);
            if (d) info += ` WS=${2 ** f.windowScale}`;
            if (d && node) d.field(node, 'tcp.options.wscale.shift', `TCP Option - Window scale: ${b[o + 2]} (multiply by ${2 ** f.windowScale})`, o, len, b[o + 2]);
          }
          break;
        case 4:
          f.sackPermitted = true;
          if (d) info += ' SACK_PERM';
          if (d && node) d.field(node, 'tcp.options.sack_perm', 'TCP Option - SACK permitted', o, len, true);
          break;
        case 5:
          if (d) {
            // SACK blocks: left and right edges, in the other direction's sequence numbers
            // (relative to its first, as Wireshark shows them, when the index knows it).
            const tcp = d.quoting ? undefined : this.context?.tcp;
            const base = tcp?.relative && tcp.reverseBaseSeq !== undefined ? tcp.reverseBaseSeq : 0;
            const edges: [number, number][] = [];
            for (let q = o + 2; q + 8 <= o + len; q += 8) edges.push([(u32(b, q) - base) >>> 0, (u32(b, q + 4) - base) >>> 0]);
            for (const [left, right] of edges) info += ` SLE=${left} SRE=${right}`;
            if (node) d.field(node, 'tcp.options.sack', `TCP Option - SACK ${edges.map(([l, r]) => `${l}-${r}`).join(' ')}`, o, len, edges.map(([l, r]) => `${l}-${r}`).join(' '));
          }
          break;
        case 8:
          if (len === 10 && d) {
            info += ` TSval=${u32(b, o + 2)} TSecr=${u32(b, o + 6)}`;
            if (node) d.field(node, 'tcp.options.timestamp.tsval', `TCP Option - Timestamps: TSval ${u32(b, o + 2)}, TSecr ${u32(b, o + 6)}`, o, len, u32(b, o + 2));
          }
          break;
        default:
          if (d && node) d.field(node, 'tcp.option_kind', `TCP Option - kind ${kind} (${len} bytes)`, o, len, kind);
      }
      o += len;
    }
    return info;
  }

  private udp(b: Uint8Array, o: number, end: number, reported: number, fragmented: boolean, ipVersion: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 4) return this.truncated(f, d, 'UDP header', o);
    const srcPort = u16(b, o);
    const dstPort = u16(b, o + 2);
    f.layers |= Layer.UDP;
    f.protocol = Protocol.UDP;
    f.srcPort = srcPort;
    f.dstPort = dstPort;
    const layer = d ? d.layer('udp', `User Datagram Protocol, Src Port: ${srcPort}, Dst Port: ${dstPort}`, o, Math.min(8, end - o)) : null;
    if (d && layer) {
      d.field(layer, 'udp.srcport', `Source Port: ${srcPort}`, o, 2, srcPort);
      d.field(layer, 'udp.dstport', `Destination Port: ${dstPort}`, o + 2, 2, dstPort);
    }
    if (end - o < 8) {
      // Without its length field Wireshark keeps no conversation for it either.
      f.udpBroken = true;
      if (d) d.columns('UDP', `${srcPort} → ${dstPort}`);
      return this.truncated(f, d, 'UDP header', o);
    }
    let length = u16(b, o + 4);
    const reportedLength = reported - o;
    // A jumbogram's UDP length is 0 (RFC 2675): the IPv6 payload says how long it is.
    if (length === 0 && ipVersion === 6) length = reportedLength;
    f.udpLength = length;
    if (d && layer) {
      d.field(layer, 'udp.length', `Length: ${u16(b, o + 4)}`, o + 4, 2, u16(b, o + 4));
      d.field(layer, 'udp.checksum', `Checksum: ${hex(u16(b, o + 6), 4)}`, o + 6, 2, u16(b, o + 6));
      if (this.context?.udpStream !== undefined && !d.quoting) d.field(layer, 'udp.stream', `Stream index: ${this.context.udpStream}`, o, 0, this.context.udpStream);
      d.columns('UDP', `${srcPort} → ${dstPort} Len=${length - 8}`);
    }
    if (length < 8) {
      f.udpBroken = true;
      return this.malformed(f, d, `BAD UDP LENGTH ${length} < 8`, o + 4);
    }
    if (length > reportedLength && !fragmented && !(d && d.quoting)) {
      return this.malformed(f, d, `BAD UDP LENGTH ${length} > IP PAYLOAD LENGTH`, o + 4);
    }
    if (fragmented || (d && d.quoting)) return;
    const payload = o + 8;
    const payloadEnd = Math.min(end, o + length);
    const low = Math.min(srcPort, dstPort);
    const high = Math.max(srcPort, dstPort);
    const app = this.udpApps[low] || this.udpApps[high];
    switch (app) {
      case UdpApp.VXLAN:
        return this.vxlan(b, payload, payloadEnd, o + length, f, d);
      case UdpApp.GENEVE:
        return this.geneve(b, payload, payloadEnd, o + length, f, d);
      case UdpApp.DNS:
      case UdpApp.MDNS:
      case UdpApp.LLMNR:
        if (payloadEnd - payload < 12) return;
        f.layers |= Layer.DNS;
        f.protocol = Protocol.DNS;
        if (d) decodeDnsDetails(b, payload, payloadEnd, d, app === UdpApp.DNS ? 'DNS' : app === UdpApp.MDNS ? 'MDNS' : 'LLMNR', false);
        return;
      default:
        if (d && payloadEnd > payload) {
          const data = d.layer('data', `Data (${payloadEnd - payload} bytes)`, payload, payloadEnd - payload);
          d.field(data, 'data.data', `Data: ${bytesHex(b, payload, Math.min(32, payloadEnd - payload))}${payloadEnd - payload > 32 ? '…' : ''}`, payload, payloadEnd - payload);
        }
    }
  }

  private vxlan(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 8) return this.truncated(f, d, 'VXLAN header', o);
    const flags = b[o];
    const vni = (b[o + 4] << 16) | (b[o + 5] << 8) | b[o + 6];
    f.layers |= Layer.VXLAN;
    f.protocol = Protocol.VXLAN;
    if (d) {
      const layer = d.layer('vxlan', `Virtual eXtensible Local Area Network, VNI: ${vni}`, o, 8);
      d.field(layer, 'vxlan.flags', `Flags: ${hex(flags, 2)}${flags & 0x08 ? ' (VNI valid)' : ''}`, o, 1, flags);
      d.field(layer, 'vxlan.vni', `VXLAN Network Identifier (VNI): ${vni}`, o + 4, 3, vni);
      d.columns('VXLAN', `VXLAN VNI ${vni}`);
    }
    if (!this.enterTunnel(f)) return;
    f.vni = vni;
    this.ethernet(b, o + 8, end, reported, f, d);
  }

  private geneve(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 8) return this.truncated(f, d, 'Geneve header', o);
    const version = b[o] >> 6;
    const optionsLength = (b[o] & 0x3f) * 4;
    const protocol = u16(b, o + 2);
    const vni = (b[o + 4] << 16) | (b[o + 5] << 8) | b[o + 6];
    f.layers |= Layer.GENEVE;
    if (d) {
      const layer = d.layer('geneve', `Generic Network Virtualization Encapsulation, VNI: ${hex(vni, 6)}`, o, 8 + optionsLength);
      d.field(layer, 'geneve.version', `Version: ${version}`, o, 1, version);
      d.field(layer, 'geneve.proto_type', `Protocol Type: ${etherTypeNames[protocol] ?? 'Unknown'} (${hex(protocol, 4)})`, o + 2, 2, protocol);
      d.field(layer, 'geneve.vni', `Virtual Network Identifier (VNI): ${hex(vni, 6)}`, o + 4, 3, vni);
      d.columns('Geneve', `Geneve VNI ${vni}`);
    }
    if (version !== 0) return;
    if (end - o < 8 + optionsLength) return this.truncated(f, d, 'Geneve options', o + 8);
    if (!this.enterTunnel(f)) return;
    f.vni = vni;
    this.etherPayload(protocol, b, o + 8 + optionsLength, end, reported, f, d);
  }

  private gre(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    f.layers |= Layer.GRE;
    f.protocol = Protocol.GRE;
    if (end - o < 4) return this.truncated(f, d, 'GRE header', o);
    const flags = u16(b, o);
    const protocol = u16(b, o + 2);
    const version = flags & 7;
    let length = 4;
    if (flags & 0x8000) length += 4; // checksum + reserved
    if (flags & 0x2000) length += 4; // key
    if (flags & 0x1000) length += 4; // sequence number
    if (version === 1 && flags & 0x0080) length += 4; // enhanced GRE acknowledgment
    if (d) {
      const layer = d.layer('gre', `Generic Routing Encapsulation (${etherTypeNames[protocol] ?? hex(protocol, 4)})`, o, Math.min(length, end - o));
      d.field(layer, 'gre.flags_and_version', `Flags and Version: ${hex(flags, 4)}`, o, 2, flags);
      d.field(layer, 'gre.proto', `Protocol Type: ${etherTypeNames[protocol] ?? 'Unknown'} (${hex(protocol, 4)})`, o + 2, 2, protocol);
      d.columns('GRE', `Encapsulated ${etherTypeNames[protocol] ?? hex(protocol, 4)}`);
    }
    if (end - o < length) return this.truncated(f, d, 'GRE header', o);
    if (version !== 0) return;
    if (protocol !== 0x0800 && protocol !== 0x86dd && protocol !== 0x6558) return;
    if (!this.enterTunnel(f)) return;
    if (protocol === 0x6558) return this.ethernet(b, o + length, end, reported, f, d);
    this.etherPayload(protocol, b, o + length, end, reported, f, d);
  }

  private icmp(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 4) return this.truncated(f, d, 'ICMP header', o);
    const type = b[o];
    const code = b[o + 1];
    f.layers |= Layer.ICMP;
    f.protocol = Protocol.ICMP;
    f.icmpType = type;
    f.icmpCode = code;
    const isError = type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
    let layer: DetailNode | null = null;
    if (d) {
      layer = d.layer('icmp', 'Internet Control Message Protocol', o, reported - o);
      d.field(layer, 'icmp.type', `Type: ${type} (${icmpTypeNames[type] ?? 'Unknown'})`, o, 1, type);
      d.field(layer, 'icmp.code', `Code: ${code}${type === 3 && icmpUnreachableCodes[code] ? ` (${icmpUnreachableCodes[code]})` : ''}`, o + 1, 1, code);
      d.field(layer, 'icmp.checksum', `Checksum: ${hex(u16(b, o + 2), 4)}`, o + 2, 2, u16(b, o + 2));
      let info = icmpTypeNames[type] ?? `Unknown ICMP (type ${type})`;
      if (type === 3) info += ` (${icmpUnreachableCodes[code] ?? `code ${code}`})`;
      else if (type === 11) info += code === 0 ? ' (Time to live exceeded in transit)' : ' (Fragment reassembly time exceeded)';
      else if (type === 5) info += ` (Redirect for ${['network', 'host', 'TOS and network', 'TOS and host'][code] ?? 'code ' + code})`;
      if ((type === 0 || type === 8 || type === 13 || type === 14) && end - o >= 8) {
        const id = u16(b, o + 4);
        const sequence = u16(b, o + 6);
        d.field(layer, 'icmp.ident', `Identifier (BE): ${id} (${hex(id, 4)})`, o + 4, 2, id);
        d.field(layer, 'icmp.seq', `Sequence Number (BE): ${sequence} (${hex(sequence, 4)})`, o + 6, 2, sequence);
        info += `  id=${hex(id, 4)}, seq=${sequence}/${((sequence & 0xff) << 8) | (sequence >> 8)}, ttl=${f.ttl}`;
      }
      if (type === 5 && end - o >= 8) d.field(layer, 'icmp.redir_gw', `Gateway Address: ${ipv4At(b, o + 4)}`, o + 4, 4, ipv4At(b, o + 4));
      d.columns('ICMP', info);
    }
    if (!isError) return;
    f.marks |= Mark.ICMP_ERROR;
    if (end - o < 8 + 20) {
      if (end - o > 8) this.truncated(f, d, 'ICMP quoted packet', o + 8);
      return;
    }
    this.quoted(b, o + 8, end, f, d, layer);
  }

  private icmpv6(b: Uint8Array, o: number, end: number, reported: number, f: PacketFacts, d: DetailBuilder | null): void {
    if (end - o < 4) return this.truncated(f, d, 'ICMPv6 header', o);
    const type = b[o];
    const code = b[o + 1];
    f.layers |= Layer.ICMPV6;
    f.protocol = Protocol.ICMPV6;
    f.icmpType = type;
    f.icmpCode = code;
    const isError = type >= 1 && type <= 4;
    let layer: DetailNode | null = null;
    if (d) {
      layer = d.layer('icmpv6', 'Internet Control Message Protocol v6', o, reported - o);
      d.field(layer, 'icmpv6.type', `Type: ${icmpv6TypeNames[type] ?? 'Unknown'} (${type})`, o, 1, type);
      d.field(layer, 'icmpv6.code', `Code: ${code}`, o + 1, 1, code);
      d.field(layer, 'icmpv6.checksum', `Checksum: ${hex(u16(b, o + 2), 4)}`, o + 2, 2, u16(b, o + 2));
      let info = icmpv6TypeNames[type] ?? `Unknown ICMPv6 (type ${type})`;
      if (type === 1) info += ` (${icmpv6UnreachableCodes[code] ?? `code ${code}`})`;
      if ((type === 128 || type === 129) && end - o >= 8) {
        const id = u16(b, o + 4);
        const sequence = u16(b, o + 6);
        d.field(layer, 'icmpv6.echo.identifier', `Identifier: ${hex(id, 4)}`, o + 4, 2, id);
        d.field(layer, 'icmpv6.echo.sequence_number', `Sequence: ${sequence}`, o + 6, 2, sequence);
        info += ` id=${hex(id, 4)}, seq=${sequence}, hop limit=${f.ttl}`;
      }
      if ((type === 135 || type === 136 || type === 137) && end - o >= 24) {
        const target = ipv6At(b, o + 8);
        d.field(layer, 'icmpv6.nd.ns.target_address', `Target Address: ${target}`, o + 8, 16, target);
        info += type === 135 ? ` for ${target}` : type === 136 ? ` ${target}` : ` to ${target}`;
      }
      if (type === 2 && end - o >= 8) info += ` (MTU ${u32(b, o + 4)})`;
      d.columns('ICMPv6', info);
    }
    if (!isError) return;
    f.marks |= Mark.ICMP_ERROR;
    if (end - o < 8 + 40) {
      if (end - o > 8) this.truncated(f, d, 'ICMPv6 quoted packet', o + 8);
      return;
    }
    this.quoted(b, o + 8, end, f, d, layer);
  }

  /**
   * The packet an ICMP error quotes: its flow goes into the quoted* facts (to link the error to
   * the conversation it is about), and into the tree under the ICMP layer. The outer packet's
   * facts are kept.
   */
  private quoted(b: Uint8Array, o: number, end: number, f: PacketFacts, d: DetailBuilder | null, icmpLayer: DetailNode | null): void {
    const version = b[o] >> 4;
    let transport = -1;
    let protocol = -1;
    const q = f.quotedAddress;
    if (version === 4 && end - o >= 20) {
      const headerLength = (b[o] & 0x0f) * 4;
      if (headerLength >= 20) {
        q[0] = q[1] = q[2] = q[4] = q[5] = q[6] = 0;
        q[3] = u32(b, o + 12);
        q[7] = u32(b, o + 16);
        protocol = b[o + 9];
        const fragmentOffset = u16(b, o + 6) & 0x1fff;
        if (fragmentOffset === 0) transport = o + headerLength;
        f.quotedVersion = 4;
      }
    } else if (version === 6 && end - o >= 40) {
      for (let i = 0; i < 4; i++) {
        q[i] = u32(b, o + 8 + 4 * i);
        q[4 + i] = u32(b, o + 24 + 4 * i);
      }
      protocol = b[o + 6];
      transport = o + 40;
      // Skip the common extension headers to find the transport header.
      for (let n = 0; n < 8 && (protocol === 0 || protocol === 43 || protocol === 60 || protocol === 44); n++) {
        if (end - transport < 8) {
          transport = -1;
          break;
        }
        const length = protocol === 44 ? 8 : (b[transport + 1] + 1) * 8;
        protocol = b[transport];
        transport += length;
      }
      f.quotedVersion = 6;
    }
    f.quotedProtocol = protocol;
    // Filters on a protocol match the quoted headers too, as Wireshark's do.
    if (f.quotedVersion === 4) f.layers |= Layer.IPV4;
    else if (f.quotedVersion === 6) f.layers |= Layer.IPV6;
    if (transport >= 0 && end - transport >= 4) f.layers |= protocol === 6 ? Layer.TCP : protocol === 17 ? Layer.UDP : 0;
    if (transport >= 0 && (protocol === 6 || protocol === 17 || protocol === 132) && end - transport >= 4) {
      f.quotedSrcPort = u16(b, transport);
      f.quotedDstPort = u16(b, transport + 2);
    }
    if (d && icmpLayer) {
      // The same decoders, nested; the outer facts are saved around them.
      const saved = new PacketFacts();
      copyFacts(f, saved);
      d.nest(icmpLayer, () => {
        const savedDepth = this.depth;
        if (version === 4) this.ipv4(b, o, end, end, f, d);
        else if (version === 6) this.ipv6(b, o, end, end, f, d);
        this.depth = savedDepth;
      });
      copyFacts(saved, f);
    }
  }

  private arp(b: Uint8Array, o: number, end: number, f: PacketFacts, d: DetailBuilder | null): void {
    f.layers |= Layer.ARP;
    f.protocol = Protocol.ARP;
    if (end - o < 8) return this.truncated(f, d, 'ARP header', o);
    const hardwareType = u16(b, o);
    const protocolType = u16(b, o + 2);
    const hardwareLength = b[o + 4];
    const protocolLength = b[o + 5];
    const operation = u16(b, o + 6);
    if (!d) return;
    if (hardwareType === 19) {
      // ATM ARP (RFC 2225) lays its addresses out differently: not decoded.
      d.layer('atmarp', 'ATM Address Resolution Protocol', o, end - o);
      d.columns('ATMARP', `ATMARP opcode ${operation}`);
      return;
    }
    const layer = d.layer('arp', `Address Resolution Protocol (${operation === 1 ? 'request' : operation === 2 ? 'reply' : operation === 3 ? 'reverse request' : operation === 4 ? 'reverse reply' : 'opcode ' + operation})`, o, Math.min(end - o, 8 + 2 * (hardwareLength + protocolLength)));
    d.field(layer, 'arp.hw.type', `Hardware type: ${hardwareType === 1 ? 'Ethernet' : hardwareType} (${hardwareType})`, o, 2, hardwareType);
    d.field(layer, 'arp.proto.type', `Protocol type: ${etherTypeNames[protocolType] ?? 'Unknown'} (${hex(protocolType, 4)})`, o + 2, 2, protocolType);
    d.field(layer, 'arp.hw.size', `Hardware size: ${hardwareLength}`, o + 4, 1, hardwareLength);
    d.field(layer, 'arp.proto.size', `Protocol size: ${protocolLength}`, o + 5, 1, protocolLength);
    d.field(layer, 'arp.opcode', `Opcode: ${operation}`, o + 6, 2, operation);
    const sha = o + 8;
    const spa = sha + hardwareLength;
    const tha = spa + protocolLength;
    const tpa = tha + hardwareLength;
    if (end < tpa + protocolLength) {
      d.columns('ARP', 'ARP (truncated)');
      return this.truncated(f, d, 'ARP addresses', sha);
    }
    const isIpv4 = protocolType === 0x0800 && protocolLength === 4;
    const paddr = (at: number) => (isIpv4 ? ipv4At(b, at) : bytesHex(b, at, protocolLength));
    const haddr = (at: number) => macAt(b, at, hardwareLength);
    d.field(layer, 'arp.src.hw_mac', `Sender MAC address: ${haddr(sha)}`, sha, hardwareLength, haddr(sha));
    d.field(layer, isIpv4 ? 'arp.src.proto_ipv4' : 'arp.src.proto', `Sender IP address: ${paddr(spa)}`, spa, protocolLength, paddr(spa));
    d.field(layer, 'arp.dst.hw_mac', `Target MAC address: ${haddr(tha)}`, tha, hardwareLength, haddr(tha));
    d.field(layer, isIpv4 ? 'arp.dst.proto_ipv4' : 'arp.dst.proto', `Target IP address: ${paddr(tpa)}`, tpa, protocolLength, paddr(tpa));
    let info: string;
    if (operation === 1) info = paddr(spa) === paddr(tpa) ? `Gratuitous ARP for ${paddr(spa)} (Request)` : `Who has ${paddr(tpa)}? Tell ${paddr(spa)}`;
    else if (operation === 2) info = `${paddr(spa)} is at ${haddr(sha)}`;
    else if (operation === 3) info = `Who is ${haddr(tha)}? Tell ${haddr(sha)}`;
    else if (operation === 4) info = `${haddr(tha)} is at ${paddr(tpa)}`;
    else info = `ARP opcode ${operation}`;
    d.columns(operation === 3 || operation === 4 ? 'RARP' : 'ARP', info);
  }
}

function copyFacts(from: PacketFacts, to: PacketFacts): void {
  // Scalars by assignment; the address arrays keep their identity and take the contents.
  const { address, quotedAddress, tunnelAddress } = to;
  Object.assign(to, from);
  Object.assign(to, { address, quotedAddress, tunnelAddress });
  address.set(from.address);
  quotedAddress.set(from.quotedAddress);
  tunnelAddress.set(from.tunnelAddress);
}
