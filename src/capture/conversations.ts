// Conversations: one per flow (protocol, both addresses, both ports), found by a hash of the
// flow that is the same in both directions. Side A is whoever sent the conversation's first
// packet. Kept in typed arrays, as the packet index is, and summarised on demand with a
// verdict in words for TCP.
import { addressText } from './decoder';
import { ipProtocolNames } from './names';
import { TcpAnalysisState } from './tcpAnalysis';

/** TCP completeness bits, as Wireshark's tcp.completeness. */
export const Completeness = {
  SYN: 1,
  SYN_ACK: 2,
  ACK: 4,
  DATA: 8,
  FIN: 16,
  RST: 32,
} as const;

const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;

/** Where one endpoint of a flow is: the facts' address words and a port (-1 for none). */
export interface FlowKey {
  version: number;
  protocol: number;
  words: ArrayLike<number>;
  /** Offsets in `words` of the source and destination addresses (4 words each). */
  srcAt: number;
  dstAt: number;
  srcPort: number;
  dstPort: number;
}

export interface ConversationSummary {
  id: number;
  /** tcp.stream or udp.stream in Wireshark's numbering (per protocol, in order of appearance). */
  stream: number;
  protocol: string;
  ipProtocol: number;
  addressA: string;
  portA: number | undefined;
  addressB: string;
  portB: number | undefined;
  packetsAtoB: number;
  packetsBtoA: number;
  bytesAtoB: number;
  bytesBtoA: number;
  firstPacket: number;
  lastPacket: number;
  /** Seconds from the capture's first packet. */
  start: number;
  duration: number;
  tcp?: TcpConversationSummary;
  icmpErrors: number;
  /** The last ICMP error that quoted this flow, in words. */
  icmpError?: string;
}

export interface TcpConversationSummary {
  completeness: number;
  /** "SYN, SYN-ACK, ACK, DATA, FIN, RST" — those seen. */
  completenessText: string;
  /** Which side is the client: the SYN's sender (or, without one, the SYN-ACK's peer). */
  client: 'A' | 'B' | undefined;
  synCount: number;
  synAckCount: number;
  /** Who sent the first FIN / RST: "A" or "B" and the address:port. */
  firstFin?: { side: 'A' | 'B'; endpoint: string; packet: number };
  firstRst?: { side: 'A' | 'B'; endpoint: string; packet: number };
  payloadAtoB: number;
  payloadBtoA: number;
  verdict: TcpVerdict;
  /** The verdict in a sentence, naming who did what. */
  verdictText: string;
}

export type TcpVerdict = 'completed' | 'refused' | 'no answer' | 'unreachable' | 'reset by client' | 'reset by server' | 'reset' | 'half closed' | 'still open' | 'handshake incomplete' | 'quoted only';

