// What decoding one frame yields: the facts the index, the analysis and the filters need (one
// reused object, numbers only, so indexing a million packets allocates nothing per packet), and
// on demand the details tree and summary columns for the packet a user selects.

/** The list's Protocol column, as a small number per packet in the index. */
export const Protocol = {
  OTHER: 0,
  ARP: 1,
  IPV4: 2,
  IPV6: 3,
  TCP: 4,
  UDP: 5,
  ICMP: 6,
  ICMPV6: 7,
  DNS: 8,
  VXLAN: 9,
  IGMP: 10,
  GRE: 11,
  ESP: 12,
  SCTP: 13,
  ETHERNET: 14,
} as const;

export const protocolNames = ['Other', 'ARP', 'IPv4', 'IPv6', 'TCP', 'UDP', 'ICMP', 'ICMPv6', 'DNS', 'VXLAN', 'IGMP', 'GRE', 'ESP', 'SCTP', 'Ethernet'];

/** Every protocol present anywhere in the frame (outer and inner headers alike): one bit each. */
export const Layer = {
  ETH: 1 << 0,
  VLAN: 1 << 1,
  SLL: 1 << 2,
  IPV4: 1 << 3,
  IPV6: 1 << 4,
  TCP: 1 << 5,
  UDP: 1 << 6,
  ICMP: 1 << 7,
  ICMPV6: 1 << 8,
  ARP: 1 << 9,
  DNS: 1 << 10,
  VXLAN: 1 << 11,
  GRE: 1 << 12,
  LOOPBACK: 1 << 13,
  GENEVE: 1 << 14,
  MPLS: 1 << 15,
} as const;

export const layerFilterNames: Record<string, number> = {
  eth: Layer.ETH,
  vlan: Layer.VLAN,
  sll: Layer.SLL,
  ip: Layer.IPV4,
  ipv6: Layer.IPV6,
  tcp: Layer.TCP,
  udp: Layer.UDP,
  icmp: Layer.ICMP,
  icmpv6: Layer.ICMPV6,
  arp: Layer.ARP,
  dns: Layer.DNS,
  vxlan: Layer.VXLAN,
  gre: Layer.GRE,
  null: Layer.LOOPBACK,
  geneve: Layer.GENEVE,
  mpls: Layer.MPLS,
};

/** Per-packet marks kept in the index. */
export const Mark = {
  /** A header field is impossible (bad length, bad version...): decoding stopped there. */
  MALFORMED: 1 << 0,
  /** The frame ends before its headers say it should (snap length, or cut). */
  TRUNCATED: 1 << 1,
  /** An IPv4 or IPv6 fragment (more fragments follow, or it is not the first). */
  FRAGMENT: 1 << 2,
  ICMP_ERROR: 1 << 3,
  /** Sent by the side that did not start the conversation. */
  REVERSE: 1 << 4,
  /** The transport header is a tunnel's inner one (VXLAN, Geneve, IP in IP, GRE). */
  TUNNELED: 1 << 5,
  /** In the related flow (tunnel or quoted packet), sent by its side B. */
  RELATED_REVERSE: 1 << 6,
} as const;

/**
 * Facts about one frame, overwritten for each frame. Addresses are kept as 32-bit words:
 * [0..3] source, [4..7] destination; an IPv4 address is word 3 (and 7), the others zero.
 */
export class PacketFacts {
  linkType = 0;
  protocol: number = Protocol.OTHER;
  layers = 0;
  marks = 0;

  /** Innermost IP header: 4, 6 or 0 (none). */
  ipVersion = 0;
  readonly address = new Uint32Array(8);
  /** Transport protocol number after IPv6 extension headers; -1 without IP. */
  ipProtocol = -1;
  ipLength = 0;
  ttl = 0;

  /** -1 when there is no TCP or UDP header. */
  srcPort = -1;
  dstPort = -1;
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  window = 0;
  tcpHeaderLength = 0;
  /** TCP payload bytes per the IP length (tcp.len); -1 when unknown (fragment, short). */
  segmentLength = -1;
  /** TCP options of interest; -1 when absent. */
  mss = -1;
  windowScale = -1;
  sackPermitted = false;
  udpLength = 0;
  /** The UDP length is below 8: Wireshark then keeps no conversation for it. */
  udpBroken = false;

  icmpType = -1;
  icmpCode = -1;

  /** The packet an ICMP error quotes: its IP version (0: none), addresses, protocol, ports. */
  quotedVersion = 0;
  readonly quotedAddress = new Uint32Array(8);
  quotedProtocol = -1;
  quotedSrcPort = -1;
  quotedDstPort = -1;

