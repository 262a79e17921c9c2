// Conversations: one per flow (protocol, both addresses, both ports), found by a hash of the
// flow that is the same in both directions. Side A is whoever sent the conversation's first
// packet. Kept in typed arrays, as the packet index is, and summarised on demand with a
// verdict in words for TCP.
import { addressText } from './decoder';
import { ipProtocolNames } from './names';
import { prefault, progressCounter, sharedBuffer } from './prefault';
import { Completeness, TcpAnalysisState } from './tcpAnalysis';

export { Completeness };


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
  /**
   * Which side is the client: the SYN's sender (or the SYN-ACK's peer); without either, the
   * side with the higher port when the other's is below 32768 (then `clientGuessed`).
   */
  client: 'A' | 'B' | undefined;
  clientGuessed: boolean;
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

// Storage: one record of 16 int32 (64 bytes, a cache line) per conversation: hash, version and
// protocol, ports, both addresses, stream number, TCP slot, first packet, ICMP errors. Finding
// a flow is one probe (or a few) of an open-addressing table of (hash, conversation) pairs kept
// at most half full, then a comparison with the record; IPv4 flows, nearly all of them, have
// their own lookup that needs no key object. Packet and byte counts are not kept per packet:
// they are tallied from the index's columns when asked for (see PacketIndex.tally), which keeps
// the per-packet work to a lookup and the TCP analysis.
const STRIDE = 16;
const K_HASH = 0;
const K_VERSION_PROTOCOL = 1;
const K_PORT_A = 2;
const K_PORT_B = 3;
const K_ADDRESS_A = 4;
const K_ADDRESS_B = 8;
const K_STREAM = 12;
/** The TCP state slot plus one (0: not TCP). */
const K_TCP_SLOT = 13;
const K_FIRST_PACKET = 14;
const K_ICMP_ERRORS = 15;

/** One endpoint (an address word and a port), mixed alone, so that both directions agree. */
function endpointHash(address: number, port: number): number {
  let a = address ^ Math.imul(port + 0x9e3779b9, 0x85ebca6b);
  a = Math.imul(a ^ (a >>> 15), 0x2c1b3c6d);
  return a ^ (a >>> 12);
}

