import { prefault, progressCounter, sharedBuffer } from './prefault';

// TCP sequence analysis after Wireshark's documented rules (User's Guide 7.5 "TCP Analysis"),
// written against its behaviour: each rule here is checked packet by packet against
// tshark's tcp.analysis.* fields on real captures (test/unit/capture/corpus.test.ts).
//
// Per-direction state lives in typed arrays indexed by conversation * 2 + direction, so that a
// million packets cost no allocation.

/** Analysis flags, one bit each (kept per packet in the index). */
export const Analysis = {
  RETRANSMISSION: 1 << 0,
  FAST_RETRANSMISSION: 1 << 1,
  SPURIOUS_RETRANSMISSION: 1 << 2,
  DUPLICATE_ACK: 1 << 3,
  ZERO_WINDOW: 1 << 4,
  ZERO_WINDOW_PROBE: 1 << 5,
  ZERO_WINDOW_PROBE_ACK: 1 << 6,
  WINDOW_FULL: 1 << 7,
  WINDOW_UPDATE: 1 << 8,
  OUT_OF_ORDER: 1 << 9,
  LOST_SEGMENT: 1 << 10,
  ACK_LOST_SEGMENT: 1 << 11,
  KEEP_ALIVE: 1 << 12,
  KEEP_ALIVE_ACK: 1 << 13,
  REUSED_PORTS: 1 << 14,
} as const;

/** Wireshark's field name for each flag (tcp.analysis.<name>) and its Info-column note. */
export const analysisFields: [number, string, string][] = [
  [Analysis.RETRANSMISSION, 'retransmission', 'TCP Retransmission'],
  [Analysis.FAST_RETRANSMISSION, 'fast_retransmission', 'TCP Fast Retransmission'],
  [Analysis.SPURIOUS_RETRANSMISSION, 'spurious_retransmission', 'TCP Spurious Retransmission'],
  [Analysis.DUPLICATE_ACK, 'duplicate_ack', 'TCP Dup ACK'],
  [Analysis.ZERO_WINDOW, 'zero_window', 'TCP ZeroWindow'],
  [Analysis.ZERO_WINDOW_PROBE, 'zero_window_probe', 'TCP ZeroWindowProbe'],
  [Analysis.ZERO_WINDOW_PROBE_ACK, 'zero_window_probe_ack', 'TCP ZeroWindowProbeAck'],
  [Analysis.WINDOW_FULL, 'window_full', 'TCP Window Full'],
  [Analysis.WINDOW_UPDATE, 'window_update', 'TCP Window Update'],
  [Analysis.OUT_OF_ORDER, 'out_of_order', 'TCP Out-Of-Order'],
  [Analysis.LOST_SEGMENT, 'lost_segment', 'TCP Previous segment not captured'],
  [Analysis.ACK_LOST_SEGMENT, 'ack_lost_segment', 'TCP ACKed unseen segment'],
  [Analysis.KEEP_ALIVE, 'keep_alive', 'TCP Keep-Alive'],
  [Analysis.KEEP_ALIVE_ACK, 'keep_alive_ack', 'TCP Keep-Alive ACK'],
  [Analysis.REUSED_PORTS, 'reused_ports', 'TCP Port numbers reused'],
];

/**
 * Whether Wireshark shows tcp.analysis.<field> on a packet with these flags: its
 * "retransmission" item also accompanies fast and spurious retransmissions.
 */
export function hasAnalysisField(flags: number, field: string): boolean {
  if (field === 'flags') return flags !== 0;
  if (field === 'retransmission') return (flags & (Analysis.RETRANSMISSION | Analysis.FAST_RETRANSMISSION | Analysis.SPURIOUS_RETRANSMISSION)) !== 0;
  const entry = analysisFields.find(([, name]) => name === field);
  return entry ? (flags & entry[0]) !== 0 : false;
}

/** Wireshark's "Bad TCP" colouring rule: any analysis flag but the benign ones. */
export function isBadTcp(flags: number): boolean {
  return (flags & ~(Analysis.WINDOW_UPDATE | Analysis.KEEP_ALIVE | Analysis.KEEP_ALIVE_ACK)) !== 0;
}