  /** The outer flow of a tunnel (VXLAN, Geneve, IP in IP, GRE): version 0 when none. */
  tunnelVersion = 0;
  readonly tunnelAddress = new Uint32Array(8);
  tunnelProtocol = -1;
  tunnelSrcPort = -1;
  tunnelDstPort = -1;
  /** VXLAN or Geneve network identifier; -1 when none. */
  vni = -1;

  /** Linux cooked captures: packet type (0 to us, 4 outgoing...) and, for v2, interface index. */
  linkPacketType = -1;
  linkInterface = -1;
  vlanId = -1;

  /** Forgets the IP and transport facts: at each new frame, and inside a tunnel for its inner header. */
  forgetTransport(): void {
    this.ipVersion = 0;
    this.ipProtocol = -1;
    this.srcPort = -1;
    this.dstPort = -1;
    this.tcpFlags = 0;
    this.segmentLength = -1;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.mss = -1;
    this.windowScale = -1;
    this.sackPermitted = false;
  }

  reset(linkType: number): void {
    this.linkType = linkType;
    this.protocol = Protocol.OTHER;
    this.layers = 0;
    this.marks = 0;
    this.forgetTransport();
    this.ipLength = 0;
    this.ttl = 0;
    this.seq = 0;
    this.ack = 0;
    this.window = 0;
    this.tcpHeaderLength = 0;
    this.udpLength = 0;
    this.udpBroken = false;
    this.quotedVersion = 0;
    this.quotedProtocol = -1;
    this.quotedSrcPort = -1;
    this.quotedDstPort = -1;
    this.tunnelVersion = 0;
    this.tunnelProtocol = -1;
    this.tunnelSrcPort = -1;
    this.tunnelDstPort = -1;
    this.vni = -1;
    this.linkPacketType = -1;
    this.linkInterface = -1;
    this.vlanId = -1;
  }
}

/** One line of the details tree; offsets are into the frame, for the hex pane. */
export interface DetailNode {
  /** Wireshark's field name where there is one (ip.src, tcp.flags...), else our own. */
  name: string;
  /** What the tree shows, e.g. "Source Address: 10.0.0.1". */
  label: string;
  offset: number;
  length: number;
  /** The value itself, for filters ("filter on this value") and comparisons. */
  value?: string | number | boolean;
  children?: DetailNode[];
}

export interface PacketSummary {
  source: string;
  destination: string;
  protocol: string;
  info: string;
}

export interface DecodedPacket extends PacketSummary {
  /** Protocol layers, outermost first; each a node whose children are its fields. */
  layers: DetailNode[];
  /** Where and why decoding stopped early, if it did. */
  problems: string[];
}

/** Collects the details tree and the summary columns while a frame is decoded. */
export class DetailBuilder {
  readonly layers: DetailNode[] = [];
  source = '';
  destination = '';
  protocol = '';
  info = '';
  readonly problems: string[] = [];
  /** Where new layers go: the top level, or inside an ICMP error for the packet it quotes. */
  private container: DetailNode[] = this.layers;
  /** Inside a quoted packet the summary columns stay the outer packet's. */
  quoting = 0;

  constructor(readonly frameStart: number) {}

  layer(name: string, label: string, at: number, length: number): DetailNode {
    const node: DetailNode = { name, label, offset: at - this.frameStart, length, children: [] };
    this.container.push(node);
    return node;
  }

  field(parent: DetailNode, name: string, label: string, at: number, length: number, value?: string | number | boolean): DetailNode {
    const node: DetailNode = { name, label, offset: at - this.frameStart, length };
    if (value !== undefined) node.value = value;
    (parent.children ??= []).push(node);
    return node;
  }

  /** Layers added inside `fn` go under `parent` (the quoted packet of an ICMP error). */
  nest(parent: DetailNode, fn: () => void): void {
    const saved = this.container;
    this.container = (parent.children ??= []);
    this.quoting++;
    try {
      fn();
    } finally {
      this.quoting--;
      this.container = saved;
    }
  }

  columns(protocol: string, info: string): void {
    if (this.quoting) return;
    this.protocol = protocol;
    this.info = info;
  }

  addresses(source: string, destination: string): void {
    if (this.quoting) return;
    this.source = source;
    this.destination = destination;
  }

  problem(message: string, at: number): void {
    this.problems.push(`${message} (frame offset ${at - this.frameStart})`);
  }
}