function flowHash(a: number, b: number, protocol: number): number {
  let h = a ^ b ^ Math.imul(protocol + 1, 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** Per-conversation counts, tallied from the packet index's columns. */
export interface ConversationTally {
  /** Two per conversation: A to B, then B to A. */
  packets: Uint32Array;
  bytes: Float64Array;
  lastPacket: Int32Array;
  /** Nanoseconds from the capture start. */
  lastTime: Float64Array;
}

/**
 * Whether the IPv4 record at `o` is this flow: 0 as recorded (A to B), 1 the other way, -1 not it.
 * An IPv4 record's other address words are zero; the caller has matched hash, version and protocol.
 */
function matchV4(records: Int32Array<ArrayBufferLike>, o: number, src: number, dst: number, srcPort: number, dstPort: number): number {
  const portA = records[o + K_PORT_A];
  const portB = records[o + K_PORT_B];
  const addressA = records[o + K_ADDRESS_A + 3];
  const addressB = records[o + K_ADDRESS_B + 3];
  if (portA === srcPort && portB === dstPort && addressA === src && addressB === dst) return 0;
  if (portA === dstPort && portB === srcPort && addressA === dst && addressB === src) return 1;
  return -1;
}

export class ConversationTable {
  count = 0;
  private capacity = 0;
  private records: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private firstTimes: Float64Array<ArrayBufferLike> = new Float64Array(0);
  /** The last ICMP error quoting a conversation (rare: a map). */
  private readonly lastIcmpError = new Map<number, number>();
  readonly tcp = new TcpAnalysisState();

  /** Open addressing: pairs of (hash, conversation + 1), 0 for an empty slot; at most half full. */
  private slots: Int32Array<ArrayBufferLike> = new Int32Array(2048);
  /** The bigger table the slots will grow into, being faulted in (see prepareSlots). */
  private spareSlots: Int32Array<ArrayBufferLike> | undefined;
  /** Next tcp.stream / udp.stream... number, by IP protocol. */
  private readonly streamCounters = new Int32Array(256);
  /** The TCP slot of the conversation the last find() or create() returned (-1: not TCP). */
  foundTcpSlot = -1;
  /** Conversations created, published every 256 for the prefaulting helper thread. */
  private readonly progress = progressCounter();

  /** Bytes held by the table's arrays (its capacity, the TCP state and the slots). */
  get allocatedBytes(): number {
    return this.records.byteLength + this.firstTimes.byteLength + this.slots.byteLength + this.tcp.allocatedBytes;
  }

  /**
   * Room for this many conversations (and TCP connections) without growing, faulted in by a
   * helper thread ahead of use (see prefault.ts).
   */
  reserve(conversations: number, tcpConnections: number): void {
    if (conversations > this.capacity) {
      this.ensure(conversations, true);
      if (this.records.buffer instanceof SharedArrayBuffer) prefault([this.records.buffer, this.firstTimes.buffer as SharedArrayBuffer], [STRIDE * 4, 8], this.capacity, this.progress, 8192);
    }
    this.tcp.ensure(tcpConnections, true);
  }

  /**
   * Makes ready the lookup table that `conversations` will need, faulted in by the helper
   * thread while the current one serves: the table grows into it when it must (at most half
   * full), with no page faults on this thread, where growing into fresh memory would fault
   * every page of it at once (its slots are reached at random).
   */
  prepareSlots(conversations: number): void {
    // Room for the (already generous) estimate at 5/8 full: past half full it grows anyway.
    let size = this.slots.length / 2;
    while (size < conversations * 1.6) size *= 2;
    if (size <= this.slots.length / 2 || size * 8 < 1 << 20 || typeof SharedArrayBuffer !== 'function') return;
    const spare = new Int32Array(new SharedArrayBuffer(size * 8));
    prefault([spare.buffer as SharedArrayBuffer], [8], size, progressCounter(), Infinity);
    this.spareSlots = spare;
  }

  /** Gives back the spare capacity (of a table that will not grow much more). */
  trim(): void {
    if (this.capacity > this.count) {
      this.records = this.records.slice(0, this.count * STRIDE);
      this.firstTimes = this.firstTimes.slice(0, this.count);
      this.capacity = this.count;
    }
    this.tcp.trim();
  }

  private ensure(n: number, shared = false): void {
    if (n <= this.capacity) return;
    const capacity = Math.max(n, this.capacity * 2, 1024);
    const records = shared ? new Int32Array(sharedBuffer(capacity * STRIDE * 4)) : new Int32Array(capacity * STRIDE);
    records.set(this.records);
    const firstTimes = shared ? new Float64Array(sharedBuffer(capacity * 8)) : new Float64Array(capacity);
    firstTimes.set(this.firstTimes);
    this.records = records;
    this.firstTimes = firstTimes;
    this.capacity = capacity;
  }

  /** Symmetric: each endpoint hashed alone, combined with XOR, so both directions agree. */
  private static hashOf(key: FlowKey): number {
    // An IPv4 address is only word 3 (the hash is then hashV4's); IPv6 mixes in the other three.
    const w = key.words;
    const s = key.srcAt;
    const d = key.dstAt;
    let a = w[s + 3];
    let b = w[d + 3];
    if (key.version === 6) {
      a ^= Math.imul(w[s] ^ Math.imul(w[s + 1], 0x27d4eb2d) ^ Math.imul(w[s + 2], 0x165667b1), 0xcc9e2d51);
      b ^= Math.imul(w[d] ^ Math.imul(w[d + 1], 0x27d4eb2d) ^ Math.imul(w[d + 2], 0x165667b1), 0xcc9e2d51);
    }
    return flowHash(endpointHash(a, key.srcPort), endpointHash(b, key.dstPort), key.protocol);
  }

  /**
   * The latest conversation of this flow, with the packet's direction in it: returns
   * conversation * 2 + direction (0: sent by side A), or -1 when there is none.
   */
  find(key: FlowKey): number {
    const h = ConversationTable.hashOf(key);
    const versionProtocol = (key.version << 8) | key.protocol;
    const slots = this.slots;
    const records = this.records;
    const mask = (slots.length >> 1) - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const c = slots[slot * 2 + 1] - 1;
      if (c < 0) return -1;
      if (slots[slot * 2] !== h || records[c * STRIDE + K_VERSION_PROTOCOL] !== versionProtocol) continue;
      const direction = ConversationTable.match(records, c * STRIDE, key);
      if (direction >= 0) {
        this.foundTcpSlot = records[c * STRIDE + K_TCP_SLOT] - 1;
        return c * 2 + direction;
      }
    }
  }

  /** The hash of an IPv4 flow (the same as hashOf's for its key). */
  static hashV4(protocol: number, src: number, dst: number, srcPort: number, dstPort: number): number {
    return flowHash(endpointHash(src, srcPort), endpointHash(dst, dstPort), protocol);
  }

  /**
   * find() for an IPv4 flow given as numbers (ports -1 for none), with its hash from hashV4:
   * the packet index's fast path.
   */
  findV4(h: number, protocol: number, src: number, dst: number, srcPort: number, dstPort: number): number {
    const versionProtocol = (4 << 8) | protocol;
    const slots = this.slots;
    const records = this.records;
    const mask = (slots.length >> 1) - 1;
    src |= 0;
    dst |= 0;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const c = slots[slot * 2 + 1] - 1;
      if (c < 0) return -1;
      const o = c * STRIDE;
      if (slots[slot * 2] !== h || records[o + K_VERSION_PROTOCOL] !== versionProtocol) continue;
      const direction = matchV4(records, o, src, dst, srcPort, dstPort);
      if (direction >= 0) {
        this.foundTcpSlot = records[o + K_TCP_SLOT] - 1;
        return c * 2 + direction;
      }
    }
  }

  // Warming: reading what lookups will need a few packets ahead of them, in passes over several
  // packets (each pass's loads independent of each other, so that their cache misses overlap).

  /** The conversation in the first slot of hash `h`, or -1 (a guess: the lookup decides). */
  warmSlot(h: number): number {
    const slots = this.slots;
    return slots[((h & ((slots.length >> 1) - 1)) << 1) | 1] - 1;
  }

  /** The TCP slot of conversation `c` (reading its record), or -1. */
  warmRecord(c: number): number {
    return c < 0 ? -1 : this.records[c * STRIDE + K_TCP_SLOT] - 1;
  }

  /** 0: the key's source is side A of the record at `o`; 1: its destination is; -1: neither. */
  private static match(k: Int32Array<ArrayBufferLike>, o: number, key: FlowKey): number {
    const w = key.words;
    const s = key.srcAt;
    const d = key.dstAt;
    const portA = k[o + K_PORT_A];
    const portB = k[o + K_PORT_B];
    if (portA === key.srcPort && portB === key.dstPort && k[o + 7] === (w[s + 3] | 0) && k[o + 11] === (w[d + 3] | 0) && k[o + 4] === (w[s] | 0) && k[o + 5] === (w[s + 1] | 0) && k[o + 6] === (w[s + 2] | 0) && k[o + 8] === (w[d] | 0) && k[o + 9] === (w[d + 1] | 0) && k[o + 10] === (w[d + 2] | 0)) return 0;
    if (portA === key.dstPort && portB === key.srcPort && k[o + 7] === (w[d + 3] | 0) && k[o + 11] === (w[s + 3] | 0) && k[o + 4] === (w[d] | 0) && k[o + 5] === (w[d + 1] | 0) && k[o + 6] === (w[d + 2] | 0) && k[o + 8] === (w[s] | 0) && k[o + 9] === (w[s + 1] | 0) && k[o + 10] === (w[s + 2] | 0)) return 1;
    return -1;
  }

  /** A new conversation for this flow (the packet's sender becomes side A); it replaces any
   *  older one of the same flow for later lookups, as a new TCP connection on reused ports. */
  create(key: FlowKey, packet: number, time: number): number {
    const w = key.words;
    const s = key.srcAt;
    const d = key.dstAt;
    const h = ConversationTable.hashOf(key);
    const c = this.record(h, key.version, key.protocol, w[s] | 0, w[s + 1] | 0, w[s + 2] | 0, w[s + 3] | 0, w[d] | 0, w[d + 1] | 0, w[d + 2] | 0, w[d + 3] | 0, key.srcPort, key.dstPort, packet, time);
    // The flow's slot, if it has one, now points at the new conversation.
    const versionProtocol = (key.version << 8) | key.protocol;
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const other = slots[slot * 2 + 1] - 1;
      if (other < 0 || (slots[slot * 2] === h && this.records[other * STRIDE + K_VERSION_PROTOCOL] === versionProtocol && ConversationTable.match(this.records, other * STRIDE, key) >= 0)) {
        slots[slot * 2] = h;
        slots[slot * 2 + 1] = c + 1;
        return c;
      }
    }
  }

  /** create() for an IPv4 flow given as numbers, with its hash from hashV4 (the fast path). */
  createV4(h: number, protocol: number, src: number, dst: number, srcPort: number, dstPort: number, packet: number, time: number): number {
    src |= 0;
    dst |= 0;
    const c = this.record(h, 4, protocol, 0, 0, 0, src, 0, 0, 0, dst, srcPort, dstPort, packet, time);
    // The flow's slot, if it has one, now points at the new conversation.
    const versionProtocol = (4 << 8) | protocol;
    const slots = this.slots;
    const records = this.records;
    const mask = (slots.length >> 1) - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const other = slots[slot * 2 + 1] - 1;
      if (other >= 0) {
        const o = other * STRIDE;
        if (slots[slot * 2] !== h || records[o + K_VERSION_PROTOCOL] !== versionProtocol || matchV4(records, o, src, dst, srcPort, dstPort) < 0) continue;
      }
      slots[slot * 2] = h;
      slots[slot * 2 + 1] = c + 1;
      return c;
    }
  }

  /** Writes conversation `count`'s record (growing the slots at half full); returns it. */
  private record(h: number, version: number, protocol: number, a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number, srcPort: number, dstPort: number, packet: number, time: number): number {
    const c = this.count;
    if (c === this.capacity) this.ensure(c + 1);
    this.count = c + 1;
    if ((c & 255) === 0) Atomics.store(this.progress, 0, c);
    const k = this.records;
    const o = c * STRIDE;
    k[o + K_HASH] = h;
    k[o + K_VERSION_PROTOCOL] = (version << 8) | protocol;
    k[o + K_PORT_A] = srcPort;
    k[o + K_PORT_B] = dstPort;
    k[o + K_ADDRESS_A] = a0;
    k[o + K_ADDRESS_A + 1] = a1;
    k[o + K_ADDRESS_A + 2] = a2;
    k[o + K_ADDRESS_A + 3] = a3;
    k[o + K_ADDRESS_B] = b0;
    k[o + K_ADDRESS_B + 1] = b1;
    k[o + K_ADDRESS_B + 2] = b2;
    k[o + K_ADDRESS_B + 3] = b3;
    k[o + K_STREAM] = this.streamCounters[protocol & 0xff]++;
    this.foundTcpSlot = protocol === 6 ? this.tcp.add() : -1;
    k[o + K_TCP_SLOT] = this.foundTcpSlot + 1;
    k[o + K_FIRST_PACKET] = packet;
    k[o + K_ICMP_ERRORS] = 0;
    this.firstTimes[c] = time;
    if (this.count * 4 > this.slots.length) this.rehash(this.slots.length);
    return c;
  }

  /** Re-places the findable conversations into `size` slots (or more, if prepared). */
  private rehash(size: number): void {
    const old = this.slots;
    let slots: Int32Array<ArrayBufferLike>;
    if (this.spareSlots && this.spareSlots.length >= size * 2) {
      slots = this.spareSlots;
      size = slots.length >> 1;
      this.spareSlots = undefined;
    } else slots = new Int32Array(size * 2);
    const mask = size - 1;
    for (let i = 0; i < old.length; i += 2) {
      const c = old[i + 1];
      if (c === 0) continue;
      for (let slot = old[i] & mask; ; slot = (slot + 1) & mask) {
        if (slots[slot * 2 + 1] === 0) {
          slots[slot * 2] = old[i];
          slots[slot * 2 + 1] = c;
          break;
        }
      }
    }
    this.slots = slots;
  }

  /** An ICMP error (packet `packet`) quoted this conversation's flow. */
  countIcmpError(c: number, packet: number): void {
    this.records[c * STRIDE + K_ICMP_ERRORS]++;
    this.lastIcmpError.set(c, packet);
  }

  /** The TCP state slot of a TCP conversation (-1 for others). */
  tcpSlot(c: number): number {
    return this.records[c * STRIDE + K_TCP_SLOT] - 1;
  }

  // ---- reading a conversation ----------------------------------------------------------------

  versionOf(c: number): number {
    return this.records[c * STRIDE + K_VERSION_PROTOCOL] >> 8;
  }
  protocolOf(c: number): number {
    return this.records[c * STRIDE + K_VERSION_PROTOCOL] & 0xff;
  }
  /** -1 when the protocol has no ports. */
  portOf(c: number, side: number): number {
    return this.records[c * STRIDE + (side === 0 ? K_PORT_A : K_PORT_B)];
  }
  /** tcp.stream or udp.stream: per protocol, in order of appearance. */
  streamOf(c: number): number {
    return this.records[c * STRIDE + K_STREAM];
  }
  /** Address word `i` (0..3) of side `side`, as an unsigned 32-bit number. */
  addressWord(c: number, side: number, i: number): number {
    return this.records[c * STRIDE + (side === 0 ? K_ADDRESS_A : K_ADDRESS_B) + i] >>> 0;
  }
  addressText(c: number, side: number): string {
    const words = new Uint32Array(4);
    for (let i = 0; i < 4; i++) words[i] = this.addressWord(c, side, i);
    return addressText(this.versionOf(c), words, 0);
  }
  /** Wireshark's tcp.completeness of a TCP conversation (0 for others). */
  completenessOf(c: number): number {
    const t = this.tcpSlot(c);
    return t < 0 ? 0 : this.tcp.completeness(t);
  }
  firstPacketOf(c: number): number {
    return this.records[c * STRIDE + K_FIRST_PACKET];
  }

  endpointText(c: number, side: number): string {
    const address = this.addressText(c, side);
    const port = this.portOf(c, side);
    const host = this.versionOf(c) === 6 ? `[${address}]` : address;
    return port >= 0 ? `${host}:${port}` : address;
  }

  summary(c: number, tally: ConversationTally, describeIcmpError?: (packet: number) => string | undefined): ConversationSummary {
    const protocol = this.protocolOf(c);
    const hasPorts = this.portOf(c, 0) >= 0;
    const firstTime = this.firstTimes[c];
    const summary: ConversationSummary = {
      id: c,
      stream: this.streamOf(c),
      protocol: ipProtocolNames[protocol] ?? `IP protocol ${protocol}`,
      ipProtocol: protocol,
      addressA: this.addressText(c, 0),
      portA: hasPorts ? this.portOf(c, 0) : undefined,
      addressB: this.addressText(c, 1),
      portB: hasPorts ? this.portOf(c, 1) : undefined,
      packetsAtoB: tally.packets[c * 2],
      packetsBtoA: tally.packets[c * 2 + 1],
      bytesAtoB: tally.bytes[c * 2],
      bytesBtoA: tally.bytes[c * 2 + 1],
      firstPacket: this.records[c * STRIDE + K_FIRST_PACKET],
      lastPacket: Math.max(tally.lastPacket[c], this.records[c * STRIDE + K_FIRST_PACKET]),
      start: firstTime / 1e9,
      duration: tally.lastPacket[c] >= 0 ? (tally.lastTime[c] - firstTime) / 1e9 : 0,
      icmpErrors: this.records[c * STRIDE + K_ICMP_ERRORS],
    };
    const icmpError = this.lastIcmpError.get(c);
    if (icmpError !== undefined && describeIcmpError) summary.icmpError = describeIcmpError(icmpError);
    if (protocol === 6) summary.tcp = this.tcpSummary(c, summary);
    return summary;
  }

  private tcpSummary(c: number, s: ConversationSummary): TcpConversationSummary {
    const t = this.tcpSlot(c);
    const bits = this.tcp.completeness(t);
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
    let clientSide = this.tcp.clientSide(t);
    let clientGuessed = false;
    if (clientSide < 0) {
      const [portA, portB] = [this.portOf(c, 0), this.portOf(c, 1)];
      if (portB < 32768 && portA > portB) clientSide = 0;
      else if (portA < 32768 && portB > portA) clientSide = 1;
      clientGuessed = clientSide >= 0;
    }
    const client: 'A' | 'B' | undefined = clientSide < 0 ? undefined : clientSide === 0 ? 'A' : 'B';
    const side = (d: number): 'A' | 'B' => (d === 0 ? 'A' : 'B');
    const role = (d: number) => (client === undefined ? `side ${side(d)}` : side(d) === client ? 'client' : 'server');
    const result: TcpConversationSummary = {
      completeness: bits,
      completenessText: completenessText || 'none',
      client,
      clientGuessed,
      synCount,
      synAckCount,
      payloadAtoB: this.tcp.payload(t, 0),
      payloadBtoA: this.tcp.payload(t, 1),
      verdict: 'still open',
      verdictText: '',
    };
    const fin = this.tcp.firstFin(t);
    const rst = this.tcp.firstRst(t);
    if (fin) result.firstFin = { side: side(fin.side), endpoint: this.endpointText(c, fin.side), packet: fin.packet };
    if (rst) result.firstRst = { side: side(rst.side), endpoint: this.endpointText(c, rst.side), packet: rst.packet };

    const established = (bits & Completeness.SYN_ACK) !== 0 || (bits & Completeness.DATA) !== 0;
    const finSides = this.tcp.finSides(t);
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
    if (synCount === 0 && synAckCount === 0 && packets > 0) result.verdictText += clientGuessed ? ' (started before the capture; client guessed from the ports)' : ' (started before the capture)';
    return result;
  }

  describeIcmp(type: number, code: number, version: number): string {
    return version === 6 ? ICMPV6_DESCRIPTIONS[type] ?? `ICMPv6 type ${type}` : `${ICMP_DESCRIPTIONS[type] ?? `ICMP type ${type}`}${code ? ` (code ${code})` : ''}`;
  }
}