const ICMP_DESCRIPTIONS: Record<number, string> = { 3: 'destination unreachable', 4: 'source quench', 5: 'redirect', 11: 'time exceeded', 12: 'parameter problem' };
const ICMPV6_DESCRIPTIONS: Record<number, string> = { 1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded', 4: 'parameter problem' };

// Storage, per conversation: a key record of 12 int32 (hash, version and protocol, ports, both
// addresses), a record of 8 int32 (packets, first and last packet, stream, TCP slot, flags) and
// one of 6 doubles (bytes, payload, first and last time): about 100 bytes, two or three cache
// lines per packet. TCP connections also get a slot in TcpAnalysisState.
const KEY_STRIDE = 12;
const K_HASH = 0;
const K_VERSION_PROTOCOL = 1;
const K_PORT_A = 2;
const K_PORT_B = 3;
const K_ADDRESS_A = 4;
const K_ADDRESS_B = 8;

const INT_STRIDE = 8;
const I_PACKETS = 0; // + direction
const I_FIRST_PACKET = 2;
const I_LAST_PACKET = 3;
const I_STREAM = 4;
/** The TCP state slot plus one (0: not TCP). */
const I_TCP_SLOT = 5;
/** Completeness in bits 0-5, the sides that sent a FIN in bits 6-7, the client side + 1 in 8-9. */
const I_STATE = 6;
const I_ICMP_ERRORS = 7;

const DOUBLE_STRIDE = 6;
const D_BYTES = 0; // + direction
const D_PAYLOAD = 2; // + direction
const D_FIRST_TIME = 4;
const D_LAST_TIME = 5;

const FIN_SIDES_SHIFT = 6;
const CLIENT_SHIFT = 8;

export class ConversationTable {
  count = 0;
  private capacity = 0;
  private keys = new Int32Array(0);
  private ints = new Int32Array(0);
  private doubles = new Float64Array(0);
  /** The last ICMP error quoting a conversation (rare: a map). */
  private readonly lastIcmpError = new Map<number, number>();
  readonly tcp = new TcpAnalysisState();

  /** Open addressing: pairs of (hash, conversation), -1 for an empty slot. */
  private slots = new Int32Array(2048).fill(-1);
  private readonly streamCounters = new Map<number, number>();

  /** Bytes held by the table's arrays (its capacity, the TCP state and the hash slots). */
  get allocatedBytes(): number {
    return this.keys.byteLength + this.ints.byteLength + this.doubles.byteLength + this.slots.byteLength + this.tcp.ints.byteLength + this.tcp.times.byteLength;
  }

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    const capacity = Math.max(n, this.capacity * 2, 1024);
    const keys = new Int32Array(capacity * KEY_STRIDE);
    keys.set(this.keys);
    const ints = new Int32Array(capacity * INT_STRIDE);
    ints.set(this.ints);
    const doubles = new Float64Array(capacity * DOUBLE_STRIDE);
    doubles.set(this.doubles);
    this.keys = keys;
    this.ints = ints;
    this.doubles = doubles;
    this.capacity = capacity;
  }

  private static hashOf(key: FlowKey): number {
    // Symmetric: each endpoint hashed alone, combined with XOR, so both directions agree.
    const w = key.words;
    let a = Math.imul(key.srcPort + 0x9e3779b9, 0x85ebca6b);
    let b = Math.imul(key.dstPort + 0x9e3779b9, 0x85ebca6b);
    for (let i = 0; i < 4; i++) {
      a = Math.imul(a ^ w[key.srcAt + i], 0xcc9e2d51);
      a = (a << 13) | (a >>> 19);
      b = Math.imul(b ^ w[key.dstAt + i], 0xcc9e2d51);
      b = (b << 13) | (b >>> 19);
    }
    let h = a ^ b ^ Math.imul(key.protocol + 1, 0x1b873593);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h | 0;
  }

  /**
   * The latest conversation of this flow, with the packet's direction in it: returns
   * conversation * 2 + direction (0: sent by side A), or -1 when there is none.
   */
  find(key: FlowKey): number {
    const h = ConversationTable.hashOf(key);
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    const versionProtocol = (key.version << 8) | key.protocol;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const c = slots[slot * 2 + 1];
      if (c < 0) return -1;
      if (slots[slot * 2] !== h || this.keys[c * KEY_STRIDE + K_VERSION_PROTOCOL] !== versionProtocol) continue;
      const direction = this.match(c, key);
      if (direction >= 0) return c * 2 + direction;
    }
  }

  private match(c: number, key: FlowKey): number {
    const k = this.keys;
    const w = key.words;
    const o = c * KEY_STRIDE;
    const s = key.srcAt;
    const d = key.dstAt;
    if (k[o + K_PORT_A] === key.srcPort && k[o + K_PORT_B] === key.dstPort && k[o + 4] === (w[s] | 0) && k[o + 5] === (w[s + 1] | 0) && k[o + 6] === (w[s + 2] | 0) && k[o + 7] === (w[s + 3] | 0) && k[o + 8] === (w[d] | 0) && k[o + 9] === (w[d + 1] | 0) && k[o + 10] === (w[d + 2] | 0) && k[o + 11] === (w[d + 3] | 0)) return 0;
    if (k[o + K_PORT_A] === key.dstPort && k[o + K_PORT_B] === key.srcPort && k[o + 4] === (w[d] | 0) && k[o + 5] === (w[d + 1] | 0) && k[o + 6] === (w[d + 2] | 0) && k[o + 7] === (w[d + 3] | 0) && k[o + 8] === (w[s] | 0) && k[o + 9] === (w[s + 1] | 0) && k[o + 10] === (w[s + 2] | 0) && k[o + 11] === (w[s + 3] | 0)) return 1;
    return -1;
  }

  /** A new conversation for this flow (the packet's sender becomes side A); it replaces any
   *  older one of the same flow for later lookups, as a new TCP connection on reused ports. */
  create(key: FlowKey, packet: number, time: number): number {
    const c = this.count;
    if (c === this.capacity) this.ensure(c + 1);
    this.count = c + 1;
    const h = ConversationTable.hashOf(key);
    const k = this.keys;
    const o = c * KEY_STRIDE;
    const versionProtocol = (key.version << 8) | key.protocol;
    k[o + K_HASH] = h;
    k[o + K_VERSION_PROTOCOL] = versionProtocol;
    for (let i = 0; i < 4; i++) {
      k[o + K_ADDRESS_A + i] = key.words[key.srcAt + i] | 0;
      k[o + K_ADDRESS_B + i] = key.words[key.dstAt + i] | 0;
    }
    k[o + K_PORT_A] = key.srcPort;
    k[o + K_PORT_B] = key.dstPort;
    const streamCount = this.streamCounters.get(key.protocol) ?? 0;
    this.streamCounters.set(key.protocol, streamCount + 1);
    const io = c * INT_STRIDE;
    this.ints[io + I_FIRST_PACKET] = packet;
    this.ints[io + I_LAST_PACKET] = packet;
    this.ints[io + I_STREAM] = streamCount;
    if (key.protocol === 6) this.ints[io + I_TCP_SLOT] = this.tcp.add() + 1;
    this.doubles[c * DOUBLE_STRIDE + D_FIRST_TIME] = time;
    this.doubles[c * DOUBLE_STRIDE + D_LAST_TIME] = time;
    // Grow the slots at half full, then point the flow's slot at this conversation.
    if (this.count * 4 > this.slots.length) this.rehash(this.slots.length);
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const other = slots[slot * 2 + 1];
      if (other < 0 || (slots[slot * 2] === h && k[other * KEY_STRIDE + K_VERSION_PROTOCOL] === versionProtocol && this.match(other, key) >= 0)) {
        slots[slot * 2] = h;
        slots[slot * 2 + 1] = c;
        break;
      }
    }
    return c;
  }

  /** Re-places the findable conversations into `size` slots. */
  private rehash(size: number): void {
    const old = this.slots;
    const slots = new Int32Array(size * 2).fill(-1);
    const mask = size - 1;
    for (let i = 0; i < old.length; i += 2) {
      const c = old[i + 1];
      if (c < 0) continue;
      for (let slot = old[i] & mask; ; slot = (slot + 1) & mask) {
        if (slots[slot * 2 + 1] < 0) {
          slots[slot * 2] = old[i];
          slots[slot * 2 + 1] = c;
          break;
        }
      }
    }
    this.slots = slots;
  }

  /** Counts a packet into its conversation. */
  countPacket(c: number, direction: number, packet: number, time: number, bytes: number): void {
    const io = c * INT_STRIDE;
    this.ints[io + I_PACKETS + direction]++;
    this.ints[io + I_LAST_PACKET] = packet;
    const d = c * DOUBLE_STRIDE;
    this.doubles[d + D_BYTES + direction] += bytes;
    this.doubles[d + D_LAST_TIME] = time;
  }

  /** An ICMP error (packet `packet`) quoted this conversation's flow. */
  countIcmpError(c: number, packet: number): void {
    this.ints[c * INT_STRIDE + I_ICMP_ERRORS]++;
    this.lastIcmpError.set(c, packet);
  }

  /** The TCP state slot of a TCP conversation (-1 for others). */
  tcpSlot(c: number): number {
    return this.ints[c * INT_STRIDE + I_TCP_SLOT] - 1;
  }

  /**
   * TCP connection facts from one segment: completeness, SYN counts, first FIN and RST.
   * `created`: the segment started the conversation.
   */
  tcpSegment(c: number, direction: number, packet: number, flags: number, segmentLength: number, created: boolean): void {
    const io = c * INT_STRIDE + I_STATE;
    let state = this.ints[io];
    let bits = state & 0x3f;
    // Wireshark's completeness, as its first pass leaves it: the segment that starts a
    // conversation counts only when it is a SYN; ACK comes from an ACK without data or SYN.
    const counts = !created || (flags & (TH_SYN | TH_ACK)) === TH_SYN;
    if (flags & TH_SYN) {
      if (counts) bits |= flags & TH_ACK ? Completeness.SYN_ACK : Completeness.SYN;
      // The client: the first pure SYN's sender, else the peer of the first SYN-ACK.
      const t = this.ints[c * INT_STRIDE + I_TCP_SLOT] - 1;
      if (!(flags & TH_ACK) && this.tcp.synCount(t) === 0) state = (state & ~(3 << CLIENT_SHIFT)) | ((direction + 1) << CLIENT_SHIFT);
      else if (flags & TH_ACK && !((state >> CLIENT_SHIFT) & 3)) state |= (2 - direction) << CLIENT_SHIFT;
    }
    if (counts && (flags & (TH_SYN | TH_ACK)) === TH_ACK && segmentLength <= 0) bits |= Completeness.ACK;
    if (segmentLength > 0) {
      if (counts) bits |= Completeness.DATA;
      this.doubles[c * DOUBLE_STRIDE + D_PAYLOAD + direction] += segmentLength;
    }
    if (flags & TH_FIN) {
      if (counts) bits |= Completeness.FIN;
      state |= 1 << (FIN_SIDES_SHIFT + direction);
    }
    if (flags & TH_RST && counts) bits |= Completeness.RST;
    const t = this.ints[c * INT_STRIDE + I_TCP_SLOT] - 1;
    if (t >= 0) this.tcp.noteSegment(t, direction, packet, flags, ((state >> FIN_SIDES_SHIFT) & 3) === 3);
    this.ints[io] = (state & ~0x3f) | bits;
  }

  // ---- reading a conversation ----------------------------------------------------------------

  versionOf(c: number): number {
    return this.keys[c * KEY_STRIDE + K_VERSION_PROTOCOL] >> 8;
  }
  protocolOf(c: number): number {
    return this.keys[c * KEY_STRIDE + K_VERSION_PROTOCOL] & 0xff;
  }
  /** -1 when the protocol has no ports. */
  portOf(c: number, side: number): number {
    return this.keys[c * KEY_STRIDE + (side === 0 ? K_PORT_A : K_PORT_B)];
  }
  /** tcp.stream or udp.stream: per protocol, in order of appearance. */
  streamOf(c: number): number {
    return this.ints[c * INT_STRIDE + I_STREAM];
  }
  /** Address word `i` (0..3) of side `side`, as an unsigned 32-bit number. */
  addressWord(c: number, side: number, i: number): number {
    return this.keys[c * KEY_STRIDE + (side === 0 ? K_ADDRESS_A : K_ADDRESS_B) + i] >>> 0;
  }
  addressText(c: number, side: number): string {
    const words = new Uint32Array(4);
    for (let i = 0; i < 4; i++) words[i] = this.addressWord(c, side, i);
    return addressText(this.versionOf(c), words, 0);
  }
  completenessOf(c: number): number {
    return this.ints[c * INT_STRIDE + I_STATE] & 0x3f;
  }
  packetsOf(c: number, direction: number): number {
    return this.ints[c * INT_STRIDE + I_PACKETS + direction];
  }
  bytesOf(c: number, direction: number): number {
    return this.doubles[c * DOUBLE_STRIDE + D_BYTES + direction];
  }
  firstPacketOf(c: number): number {
    return this.ints[c * INT_STRIDE + I_FIRST_PACKET];
  }
  lastPacketOf(c: number): number {
    return this.ints[c * INT_STRIDE + I_LAST_PACKET];
  }

  endpointText(c: number, side: number): string {
    const address = this.addressText(c, side);
    const port = this.portOf(c, side);
    const host = this.versionOf(c) === 6 ? `[${address}]` : address;
    return port >= 0 ? `${host}:${port}` : address;
  }

  summary(c: number, describeIcmpError?: (packet: number) => string | undefined): ConversationSummary {
    const protocol = this.protocolOf(c);
    const hasPorts = this.portOf(c, 0) >= 0;
    const io = c * INT_STRIDE;
    const d = c * DOUBLE_STRIDE;
    const summary: ConversationSummary = {
      id: c,
      stream: this.streamOf(c),
      protocol: ipProtocolNames[protocol] ?? `IP protocol ${protocol}`,
      ipProtocol: protocol,
      addressA: this.addressText(c, 0),
      portA: hasPorts ? this.portOf(c, 0) : undefined,
      addressB: this.addressText(c, 1),
      portB: hasPorts ? this.portOf(c, 1) : undefined,
      packetsAtoB: this.ints[io + I_PACKETS],
      packetsBtoA: this.ints[io + I_PACKETS + 1],
      bytesAtoB: this.doubles[d + D_BYTES],
      bytesBtoA: this.doubles[d + D_BYTES + 1],
      firstPacket: this.ints[io + I_FIRST_PACKET],
      lastPacket: this.ints[io + I_LAST_PACKET],
      start: this.doubles[d + D_FIRST_TIME] / 1e9,
      duration: (this.doubles[d + D_LAST_TIME] - this.doubles[d + D_FIRST_TIME]) / 1e9,
      icmpErrors: this.ints[io + I_ICMP_ERRORS],
    };
    const icmpError = this.lastIcmpError.get(c);
    if (icmpError !== undefined && describeIcmpError) summary.icmpError = describeIcmpError(icmpError);
    if (protocol === 6) summary.tcp = this.tcpSummary(c, summary);
    return summary;
  }

  private tcpSummary(c: number, s: ConversationSummary): TcpConversationSummary {
    const state = this.ints[c * INT_STRIDE + I_STATE];
    const bits = state & 0x3f;
    const t = this.tcpSlot(c);
    const names: [number, string][] = [
      [Completeness.SYN, 'SYN'],
      [Completeness.SYN_ACK, 'SYN-ACK'],
      [Completeness.ACK, 'ACK'],
      [Completeness.DATA, 'DATA'],
      [Completeness.FIN, 'FIN'],
      [Completeness.RST, 'RST'],
    ];
    const completenessText = names
      .filter(([bit]) => bits & bit)
      .map(([, name]) => name)
      .join(', ');
    const synCount = this.tcp.synCount(t);
    const synAckCount = this.tcp.synAckCount(t);
    // Side A sent the first packet; the client is whoever sent the SYN (usually A).
    const clientSide = ((state >> CLIENT_SHIFT) & 3) - 1;
    const client: 'A' | 'B' | undefined = clientSide < 0 ? undefined : clientSide === 0 ? 'A' : 'B';
    const side = (d: number): 'A' | 'B' => (d === 0 ? 'A' : 'B');
    const role = (d: number) => (client === undefined ? `side ${side(d)}` : side(d) === client ? 'client' : 'server');
    const result: TcpConversationSummary = {
      completeness: bits,
      completenessText: completenessText || 'none',
      client,
      synCount,
      synAckCount,
      payloadAtoB: this.doubles[c * DOUBLE_STRIDE + D_PAYLOAD],
      payloadBtoA: this.doubles[c * DOUBLE_STRIDE + D_PAYLOAD + 1],
      verdict: 'still open',
      verdictText: '',
    };
    const fin = this.tcp.firstFin(t);
    const rst = this.tcp.firstRst(t);
    if (fin) result.firstFin = { side: side(fin.side), endpoint: this.endpointText(c, fin.side), packet: fin.packet };
    if (rst) result.firstRst = { side: side(rst.side), endpoint: this.endpointText(c, rst.side), packet: rst.packet };

    const established = (bits & Completeness.SYN_ACK) !== 0 || (bits & Completeness.DATA) !== 0;
    const finSides = (state >> FIN_SIDES_SHIFT) & 3;
    const packets = s.packetsAtoB + s.packetsBtoA;
    const times = (n: number) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);
    if (packets === 0) {
      result.verdict = 'quoted only';
      result.verdictText = `only seen quoted in ${s.icmpErrors} ICMP error${s.icmpErrors === 1 ? '' : 's'}${s.icmpError ? ` (${s.icmpError})` : ''}`;
    } else if (!(bits & Completeness.SYN_ACK) && synCount > 0 && result.firstRst) {
      const reset = result.firstRst;
      const sentBy = reset.side === client ? 'the client' : 'the server';
      result.verdict = 'refused';
      result.verdictText = `refused: RST from ${reset.endpoint} (${sentBy}) after the SYN${synCount > 1 ? ` (sent ${times(synCount)})` : ''}`;
    } else if (!(bits & Completeness.SYN_ACK) && synCount > 0 && !(bits & Completeness.DATA) && s.icmpErrors > 0) {
      result.verdict = 'unreachable';
      result.verdictText = `unreachable: ${s.icmpError ?? 'ICMP error'} (SYN sent ${times(synCount)})`;
    } else if (!(bits & Completeness.SYN_ACK) && synCount > 0 && !(bits & Completeness.DATA)) {
      result.verdict = 'no answer';
      result.verdictText = `no answer: SYN sent ${times(synCount)}, nothing came back`;
    } else if (rst && rst.beforeClose) {
      const who = role(rst.side);
      result.verdict = who === 'client' ? 'reset by client' : who === 'server' ? 'reset by server' : 'reset';
      result.verdictText = `reset ${(bits & Completeness.DATA) !== 0 ? 'mid-stream ' : ''}by the ${who} (RST from ${result.firstRst!.endpoint})`;
    } else if (finSides === 3) {
      result.verdict = 'completed';
      result.verdictText = `completed: both sides closed with FIN, first the ${role(fin!.side)} ${result.firstFin!.endpoint}${result.firstRst ? `; then RST from ${result.firstRst.endpoint}` : ''}`;
    } else if (finSides !== 0) {
      result.verdict = 'half closed';
      result.verdictText = `half closed: FIN from the ${role(fin!.side)} ${result.firstFin!.endpoint} only`;
    } else if ((bits & Completeness.SYN) && (bits & Completeness.SYN_ACK) && !(bits & Completeness.ACK) && !(bits & Completeness.DATA)) {
      result.verdict = 'handshake incomplete';
      result.verdictText = 'handshake incomplete: SYN and SYN-ACK seen, no ACK';
    } else {
      result.verdict = 'still open';
      result.verdictText = established ? 'still open at the end of the capture' : 'still open at the end of the capture (no handshake seen)';
    }
    if (synCount === 0 && synAckCount === 0 && packets > 0) result.verdictText += ' (started before the capture)';
    return result;
  }

  describeIcmp(type: number, code: number, version: number): string {
    return version === 6 ? ICMPV6_DESCRIPTIONS[type] ?? `ICMPv6 type ${type}` : `${ICMP_DESCRIPTIONS[type] ?? `ICMP type ${type}`}${code ? ` (code ${code})` : ''}`;
  }
}
