// The index of a capture: one pass decodes every frame, runs the TCP analysis and builds the
// conversations, keeping per packet only what the packet list and the filters need, in typed
// arrays (42 bytes a packet). The rest is decoded again from the file for the rows on screen.
//
// The common frame (Ethernet, IPv4, TCP or UDP, possibly in VXLAN) takes a fast path
// (fastPath.ts; for pcap files read ahead it already ran in the reader thread), in batches whose
// conversation lookups are prepared together; every other frame goes through the general
// decoder. Both give the same index (the tests compare them). Big columns live in memory a
// helper thread faults in ahead of the rows (prefault.ts).
import * as fs from 'node:fs';
import { ConversationSummary, ConversationTable, ConversationTally, FlowKey } from './conversations';
import { DecodeOptions, FrameContext, PacketDecoder, addressText } from './decoder';
import { LinkType } from './linkTypes';
import { R_ACK, R_CAPTURED, R_DST, R_DST_PORT, R_FRACTION, R_HASH, R_INTERFACE, R_LAYERS, R_MARKS, R_ORIGINAL, R_PROTOCOL, R_PROTOCOL_COLUMN, R_RECORD, R_SECONDS, R_SEGMENT_LENGTH, R_SEQ, R_SRC, R_SRC_PORT, R_TCP_FLAGS, R_TIME_IS_ZERO, R_TUNNEL, R_TUNNEL_DST, R_TUNNEL_DST_PORT, R_TUNNEL_HASH, R_TUNNEL_SRC, R_TUNNEL_SRC_PORT, R_WINDOW, R_WINDOW_SCALE, RD_FILE_OFFSET, RD_TIME, ROW_INTS, fastParse } from './fastPath';
import { DecodedPacket, Layer, Mark, PacketFacts, Protocol } from './packet';
import { CaptureFormat, CaptureInterface, CaptureProblem, CaptureReadResult, CaptureStreamReader, FileReadOptions, FrameSink, InterfaceStatistics, followCaptureFile, readCaptureBytes, readCaptureFile, readCaptureFileSync } from './reader';
import { prefault, progressCounter, sharedBuffer } from './prefault';
import { Analysis, Reuse, analysisNotes, isBadTcp } from './tcpAnalysis';

const TH_SYN = 0x02;
const TH_RST = 0x04;

/** Bytes the index keeps per packet (the sum of the per-packet columns below). */
export const INDEX_BYTES_PER_PACKET = 8 + 8 + 4 + 4 + 4 + 4 + 2 + 2 + 2 + 1 + 1 + 2;

export interface IndexOptions extends DecodeOptions {
  /** Decode every frame with the general decoder, skipping the fast path (for comparing them). */
  generalDecoderOnly?: boolean;
}

/** Packets before the index sizes itself from the file size (see grow). */
const FIRST_CAPACITY = 16384;
// What the hot paths use, as plain module constants (a property of an imported module's
// exports is loaded through an inline cache on each use; these are not).
const LINK_ETHERNET = LinkType.ETHERNET;
const MARK_REVERSE = Mark.REVERSE;
const MARK_RELATED_REVERSE = Mark.RELATED_REVERSE;
const REUSE_NEW_CONNECTION = Reuse.NEW_CONNECTION;
const REUSE_NONE = Reuse.NONE;
const ANALYSIS_REUSED_PORTS = Analysis.REUSED_PORTS;
const hashV4 = ConversationTable.hashV4;
const DOUBLES_PER_ROW = ROW_INTS / 2;

/** The hashes of a row's flows (its own, and the tunnel's when it came in one). */
function hashRow(row: Int32Array, r: number): void {
  row[r + R_HASH] = hashV4(row[r + R_PROTOCOL], row[r + R_SRC], row[r + R_DST], row[r + R_SRC_PORT], row[r + R_DST_PORT]);
  if (row[r + R_TUNNEL]) row[r + R_TUNNEL_HASH] = hashV4(17, row[r + R_TUNNEL_SRC], row[r + R_TUNNEL_DST], row[r + R_TUNNEL_SRC_PORT], row[r + R_TUNNEL_DST_PORT]);
}

/** Packets after which the conversations are sized for the whole file (see reserveConversations). */
const RESERVE_AT = 131072;
/** Fast-path frames put through the conversations and the analysis together (see flush). */
const BATCH = 16;
/** Rows ahead of the published progress that the prefaulting thread faults in. */
const PREFAULT_LEAD = 65536;