/** The Info-column notes for these flags, in Wireshark's order. */
export function analysisNotes(flags: number, duplicateAckOf?: string): string[] {
  const notes: string[] = [];
  for (const [bit, , note] of analysisFields) if (flags & bit) notes.push(bit === Analysis.DUPLICATE_ACK && duplicateAckOf ? `${note} ${duplicateAckOf}` : note);
  return notes;
}

const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;

const BASE_SEQ_SET = 1;

/** Wireshark's out-of-order threshold when no handshake round trip is known: 3 ms. */
const DEFAULT_OUT_OF_ORDER_NS = 3_000_000;
/** A fast retransmission follows the duplicate ACKs within 20 ms. */
const FAST_RETRANSMISSION_NS = 20_000_000;

// Sequence-number comparisons modulo 2^32 (RFC 1982), as Wireshark's GT_SEQ and friends.
function gtSeq(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}
function ltSeq(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
function leSeq(a: number, b: number): boolean {
  return ((b - a) | 0) >= 0;
}

// State per TCP connection: one record of 128 bytes (two cache lines), seen as 16 int32 (each
// direction's sequence numbers, window, and a word of flags and counters; then the connection's
// completeness, SYN counts, first FIN and RST) followed by 8 doubles (times, payload bytes).
// Only TCP conversations get one, and a segment touches just this record.
const INT_STRIDE = 32;
/** The doubles of connection t start at t * DOUBLE_STRIDE + DOUBLES_AT in the Float64 view. */
const DOUBLES_AT = 8;
const DIRECTION_INTS = 6;
// Per direction, at direction * DIRECTION_INTS (unsigned values stored with | 0).
const BASE_SEQ = 0;
const NEXT_SEQ = 1;
const LAST_ACK = 2;
const MAX_SEQ_TO_BE_ACKED = 3;
const WINDOW = 4;
/**
 * The direction's flags (BASE_SEQ_SET, HAS_NEXT_SEQ_TIME, HAS_LAST_ACK_TIME, SENT_PURE_ACK, the
 * window scale) in bits 15-22, its last segment's analysis flags in bits 0-14, and its
 * duplicate ACKs in a row in bits 23-30 (counting stops at 255: only "2 or more" matters).
 */
const WORD = 5;
const FLAGS_SHIFT = 15;
const DUP_SHIFT = 23;
const MAX_DUP = 255;
// The connection's, after both directions.
/** Completeness (bits 0-5), sides that sent FIN (6-7), client side + 1 (8-9), more below. */
const STATE = 12;
/** Pure SYNs in the low 16 bits, SYN-ACKs in the high 16. */
const SYN_COUNTS = 13;
/** Packet index + 1 of the first FIN and the first RST (0: none). */
const FIRST_FIN = 14;
const FIRST_RST = 15;

const FIN_SIDES_SHIFT = 6;
const CLIENT_SHIFT = 8;
const HAS_SYN_TIME = 1 << 10;
const RST_BEFORE_CLOSE = 1 << 11;
const FIRST_FIN_FROM_B = 1 << 12;
const FIRST_RST_FROM_B = 1 << 13;

function flagsOf(word: number): number {
  return (word >> FLAGS_SHIFT) & 0xff;
}
function withFlags(word: number, flags: number): number {
  return (word & ~(0xff << FLAGS_SHIFT)) | (flags << FLAGS_SHIFT);
}
function lastSegmentOf(word: number): number {
  return word & 0x7fff;
}
function duplicatesOf(word: number): number {
  return (word >> DUP_SHIFT) & 0xff;
}

/** INT_STRIDE int32 = this many doubles. */
const DOUBLE_STRIDE = 16;
const NEXT_SEQ_TIME = 0; // + direction
const LAST_ACK_TIME = 2; // + direction
/** Handshake round trip (SYN to first pure ACK) in ns; 0 when unknown, as in Wireshark. */
const FIRST_RTT = 4;
/** Time of the most recent SYN (ns from capture start), valid with HAS_SYN_TIME. */
const LAST_SYN_TIME = 5;
const PAYLOAD = 6; // + direction

const HAS_NEXT_SEQ_TIME = 2;
const HAS_LAST_ACK_TIME = 4;
/** The direction has sent a pure ACK (Wireshark's is_first_ack, inverted). */
const SENT_PURE_ACK = 8;
/** The window scale is kept plus two in bits 4-7: 0 unknown (no SYN seen), 1 none, else shift + 2. */
const SCALE_SHIFT = 4;

function doublesOf(t: number): number {
  return t * DOUBLE_STRIDE + DOUBLES_AT;
}

function scaleOf(flags: number): number {
  return ((flags >> SCALE_SHIFT) & 0xf) - 2;
}
function withScale(flags: number, scale: number): number {
  return (flags & ~(0xf << SCALE_SHIFT)) | ((scale + 2) << SCALE_SHIFT);
}

/** TCP completeness bits, as Wireshark's tcp.completeness. */
export const Completeness = {
  SYN: 1,
  SYN_ACK: 2,
  ACK: 4,
  DATA: 8,
  FIN: 16,
  RST: 32,
} as const;

/** What starting a segment on a known flow means for it (Wireshark's "port numbers reused"). */
export const Reuse = {
  NONE: 0,
  /** A SYN with another initial sequence number: a new connection on the same ports. */
  NEW_CONNECTION: 1,
  /** A SYN-ACK with another initial sequence number: flagged, same connection. */
  FLAGGED: 2,
} as const;

/** The state of every TCP connection, by connection slot. */
export class TcpAnalysisState {
  count = 0;
  capacity = 0;
  ints: Int32Array<ArrayBufferLike> = new Int32Array(0);
  times: Float64Array<ArrayBufferLike> = new Float64Array(0);

  get allocatedBytes(): number {
    return this.ints.byteLength;
  }

  /** Connections added, published every 256 for the prefaulting helper thread. */
  private readonly progress = progressCounter();

  /** A slot for a new connection. */
  add(): number {
    if (this.count === this.capacity) this.ensure(this.count + 1);
    if ((this.count & 255) === 0) Atomics.store(this.progress, 0, this.count);
    return this.count++;
  }

  /** Gives back the spare capacity. */
  trim(): void {
    if (this.capacity === this.count) return;
    const ints = this.ints.slice(0, this.count * INT_STRIDE);
    this.ints = ints;
    this.times = new Float64Array(ints.buffer);
    this.capacity = this.count;
  }

  /** Room for `connections`; `shared`: in memory a helper thread faults in ahead of use. */
  ensure(connections: number, shared = false): void {
    if (connections <= this.capacity) return;
    const capacity = Math.max(connections, this.capacity * 2, 1024);
    const buffer = shared ? sharedBuffer(capacity * INT_STRIDE * 4) : new ArrayBuffer(capacity * INT_STRIDE * 4);
    const ints = new Int32Array(buffer);
    ints.set(this.ints);
    this.ints = ints;
    this.times = new Float64Array(buffer);
    this.capacity = capacity;
    if (buffer instanceof SharedArrayBuffer) prefault([buffer], [INT_STRIDE * 4], capacity, this.progress, 4096);
  }

  /** Reads each cache line of connection t's state (see PacketIndex.commitRows). */
  warm(t: number): number {
    const n = this.ints;
    const o = t * INT_STRIDE;
    return n[o] ^ n[o + 16];
  }

  hasBaseSeq(t: number, direction: number): boolean {
    return (flagsOf(this.ints[t * INT_STRIDE + direction * DIRECTION_INTS + WORD]) & BASE_SEQ_SET) !== 0;
  }

  baseSeq(t: number, direction: number): number {
    return this.ints[t * INT_STRIDE + direction * DIRECTION_INTS + BASE_SEQ] >>> 0;
  }

  /**
   * Does a SYN (or SYN-ACK) with this sequence number mean the ports are reused? Only when the
   * direction's first sequence number is known and differs.
   */
  reuse(t: number, direction: number, flags: number, seq: number): number {
    if (!(flags & TH_SYN)) return Reuse.NONE;
    const o = t * INT_STRIDE + direction * DIRECTION_INTS;
    if (!(flagsOf(this.ints[o + WORD]) & BASE_SEQ_SET) || (seq | 0) === this.ints[o + BASE_SEQ]) return Reuse.NONE;
    return flags & TH_ACK ? Reuse.FLAGGED : Reuse.NEW_CONNECTION;
  }

  /**
   * One segment of connection `t`: the analysis (when `analysable`: not a fragment, header
   * whole), then the connection's facts. `packet` is the packet's index, `time` its time in ns
   * from the capture start; `created`: the segment started the conversation. Returns the
   * analysis flags.
   */
  segment(t: number, direction: number, packet: number, time: number, timeIsZero: boolean, seq: number, ack: number, segmentLength: number, flags: number, window: number, windowScale: number, analysable: boolean, created: boolean): number {
    let result = 0;
    if (analysable) {
      result = this.analyse(t, direction, time, seq, ack, segmentLength, flags, window);
      this.afterAnalysis(t, direction, time, timeIsZero, flags, windowScale);
    }
    this.connectionFacts(t, direction, packet, flags, segmentLength, created);
    return result;
  }

  /** Wireshark's analysis of one segment. */
  private analyse(t: number, direction: number, time: number, seq: number, ack: number, segmentLength: number, flags: number, window: number): number {
    const n = this.ints;
    const d = this.times;
    const fwd = t * INT_STRIDE + direction * DIRECTION_INTS;
    const rev = t * INT_STRIDE + (1 - direction) * DIRECTION_INTS;
    const fwdTime = doublesOf(t) + direction;
    const revTime = doublesOf(t) + 1 - direction;
    let result = 0;

    // The first segment of each direction fixes its base (relative numbers start at 1
    // without a SYN); the first ACK fixes the other direction's when it has none yet.
    const fwdWord = n[fwd + WORD];
    let fwdFlags = flagsOf(fwdWord);
    let fwdDuplicates = duplicatesOf(fwdWord);
    if (!(fwdFlags & BASE_SEQ_SET)) {
      n[fwd + BASE_SEQ] = flags & TH_SYN ? seq : seq - 1;
      fwdFlags |= BASE_SEQ_SET;
    }
    const revWord = n[rev + WORD];
    const revFlags = flagsOf(revWord);
    if (!(revFlags & BASE_SEQ_SET) && flags & TH_ACK) {
      n[rev + BASE_SEQ] = ack - 1;
      n[rev + WORD] = withFlags(revWord, revFlags | BASE_SEQ_SET);
    }

    const nextSeq = n[fwd + NEXT_SEQ] >>> 0;
    const lastAck = n[fwd + LAST_ACK] >>> 0;
    const fwdWindow = n[fwd + WINDOW];
    const revWindow = n[rev + WINDOW];
    const revLastSegmentFlags = lastSegmentOf(revWord);
    const noSynFinRst = (flags & (TH_SYN | TH_FIN | TH_RST)) === 0;
    let skipToAckChecks = false;

    // Zero window probe: one byte at the next expected sequence number into a zero window.
    if (segmentLength === 1 && seq === nextSeq && revWindow === 0) {
      result |= Analysis.ZERO_WINDOW_PROBE;
      skipToAckChecks = true;
    }
    if (!skipToAckChecks) {
      if (window === 0 && noSynFinRst) result |= Analysis.ZERO_WINDOW;
      // A hole before this segment: some earlier segment was not captured.
      if (nextSeq !== 0 && gtSeq(seq, nextSeq) && !(flags & TH_RST)) result |= Analysis.LOST_SEGMENT;
      // Keep-alive: 0 or 1 byte, one byte before the next expected sequence number.
      if (segmentLength <= 1 && seq === ((nextSeq - 1) >>> 0) && noSynFinRst) result |= Analysis.KEEP_ALIVE;
      if (segmentLength === 0 && window !== 0 && window !== fwdWindow && seq === nextSeq && ack === lastAck && noSynFinRst) result |= Analysis.WINDOW_UPDATE;
      // Window full: the segment reaches the right edge of the receiver's advertised window.
      if (segmentLength > 0 && noSynFinRst) {
        const revScale = scaleOf(revFlags);
        if (revScale !== -2) {
          const shift = !(revFlags & SENT_PURE_ACK) || revScale === -1 ? 0 : revScale;
          if (((seq + segmentLength) >>> 0) === ((n[rev + LAST_ACK] + ((revWindow << shift) >>> 0)) >>> 0)) result |= Analysis.WINDOW_FULL;
        }
      }
      if (segmentLength === 0 && seq === nextSeq && ack === lastAck && noSynFinRst && window === fwdWindow) {
        if (window !== 0 && revLastSegmentFlags & Analysis.KEEP_ALIVE) {
          result |= Analysis.KEEP_ALIVE_ACK;
          skipToAckChecks = true;
        } else if (window === 0 && revLastSegmentFlags & Analysis.ZERO_WINDOW_PROBE) {
          result |= Analysis.ZERO_WINDOW_PROBE_ACK;
          skipToAckChecks = true;
        } else if (window !== 0) {
          // A duplicate ACK repeats seq, ack and window with no data.
          if (fwdDuplicates < MAX_DUP) fwdDuplicates++;
          result |= Analysis.DUPLICATE_ACK;
        }
      }
    }
    if (ack !== lastAck) fwdDuplicates = 0;

    // ACKed unseen segment: this acknowledges beyond what the other direction was seen sending.
    // The other direction's bound then moves up to what it sent, so it is said once.
    const revMax = n[rev + MAX_SEQ_TO_BE_ACKED] >>> 0;
    if (revMax !== 0 && flags & TH_ACK && gtSeq(ack, revMax)) {
      result |= Analysis.ACK_LOST_SEGMENT;
      n[rev + MAX_SEQ_TO_BE_ACKED] = n[rev + NEXT_SEQ];
    }

    // Retransmission, fast retransmission, spurious retransmission, out of order: data (or
    // SYN/FIN) that does not advance the sequence number.
    if ((segmentLength > 0 || flags & (TH_SYN | TH_FIN)) && !(result & Analysis.KEEP_ALIVE)) {
      let notAdvanced = nextSeq !== 0 && ltSeq(seq, nextSeq);
      // More than one byte starting one before the next expected: new data after a probe.
      if (segmentLength > 1 && ((nextSeq - 1) >>> 0) === seq) notAdvanced = false;
      const revLastAck = n[rev + LAST_ACK] >>> 0;
      if (segmentLength > 0 && revLastAck !== 0 && leSeq((seq + segmentLength) >>> 0, revLastAck)) {
        // Everything in it was already acknowledged.
        result |= Analysis.SPURIOUS_RETRANSMISSION;
      } else if (notAdvanced) {
        const sinceDupAck = revFlags & HAS_LAST_ACK_TIME ? time - d[revTime + LAST_ACK_TIME] : Infinity;
        const sinceHighest = fwdFlags & HAS_NEXT_SEQ_TIME ? time - d[fwdTime + NEXT_SEQ_TIME] : Infinity;
        const rtt = d[doublesOf(t) + FIRST_RTT];
        const threshold = rtt === 0 ? DEFAULT_OUT_OF_ORDER_NS : rtt < 0 ? Infinity : rtt;
        const synFin = flags & (TH_SYN | TH_FIN) ? 1 : 0;
        if (duplicatesOf(revWord) >= 2 && revLastAck === seq && sinceDupAck >= 0 && sinceDupAck < FAST_RETRANSMISSION_NS) result |= Analysis.FAST_RETRANSMISSION;
        else if (sinceHighest >= 0 && sinceHighest < threshold && nextSeq !== ((seq + segmentLength + synFin) >>> 0)) result |= Analysis.OUT_OF_ORDER;
        else result |= Analysis.RETRANSMISSION;
      }
    }

    // Remember the highest sequence number seen (zero window probes do not move it), and the
    // highest contiguous one (for "ACKed unseen segment").
    const probe = (result & Analysis.ZERO_WINDOW_PROBE) !== 0;
    if (!probe) {
      const segmentEnd = (seq + segmentLength + (flags & (TH_SYN | TH_FIN) ? 1 : 0)) >>> 0;
      if (nextSeq === 0 || gtSeq(segmentEnd, nextSeq)) {
        n[fwd + NEXT_SEQ] = segmentEnd;
        d[fwdTime + NEXT_SEQ_TIME] = time;
        fwdFlags |= HAS_NEXT_SEQ_TIME;
      }
      const maxSeq = n[fwd + MAX_SEQ_TO_BE_ACKED] >>> 0;
      if (seq === maxSeq || maxSeq === 0) n[fwd + MAX_SEQ_TO_BE_ACKED] = n[fwd + NEXT_SEQ];
    }

    n[fwd + WINDOW] = window;
    n[fwd + LAST_ACK] = ack;
    d[fwdTime + LAST_ACK_TIME] = time;
    n[fwd + WORD] = (result & 0x7fff) | ((fwdFlags | HAS_LAST_ACK_TIME) << FLAGS_SHIFT) | (fwdDuplicates << DUP_SHIFT);
    return result;
  }

  /**
   * What follows the analysis of a segment in Wireshark's dissector: the SYN's time, the
   * handshake round trip, the window scale from the options.
   */
  private afterAnalysis(t: number, direction: number, time: number, timeIsZero: boolean, flags: number, windowScale: number): void {
    const n = this.ints;
    const d = this.times;
    const fwd = t * INT_STRIDE + direction * DIRECTION_INTS;
    const state = t * INT_STRIDE + STATE;
    const syn = flags & (TH_SYN | TH_ACK);
    if (syn === TH_SYN) {
      // Wireshark takes a zero timestamp for "no SYN seen".
      d[doublesOf(t) + LAST_SYN_TIME] = time;
      n[state] = timeIsZero ? n[state] & ~HAS_SYN_TIME : n[state] | HAS_SYN_TIME;
    } else if (syn === TH_ACK) {
      if (n[state] & HAS_SYN_TIME && d[doublesOf(t) + FIRST_RTT] === 0) d[doublesOf(t) + FIRST_RTT] = time - d[doublesOf(t) + LAST_SYN_TIME];
      n[fwd + WORD] = withFlags(n[fwd + WORD], flagsOf(n[fwd + WORD]) | SENT_PURE_ACK);
    }
    if (windowScale >= 0) n[fwd + WORD] = withFlags(n[fwd + WORD], withScale(flagsOf(n[fwd + WORD]), windowScale));
    if (flags & TH_SYN) {
      // Scaling is used only when both SYN and SYN-ACK offer it.
      const rev = t * INT_STRIDE + (1 - direction) * DIRECTION_INTS;
      if (scaleOf(flagsOf(n[fwd + WORD])) === -2) {
        n[fwd + WORD] = withFlags(n[fwd + WORD], withScale(flagsOf(n[fwd + WORD]), -1));
        n[rev + WORD] = withFlags(n[rev + WORD], withScale(flagsOf(n[rev + WORD]), -1));
      } else if (flags & TH_ACK && scaleOf(flagsOf(n[rev + WORD])) === -1) {
        n[fwd + WORD] = withFlags(n[fwd + WORD], withScale(flagsOf(n[fwd + WORD]), -1));
      }
    }
  }

  /** Completeness, SYN counts, the client, the first FIN and RST, payload bytes. */
  private connectionFacts(t: number, direction: number, packet: number, flags: number, segmentLength: number, created: boolean): void {
    const n = this.ints;
    const o = t * INT_STRIDE;
    let state = n[o + STATE];
    let bits = 0;
    // Wireshark's completeness, as its first pass leaves it: the segment that starts a
    // conversation counts only when it is a SYN; ACK comes from an ACK without data or SYN.
    if (flags & TH_SYN) {
      if (flags & TH_ACK) {
        bits |= Completeness.SYN_ACK;
        n[o + SYN_COUNTS] += 0x10000;
        if (!((state >> CLIENT_SHIFT) & 3)) state |= (2 - direction) << CLIENT_SHIFT;
      } else {
        bits |= Completeness.SYN;
        if ((n[o + SYN_COUNTS] & 0xffff) === 0) state = (state & ~(3 << CLIENT_SHIFT)) | ((direction + 1) << CLIENT_SHIFT);
        n[o + SYN_COUNTS]++;
      }
    } else if (flags & TH_ACK && segmentLength <= 0) bits |= Completeness.ACK;
    if (segmentLength > 0) {
      bits |= Completeness.DATA;
      this.times[doublesOf(t) + PAYLOAD + direction] += segmentLength;
    }
    if (flags & TH_FIN) {
      bits |= Completeness.FIN;
      state |= 1 << (FIN_SIDES_SHIFT + direction);
      if (n[o + FIRST_FIN] === 0) {
        n[o + FIRST_FIN] = packet + 1;
        if (direction) state |= FIRST_FIN_FROM_B;
      }
    }
    if (flags & TH_RST) {
      bits |= Completeness.RST;
      if (n[o + FIRST_RST] === 0) {
        n[o + FIRST_RST] = packet + 1;
        if (direction) state |= FIRST_RST_FROM_B;
        if (((state >> FIN_SIDES_SHIFT) & 3) !== 3) state |= RST_BEFORE_CLOSE;
      }
    }
    if (created && (flags & (TH_SYN | TH_ACK)) !== TH_SYN) bits = 0;
    n[o + STATE] = state | bits;
  }

  // ---- reading a connection ----------------------------------------------------------------

  completeness(t: number): number {
    return this.ints[t * INT_STRIDE + STATE] & 0x3f;
  }
  /** Which sides sent a FIN: bit 0 side A, bit 1 side B. */
  finSides(t: number): number {
    return (this.ints[t * INT_STRIDE + STATE] >> FIN_SIDES_SHIFT) & 3;
  }
  /** The client (the first pure SYN's sender, else the SYN-ACK's peer): 0 A, 1 B, -1 unknown. */
  clientSide(t: number): number {
    return ((this.ints[t * INT_STRIDE + STATE] >> CLIENT_SHIFT) & 3) - 1;
  }
  synCount(t: number): number {
    return this.ints[t * INT_STRIDE + SYN_COUNTS] & 0xffff;
  }
  synAckCount(t: number): number {
    return this.ints[t * INT_STRIDE + SYN_COUNTS] >>> 16;
  }
  payload(t: number, direction: number): number {
    return this.times[doublesOf(t) + PAYLOAD + direction];
  }
  /** The first FIN's packet index and sending side, if any. */
  firstFin(t: number): { packet: number; side: number } | undefined {
    const o = t * INT_STRIDE;
    return this.ints[o + FIRST_FIN] ? { packet: this.ints[o + FIRST_FIN] - 1, side: this.ints[o + STATE] & FIRST_FIN_FROM_B ? 1 : 0 } : undefined;
  }
  /** The first RST, and whether it came before FINs from both sides (a reset, not a close). */
  firstRst(t: number): { packet: number; side: number; beforeClose: boolean } | undefined {
    const o = t * INT_STRIDE;
    const state = this.ints[o + STATE];
    return this.ints[o + FIRST_RST] ? { packet: this.ints[o + FIRST_RST] - 1, side: state & FIRST_RST_FROM_B ? 1 : 0, beforeClose: (state & RST_BEFORE_CLOSE) !== 0 } : undefined;
  }

  /** The shift to apply to this direction's advertised windows (0 when unknown or unused). */
  windowShift(t: number, direction: number): number {
    const scale = scaleOf(flagsOf(this.ints[t * INT_STRIDE + direction * DIRECTION_INTS + WORD]));
    return scale > 0 ? scale : 0;
  }

  /** The handshake round trip in seconds, when the capture had the handshake. */
  initialRtt(t: number): number | undefined {
    const rtt = this.times[doublesOf(t) + FIRST_RTT];
    return rtt > 0 ? rtt / 1e9 : undefined;
  }
}