export class PacketIndex implements FrameSink {
  count = 0;
  private capacity = 0;
  /** Where each frame's bytes start in the file. */
  fileOffset: Float64Array<ArrayBufferLike> = new Float64Array(0);
  /** Nanoseconds since the first packet (exact for 104 days). */
  time: Float64Array<ArrayBufferLike> = new Float64Array(0);
  capturedLength: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  originalLength: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  /** Conversation of the packet's (innermost) flow; -1 for none (ARP, non-IP). */
  conversation: Int32Array<ArrayBufferLike> = new Int32Array(0);
  /** The flow an ICMP error quotes, or a tunnel's outer flow; -1 for none. */
  related: Int32Array<ArrayBufferLike> = new Int32Array(0);
  analysis: Uint16Array<ArrayBufferLike> = new Uint16Array(0);
  tcpFlags: Uint16Array<ArrayBufferLike> = new Uint16Array(0);
  layers: Uint16Array<ArrayBufferLike> = new Uint16Array(0);
  protocol: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  marks: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  interfaceIndex: Uint16Array<ArrayBufferLike> = new Uint16Array(0);

  /** Absolute time of the first packet. */
  firstSeconds = 0;
  firstNanoseconds = 0;

  readonly conversations = new ConversationTable();
  readonly interfaces: CaptureInterface[] = [];
  /** Names from pcapng name resolution blocks, by address text. */
  readonly addressNames = new Map<string, string[]>();
  readonly interfaceStatistics: InterfaceStatistics[] = [];
  format: CaptureFormat | undefined;
  /** Why reading stopped early, if it did; every packet before it is indexed. */
  error: CaptureProblem | undefined;
  /** Reading has ended (file read whole, or a live capture stopped). */
  complete = false;

  private readonly decoder: PacketDecoder;
  private readonly facts = new PacketFacts();
  private readonly key: FlowKey = { version: 0, protocol: 0, words: new Uint32Array(8), srcAt: 0, dstAt: 4, srcPort: -1, dstPort: -1 };
  private linkTypes: number[] = [];
  /** Rows written, published every 4096 for the prefaulting helper thread. */
  private readonly progress = progressCounter();

  /** Size of the file being read, when known: the first growth sizes the columns from it. */
  private expectedBytes = 0;

  /** The decoder's table of what each UDP port carries. */
  private readonly udpApps: Uint8Array;
  /** Frames go through fastParse first (off: everything through the general decoder). */
  private readonly fastPath: boolean;
  /** Frames fastParse read, waiting in the batch (rows as in fastPath.ts) for flush(). */
  private pending = 0;
  private readonly batchBuffer = new ArrayBuffer(BATCH * ROW_INTS * 4);
  private readonly batch = new Int32Array(this.batchBuffer);
  private readonly batchDoubles = new Float64Array(this.batchBuffer);
  /** Whether the first packet's time is known (the times are kept relative to it). */
  private started = false;
  /** What the warming loads read (kept, so that they are not optimised away; in a typed array,
   *  so that whatever number it is does not change the shape of this object). */
  private readonly warmth = new Int32Array(1);
  private readonly warmRows = new Int32Array(BATCH);

  constructor(readonly options: IndexOptions = {}) {
    this.decoder = new PacketDecoder(options);
    this.udpApps = this.decoder.udpApps;
    this.fastPath = options.generalDecoderOnly !== true;
  }

  /** Packets expected from the file's size and the first packets (0: not estimated). */
  private expectedPackets = 0;
  private conversationsAtFirst = 0;

  /**
   * Prepares the conversations' lookup table for the whole file (at RESERVE_AT packets), from
   * how many new ones came since the first FIRST_CAPACITY packets.
   */
  private reserveConversations(): void {
    const table = this.conversations;
    // The packets to come, from the density so far (more packets: a better guess than at first).
    const expected = this.expectedBytes / Math.max(16, this.fileOffset[RESERVE_AT - 1] / RESERVE_AT);
    const rest = Math.max(0, expected - RESERVE_AT) * 1.1;
    try {
      table.prepareSlots(Math.ceil(table.count + ((table.count - this.conversationsAtFirst) / (RESERVE_AT - FIRST_CAPACITY)) * rest));
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
  }

  /** Tells the index how big the capture is, so it can size its arrays once. */
  expectFileSize(bytes: number): void {
    this.expectedBytes = bytes;
  }

  interfaceAdded(iface: CaptureInterface): void {
    this.interfaces.push(iface);
    this.linkTypes[iface.index] = iface.linkType;
  }

  names(address: string, names: string[]): void {
    this.addressNames.set(address, names);
  }

  statistics(stats: InterfaceStatistics): void {
    this.interfaceStatistics.push(stats);
  }

  private grow(): void {
    let capacity = Math.max(FIRST_CAPACITY, this.capacity * 2);
    if (this.capacity === FIRST_CAPACITY && this.expectedBytes > 0) {
      // Size the columns once for the whole file, from the first packets' density, generously:
      // the helper thread faults pages in only as the rows come near, so rows never reached
      // cost nothing, while growing again would copy (and fault) everything twice.
      const perPacket = Math.max(16, this.fileOffset[FIRST_CAPACITY - 1] / FIRST_CAPACITY);
      const estimate = Math.ceil(this.expectedBytes / perPacket);
      if (estimate * 1.25 > capacity) {
        capacity = Math.ceil(estimate * 1.25);
        // Likewise the conversations, from how many the first packets made (generously: the
        // helper faults their pages in only as they are reached). Their lookup table, reached at
        // random, is sized later, once the first conversations (those open when the capture
        // started, all new at once) no longer dominate the count.
        try {
          this.conversations.reserve(Math.ceil((this.conversations.count / FIRST_CAPACITY) * estimate), Math.ceil((this.conversations.tcp.count / FIRST_CAPACITY) * estimate));
        } catch (error) {
          // More than the memory holds: the table grows as it goes instead.
          if (!(error instanceof RangeError)) throw error;
        }
        this.expectedPackets = estimate;
        this.conversationsAtFirst = this.conversations.count;
      }
    }
    try {
      this.resize(capacity);
    } catch (error) {
      // A generous estimate the memory cannot hold (pages never touched still count against
      // the address space): grow by doubling instead.
      if (!(error instanceof RangeError) || capacity <= Math.max(FIRST_CAPACITY, this.capacity * 2)) throw error;
      this.resize(Math.max(FIRST_CAPACITY, this.capacity * 2));
    }
  }

  /** New columns of `capacity` rows, the rows so far copied in. */
  private resize(capacity: number): void {
    // Big columns in memory the helper thread faults in ahead of the rows (see prefault.ts).
    const shared = capacity > FIRST_CAPACITY;
    const buffers: SharedArrayBuffer[] = [];
    const widths: number[] = [];
    const grow = <T extends Float64Array | Uint32Array | Int32Array | Uint16Array | Uint8Array>(old: T): T => {
      const Type = old.constructor as { new (n: number): T; new (b: ArrayBufferLike): T; BYTES_PER_ELEMENT: number };
      let next: T;
      if (shared) {
        const buffer = sharedBuffer(capacity * Type.BYTES_PER_ELEMENT);
        next = new Type(buffer);
        if (buffer instanceof SharedArrayBuffer) {
          buffers.push(buffer);
          widths.push(Type.BYTES_PER_ELEMENT);
        }
      } else next = new Type(capacity);
      next.set(old);
      return next;
    };
    // All allocated before any is swapped in, so that a failure leaves the index as it was.
    const columns = [grow(this.fileOffset), grow(this.time), grow(this.capturedLength), grow(this.originalLength), grow(this.conversation), grow(this.related), grow(this.analysis), grow(this.tcpFlags), grow(this.layers), grow(this.protocol), grow(this.marks), grow(this.interfaceIndex)] as const;
    [this.fileOffset, this.time, this.capturedLength, this.originalLength, this.conversation, this.related, this.analysis, this.tcpFlags, this.layers, this.protocol, this.marks, this.interfaceIndex] = columns;
    this.capacity = capacity;
    // A helper thread faults the new columns in ahead of the rows being written.
    if (buffers.length) prefault(buffers, widths, capacity, this.progress, PREFAULT_LEAD);
  }

  /** Bytes allocated for the per-packet columns (capacity, not count). */
  get allocatedBytes(): number {
    return this.capacity * INDEX_BYTES_PER_PACKET;
  }

  /** Gives back the spare capacity (the conversations' too) once reading is over. */
  trim(): void {
    this.flush();
    this.conversations.trim();
    if (this.capacity === this.count) return;
    const n = this.count;
    this.fileOffset = this.fileOffset.slice(0, n);
    this.time = this.time.slice(0, n);
    this.capturedLength = this.capturedLength.slice(0, n);
    this.originalLength = this.originalLength.slice(0, n);
    this.conversation = this.conversation.slice(0, n);
    this.related = this.related.slice(0, n);
    this.analysis = this.analysis.slice(0, n);
    this.tcpFlags = this.tcpFlags.slice(0, n);
    this.layers = this.layers.slice(0, n);
    this.protocol = this.protocol.slice(0, n);
    this.marks = this.marks.slice(0, n);
    this.interfaceIndex = this.interfaceIndex.slice(0, n);
    this.capacity = n;
  }

  frame(bytes: Uint8Array, start: number, capturedLength: number, originalLength: number, seconds: number, nanoseconds: number, interfaceIndex: number, fileOffset: number): void {
    if (!this.started) this.start(seconds, nanoseconds);
    const time = (seconds - this.firstSeconds) * 1e9 + (nanoseconds - this.firstNanoseconds);
    const linkType = this.linkTypes[interfaceIndex] ?? -1;
    if (linkType === LINK_ETHERNET && this.fastPath) {
      const k = this.pending;
      const r = k * ROW_INTS;
      const batch = this.batch;
      if (fastParse(bytes, start, capturedLength, originalLength, this.udpApps, batch, r)) {
        batch[r + R_CAPTURED] = capturedLength;
        batch[r + R_ORIGINAL] = originalLength;
        batch[r + R_INTERFACE] = interfaceIndex;
        batch[r + R_TIME_IS_ZERO] = seconds === 0 && nanoseconds === 0 ? 1 : 0;
        this.batchDoubles[k * DOUBLES_PER_ROW + RD_TIME] = time;
        this.batchDoubles[k * DOUBLES_PER_ROW + RD_FILE_OFFSET] = fileOffset;
        hashRow(batch, r);
        if (++this.pending === BATCH) this.flush();
        return;
      }
    }
    // Frames in order: those parsed before this one first.
    if (this.pending) this.flush();
    const i = this.nextRow();
    const f = this.facts;
    this.decoder.decode(bytes, start, capturedLength, originalLength, linkType, f);
    let conversation = -1;
    let related = -1;
    let analysis = 0;
    let marks = f.marks;
    const table = this.conversations;
    if (f.ipVersion !== 0 && f.ipProtocol >= 0) {
      const protocol = f.ipProtocol;
      const key = this.key;
      key.version = f.ipVersion;
      key.protocol = protocol;
      key.words = f.address;
      const withPorts = (protocol === 6 || protocol === 17 || protocol === 132) && f.srcPort >= 0 && !f.udpBroken;
      key.srcPort = withPorts ? f.srcPort : -1;
      key.dstPort = withPorts ? f.dstPort : -1;
      // A TCP header cut before its flags says too little to follow a connection.
      if (protocol !== 6 || f.tcpHeaderLength > 0) {
        const found = table.find(key);
        let direction = 0;
        let created = found < 0;
        if (created) conversation = table.create(key, i, time);
        else {
          conversation = found >> 1;
          direction = found & 1;
        }
        if (protocol === 6) {
          const tcp = table.tcp;
          const flags = f.tcpFlags;
          let t = table.foundTcpSlot;
          const reuse = tcp.reuse(t, direction, flags, f.seq);
          if (reuse === Reuse.NEW_CONNECTION) {
            conversation = table.create(key, i, time);
            t = table.foundTcpSlot;
            direction = 0;
            created = true;
          }
          if (reuse !== Reuse.NONE) analysis |= Analysis.REUSED_PORTS;
          const analysable = !(marks & Mark.FRAGMENT) && f.segmentLength >= 0;
          analysis |= tcp.segment(t, direction, i, time, seconds === 0 && nanoseconds === 0, f.seq, f.ack, f.segmentLength, flags, f.window, f.windowScale, analysable, created);
        }
        if (direction === 1) marks |= Mark.REVERSE;
      }
    }
    const key = this.key;
    if (f.tunnelVersion !== 0 && f.tunnelProtocol >= 0) {
      // A tunnel's outer flow (VXLAN's UDP, GRE's IP), whatever the inner frame holds.
      const tunnelPorts = (f.tunnelProtocol === 17 || f.tunnelProtocol === 6) && f.tunnelSrcPort >= 0;
      key.version = f.tunnelVersion;
      key.protocol = f.tunnelProtocol;
      key.words = f.tunnelAddress;
      key.srcPort = tunnelPorts ? f.tunnelSrcPort : -1;
      key.dstPort = tunnelPorts ? f.tunnelDstPort : -1;
      const found = table.find(key);
      if (found >= 0) {
        related = found >> 1;
        if (found & 1) marks |= Mark.RELATED_REVERSE;
      } else related = table.create(key, i, time);
    }
    if (marks & Mark.ICMP_ERROR && f.quotedVersion !== 0 && f.quotedProtocol >= 0) {
      // Link the error to the flow it quotes (found or, as Wireshark does, created); inside a
      // tunnel that link wins over the tunnel's.
      const quotedPorts = (f.quotedProtocol === 6 || f.quotedProtocol === 17 || f.quotedProtocol === 132) && f.quotedSrcPort >= 0;
      key.version = f.quotedVersion;
      key.protocol = f.quotedProtocol;
      key.words = f.quotedAddress;
      key.srcPort = quotedPorts ? f.quotedSrcPort : -1;
      key.dstPort = quotedPorts ? f.quotedDstPort : -1;
      const found = table.find(key);
      related = found >= 0 ? found >> 1 : quotedPorts ? table.create(key, i, time) : -1;
      marks = found >= 0 && found & 1 ? marks | Mark.RELATED_REVERSE : marks & ~Mark.RELATED_REVERSE;
      if (related >= 0) table.countIcmpError(related, i);
    }
    this.fileOffset[i] = fileOffset;
    this.time[i] = time;
    this.capturedLength[i] = capturedLength;
    this.originalLength[i] = originalLength;
    this.conversation[i] = conversation;
    this.related[i] = related;
    this.analysis[i] = analysis;
    this.tcpFlags[i] = f.tcpFlags;
    this.layers[i] = f.layers;
    this.protocol[i] = f.protocol;
    this.marks[i] = marks;
    this.interfaceIndex[i] = interfaceIndex;
    this.count = i + 1;
  }

  /** The UDP port table the fast path runs with (undefined: no fast path). */
  fastPathTable(): Uint8Array | undefined {
    return this.fastPath ? this.udpApps : undefined;
  }

  private start(seconds: number, nanoseconds: number): void {
    this.started = true;
    this.firstSeconds = seconds;
    this.firstNanoseconds = nanoseconds;
  }

  /**
   * pcap records read ahead by the reader thread, most already through fastParse there: rows
   * [from, from + count) of `rows` (see fastPath.ts; `doubles` is the same memory), their bytes
   * in `b`, one after the other in the file from `position` on. Returns the position after them.
   */
  framesRead(b: Uint8Array, rows: Int32Array, doubles: Float64Array, from: number, count: number, position: number, nanosecondFractions: boolean): number {
    this.flush();
    let run = from;
    for (let k = from; k < from + count; k++) {
      const r = k * ROW_INTS;
      const captured = rows[r + R_CAPTURED];
      const seconds = rows[r + R_SECONDS] >>> 0;
      const fraction = rows[r + R_FRACTION] >>> 0;
      const nanoseconds = nanosecondFractions ? fraction : fraction * 1000;
      if (!this.started) this.start(seconds, nanoseconds);
      if (rows[r + R_PROTOCOL] !== 0) {
        rows[r + R_INTERFACE] = 0;
        rows[r + R_TIME_IS_ZERO] = seconds === 0 && nanoseconds === 0 ? 1 : 0;
        doubles[k * DOUBLES_PER_ROW + RD_TIME] = (seconds - this.firstSeconds) * 1e9 + (nanoseconds - this.firstNanoseconds);
        doubles[k * DOUBLES_PER_ROW + RD_FILE_OFFSET] = position + 16;
        hashRow(rows, r);
        if (k + 1 - run === BATCH) {
          this.commitRows(rows, doubles, run, BATCH);
          run = k + 1;
        }
      } else {
        // Not one for the fast path: the rows before it first, then the general decoder.
        if (k > run) this.commitRows(rows, doubles, run, k - run);
        run = k + 1;
        this.frame(b, rows[r + R_RECORD] + 16, captured, rows[r + R_ORIGINAL] >>> 0, seconds, nanoseconds, 0, position + 16);
        this.flush();
      }
      position += 16 + captured;
    }
    if (from + count > run) this.commitRows(rows, doubles, run, from + count - run);
    return position;
  }

  /**
   * Puts the batched frames through the conversations and the TCP analysis, in order. The
   * reader calls this after each piece of input it parses; finish() does too.
   */
  flush(): void {
    const n = this.pending;
    if (n === 0) return;
    this.pending = 0;
    this.commitRows(this.batch, this.batchDoubles, 0, n);
  }

  /**
   * Rows [from, from + n) (at most BATCH) into the index, in order. First passes that only read
   * what their lookups will need (slots, records, TCP state): done for all of them at once, those
   * cache misses overlap instead of coming one after the other.
   */
  private commitRows(rows: Int32Array, doubles: Float64Array, from: number, n: number): void {
    const table = this.conversations;
    const warm = this.warmRows;
    for (let k = 0; k < n; k++) warm[k] = table.warmSlot(rows[(from + k) * ROW_INTS + R_HASH]);
    for (let k = 0; k < n; k++) warm[k] = table.warmRecord(warm[k]);
    let warmth = 0;
    for (let k = 0; k < n; k++) if (warm[k] >= 0) warmth ^= table.tcp.warm(warm[k]);
    for (let k = 0; k < n; k++) if (rows[(from + k) * ROW_INTS + R_TUNNEL]) warmth ^= table.warmSlot(rows[(from + k) * ROW_INTS + R_TUNNEL_HASH]);
    this.warmth[0] = warmth;
    for (let k = from; k < from + n; k++) this.commit(rows, k * ROW_INTS, doubles[k * DOUBLES_PER_ROW + RD_TIME], doubles[k * DOUBLES_PER_ROW + RD_FILE_OFFSET]);
  }

  /** The next row's number, with room for it: growing the columns, publishing progress to the
   *  prefaulting thread every 4096 rows, and sizing the conversations once at RESERVE_AT. */
  private nextRow(): number {
    const i = this.count;
    if (i === this.capacity) this.grow();
    if ((i & 4095) === 0) {
      Atomics.store(this.progress, 0, i);
      if (i === RESERVE_AT && this.expectedPackets > RESERVE_AT) this.reserveConversations();
    }
    return i;
  }

  /** One row into the index: its conversations, its TCP analysis, its columns. */
  private commit(batch: Int32Array, r: number, time: number, fileOffset: number): void {
    const i = this.nextRow();
    const protocol = batch[r + R_PROTOCOL];
    const src = batch[r + R_SRC];
    const dst = batch[r + R_DST];
    const srcPort = batch[r + R_SRC_PORT];
    const dstPort = batch[r + R_DST_PORT];
    const tcpFlags = batch[r + R_TCP_FLAGS];
    let marks = batch[r + R_MARKS];
    // The packet's flow: found, or a new conversation; then the TCP analysis.
    const table = this.conversations;
    const h = batch[r + R_HASH];
    const found = table.findV4(h, protocol, src, dst, srcPort, dstPort);
    let conversation: number;
    let direction = 0;
    let created = found < 0;
    if (created) conversation = table.createV4(h, protocol, src, dst, srcPort, dstPort, i, time);
    else {
      conversation = found >> 1;
      direction = found & 1;
    }
    let analysis = 0;
    if (protocol === 6) {
      const tcp = table.tcp;
      const seq = batch[r + R_SEQ] >>> 0;
      let t = table.foundTcpSlot;
      const reuse = tcp.reuse(t, direction, tcpFlags, seq);
      if (reuse === REUSE_NEW_CONNECTION) {
        conversation = table.createV4(h, protocol, src, dst, srcPort, dstPort, i, time);
        t = table.foundTcpSlot;
        direction = 0;
        created = true;
      }
      if (reuse !== REUSE_NONE) analysis |= ANALYSIS_REUSED_PORTS;
      analysis |= tcp.segment(t, direction, i, time, batch[r + R_TIME_IS_ZERO] === 1, seq, batch[r + R_ACK] >>> 0, batch[r + R_SEGMENT_LENGTH], tcpFlags, batch[r + R_WINDOW], batch[r + R_WINDOW_SCALE], true, created);
    }
    if (direction === 1) marks |= MARK_REVERSE;
    let related = -1;
    if (batch[r + R_TUNNEL]) {
      const th = batch[r + R_TUNNEL_HASH];
      const tunnelSrc = batch[r + R_TUNNEL_SRC];
      const tunnelDst = batch[r + R_TUNNEL_DST];
      const tunnelSrcPort = batch[r + R_TUNNEL_SRC_PORT];
      const tunnelDstPort = batch[r + R_TUNNEL_DST_PORT];
      const tunnel = table.findV4(th, 17, tunnelSrc, tunnelDst, tunnelSrcPort, tunnelDstPort);
      if (tunnel >= 0) {
        related = tunnel >> 1;
        if (tunnel & 1) marks |= MARK_RELATED_REVERSE;
      } else related = table.createV4(th, 17, tunnelSrc, tunnelDst, tunnelSrcPort, tunnelDstPort, i, time);
    }
    this.fileOffset[i] = fileOffset;
    this.time[i] = time;
    this.capturedLength[i] = batch[r + R_CAPTURED];
    this.originalLength[i] = batch[r + R_ORIGINAL] >>> 0;
    this.conversation[i] = conversation;
    this.related[i] = related;
    this.analysis[i] = analysis;
    this.tcpFlags[i] = tcpFlags;
    this.layers[i] = batch[r + R_LAYERS];
    this.protocol[i] = batch[r + R_PROTOCOL_COLUMN];
    this.marks[i] = marks;
    this.interfaceIndex[i] = batch[r + R_INTERFACE];
    this.count = i + 1;
  }

  finish(result: CaptureReadResult): void {
    this.flush();
    this.format = result.format;
    this.error = result.error;
    this.complete = true;
  }

  /** Absolute time of packet `i`: whole seconds and nanoseconds. */
  timeOf(i: number): { seconds: number; nanoseconds: number } {
    const total = this.firstNanoseconds + this.time[i];
    const carry = Math.floor(total / 1e9);
    return { seconds: this.firstSeconds + carry, nanoseconds: total - carry * 1e9 };
  }

  linkTypeOf(i: number): number {
    return this.linkTypes[this.interfaceIndex[i]] ?? -1;
  }

  private tallied: { count: number; tally: ConversationTally } | undefined;

  /**
   * Packets, bytes and last packet of every conversation, counted from the columns (a tunnel's
   * outer flow counts the packets it carries; an ICMP error does not count for the flow it
   * quotes). Kept until more packets arrive.
   */
  tally(): ConversationTally {
    if (this.tallied?.count === this.count) return this.tallied.tally;
    const n = this.conversations.count;
    const tally: ConversationTally = { packets: new Uint32Array(n * 2), bytes: new Float64Array(n * 2), lastPacket: new Int32Array(n).fill(-1), lastTime: new Float64Array(n) };
    for (let i = 0; i < this.count; i++) {
      const marks = this.marks[i];
      const c = this.conversation[i];
      if (c >= 0) {
        const side = c * 2 + (marks & Mark.REVERSE ? 1 : 0);
        tally.packets[side]++;
        tally.bytes[side] += this.originalLength[i];
        tally.lastPacket[c] = i;
        tally.lastTime[c] = this.time[i];
      }
      const r = this.related[i];
      if (r >= 0 && !(marks & Mark.ICMP_ERROR)) {
        const side = r * 2 + (marks & Mark.RELATED_REVERSE ? 1 : 0);
        tally.packets[side]++;
        tally.bytes[side] += this.originalLength[i];
        tally.lastPacket[r] = i;
        tally.lastTime[r] = this.time[i];
      }
    }
    this.tallied = { count: this.count, tally };
    return tally;
  }

  conversationSummaries(file?: CaptureFile): ConversationSummary[] {
    const out: ConversationSummary[] = [];
    const tally = this.tally();
    const describe = (packet: number) => this.describeIcmpError(packet, file);
    for (let c = 0; c < this.conversations.count; c++) out.push(this.conversations.summary(c, tally, describe));
    return out;
  }

  private describeIcmpError(packet: number, file: CaptureFile | undefined): string | undefined {
    if (!file) return `ICMP error in packet ${packet + 1}`;
    const decoded = file.details(this, packet);
    return `${decoded.info} from ${decoded.source} (packet ${packet + 1})`;
  }

  /** What the details view needs from the index for packet `i` (relative TCP numbers...). */
  contextOf(i: number, interfaceName?: string): FrameContext {
    const { seconds, nanoseconds } = this.timeOf(i);
    const context: FrameContext = { number: i + 1, seconds, nanoseconds, interfaceName };
    const c = this.conversation[i];
    if (c >= 0) {
      const table = this.conversations;
      const direction = this.marks[i] & Mark.REVERSE ? 1 : 0;
      if (table.protocolOf(c) === 6) {
        const tcp = table.tcp;
        const t = table.tcpSlot(c);
        const analysed = !(this.marks[i] & Mark.FRAGMENT) && tcp.hasBaseSeq(t, direction);
        context.tcp = {
          baseSeq: analysed ? tcp.baseSeq(t, direction) : 0,
          reverseBaseSeq: analysed && tcp.hasBaseSeq(t, 1 - direction) ? tcp.baseSeq(t, 1 - direction) : undefined,
          relative: analysed,
          windowShift: tcp.windowShift(t, direction),
          stream: table.streamOf(c),
        };
      } else if (table.protocolOf(c) === 17) context.udpStream = table.streamOf(c);
    }
    const flags = this.analysis[i];
    if (flags) context.analysis = analysisNotes(flags);
    return context;
  }
}

/** How a packet row is coloured (theme colours are the viewer's business). */
export type RowColour = 'rst' | 'bad-tcp' | 'icmp-error' | 'syn' | undefined;

export interface PacketRow {
  number: number;
  /** Seconds since the first packet. */
  relativeTime: number;
  /** Absolute time, seconds since the epoch (with nanoseconds as a fraction). */
  seconds: number;
  nanoseconds: number;
  source: string;
  destination: string;
  protocol: string;
  length: number;
  info: string;
  colour: RowColour;
  conversation: number;
}

export function rowColour(index: PacketIndex, i: number): RowColour {
  if (index.marks[i] & Mark.ICMP_ERROR) return 'icmp-error';
  if (index.layers[i] & Layer.TCP && index.tcpFlags[i] & TH_RST) return 'rst';
  if (isBadTcp(index.analysis[i])) return 'bad-tcp';
  if (index.layers[i] & Layer.TCP && index.tcpFlags[i] & TH_SYN) return 'syn';
  return undefined;
}

/** Random access to the frames of an indexed capture file. */
export class CaptureFile {
  private readonly fd: number;
  private buffer = Buffer.allocUnsafe(65536);
  private readonly decoder: PacketDecoder;

  constructor(readonly path: string, options: IndexOptions = {}) {
    this.fd = fs.openSync(path, 'r');
    this.decoder = new PacketDecoder(options);
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** The bytes of packet `i` (a view valid until the next read). */
  frameBytes(index: PacketIndex, i: number): Buffer {
    const length = index.capturedLength[i];
    if (length > this.buffer.length) this.buffer = Buffer.allocUnsafe(length);
    const got = fs.readSync(this.fd, this.buffer, 0, length, index.fileOffset[i]);
    return this.buffer.subarray(0, got);
  }

  details(index: PacketIndex, i: number): DecodedPacket {
    const bytes = this.frameBytes(index, i);
    const iface = index.interfaces[index.interfaceIndex[i]];
    return this.decoder.details(bytes, 0, bytes.length, index.originalLength[i], index.linkTypeOf(i), index.contextOf(i, iface?.name));
  }

  /** Rows [from, to) for the packet list, decoded from the file. */
  rows(index: PacketIndex, from: number, to: number): PacketRow[] {
    const rows: PacketRow[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, index.count); i++) rows.push(this.row(index, i));
    return rows;
  }

  row(index: PacketIndex, i: number): PacketRow {
    const decoded = this.details(index, i);
    const { seconds, nanoseconds } = index.timeOf(i);
    return {
      number: i + 1,
      relativeTime: index.time[i] / 1e9,
      seconds,
      nanoseconds,
      source: decoded.source,
      destination: decoded.destination,
      protocol: decoded.protocol,
      length: index.originalLength[i],
      info: decoded.info,
      colour: rowColour(index, i),
      conversation: index.conversation[i],
    };
  }
}

/** Indexes a whole capture file, reading it in chunks. */
export async function indexCaptureFile(path: string, options: IndexOptions & FileReadOptions = {}): Promise<PacketIndex> {
  const index = new PacketIndex(options);
  index.expectFileSize((await fs.promises.stat(path)).size);
  const result = await readCaptureFile(path, index, options);
  index.finish(result);
  return index;
}

export function indexCaptureFileSync(path: string, options: IndexOptions = {}): PacketIndex {
  const index = new PacketIndex(options);
  index.expectFileSize(fs.statSync(path).size);
  index.finish(readCaptureFileSync(path, index));
  return index;
}

export function indexCaptureBytes(bytes: Uint8Array, options: IndexOptions = {}): PacketIndex {
  const index = new PacketIndex(options);
  index.finish(readCaptureBytes(bytes, index));
  return index;
}

/** A capture file still being written (tcpdump -U -w FILE, a running capture), indexed as it grows. */
export interface FollowedCapture {
  /** Grows as packets arrive; `complete` once following has ended. */
  readonly index: PacketIndex;
  /** The writer has ended (closed the file): read the rest of the file to its end, then stop. */
  drain(): Promise<PacketIndex>;
  /** Stop now, wherever reading stands (the viewer closed). */
  stop(): Promise<PacketIndex>;
  /** Resolves once following has ended, either way (never rejects: a failure is the index's error). */
  readonly done: Promise<PacketIndex>;
}

/** Follows a file that tcpdump writes, until drained (its writer ended) or stopped. */
export function followCaptureIndex(path: string, options: IndexOptions & { pollMs?: number } = {}): FollowedCapture {
  const index = new PacketIndex(options);
  const stopping = new AbortController();
  const draining = new AbortController();
  const done = followCaptureFile(path, index, { signal: stopping.signal, drain: draining.signal, pollMs: options.pollMs }).then(
    (result) => {
      index.finish(result);
      return index;
    },
    (error: Error) => {
      // The file could not be opened or read: every packet read so far stays, with the reason.
      index.finish({ format: index.format, interfaces: index.interfaces, packets: index.count, bytesConsumed: 0, error: { offset: 0, message: error.message } });
      return index;
    },
  );
  return {
    index,
    done,
    drain: () => {
      draining.abort();
      return done;
    },
    stop: () => {
      stopping.abort();
      return done;
    },
  };
}

/** An index fed by pushed bytes (a pipe from tcpdump -w -). */
export function streamIndexer(options: IndexOptions = {}): { index: PacketIndex; push(chunk: Uint8Array): void; end(): PacketIndex } {
  const index = new PacketIndex(options);
  const reader = new CaptureStreamReader(index);
  return {
    index,
    push: (chunk) => reader.push(chunk),
    end: () => {
      index.finish(reader.end());
      return index;
    },
  };
}

export { Protocol, addressText };
