// pcap and pcapng reading, incremental: bytes go in as they come (file chunks, a pipe, a capture
// still being written) and whole packets come out through a sink. A record cut at the end of the
// bytes seen so far waits for more. Malformed input stops the reader with an error that names
// the byte offset; every packet before it has been delivered.
import * as fs from 'node:fs';
import { LARGE_FRAME_LINK_TYPES, LinkType, MAX_CAPTURED_LENGTH } from './linkTypes';
import { MODE_PCAP, REST_END, REST_NONE, ROWS_PER_SLOT, RingReader, SLOT_FAILED, SLOT_FREE, W_LENGTH, W_NEXT, W_RECORDS, W_REST, W_STATE, readAhead } from './readerThread';
import { R_CAPTURED, R_FRACTION, R_ORIGINAL, R_RECORD, R_SECONDS, ROW_INTS } from './fastPath';

export interface CaptureInterface {
  /** Index over the whole file: the interfaces of a second section follow those of the first. */
  index: number;
  section: number;
  linkType: number;
  snapLength: number;
  name?: string;
  description?: string;
  /** Timestamp units per second (pcapng if_tsresol; 1e6 or 1e9 for pcap). */
  unitsPerSecond: number;
  /** pcapng if_tsoffset, seconds added to every timestamp. */
  offsetSeconds: number;
  /** Bytes of frame check sequence at the end of each frame, when the file says. */
  fcsLength?: number;
}

export interface InterfaceStatistics {
  interfaceIndex: number;
  received?: number;
  dropped?: number;
}

export interface CaptureFormat {
  kind: 'pcap' | 'pcapng';
  bigEndian: boolean;
  /** pcap only: nanosecond timestamps (magic a1b23c4d). */
  nanosecond: boolean;
  version: string;
}

/** Why reading stopped early: what, and where in the file (byte offset of the bad record). */
export interface CaptureProblem {
  offset: number;
  message: string;
}

export interface FrameSink {
  /**
   * One packet. `bytes[start .. start+capturedLength)` is the frame; the reader reuses its
   * buffers, so copy what must outlive the call. `fileOffset` is where the frame's first byte
   * sits in the file, so it can be read again later.
   */
  frame(bytes: Uint8Array, start: number, capturedLength: number, originalLength: number, seconds: number, nanoseconds: number, interfaceIndex: number, fileOffset: number): void;
  /**
   * The frames so far are all there is for now: a sink that holds some back (to handle them
   * together) finishes them. Called after each piece of input and at the end.
   */
  flush?(): void;
  /**
   * A sink with its own fast path (fastPath.ts): the UDP port table it runs with, so that the
   * reader thread runs it ahead on pcap records, which then come through framesRead().
   */
  fastPathTable?(): Uint8Array | undefined;
  /**
   * pcap records read ahead: rows [from, from + count) of `rows` (fastPath.ts; `doubles` is the
   * same memory), their bytes in `b`, one after the other in the file from `position` on.
   * Returns the position after them.
   */
  framesRead?(b: Uint8Array, rows: Int32Array, doubles: Float64Array, from: number, count: number, position: number, nanosecondFractions: boolean): number;
  interfaceAdded?(iface: CaptureInterface): void;
  /** pcapng name resolution block: an address (dotted or IPv6 text) and its names. */
  names?(address: string, names: string[]): void;
  statistics?(stats: InterfaceStatistics): void;
}

/** USB and D-Bus captures legitimately carry bigger frames. */
const MAX_CAPTURED_LENGTH_LARGE = 128 * 1024 * 1024;
const MAX_PCAPNG_BLOCK = 16 * 1024 * 1024 + 131_072;

const PCAP_MICRO = 0xa1b2c3d4;
const PCAP_NANO = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;

function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function maxCapturedFor(linkType: number): number {
  return LARGE_FRAME_LINK_TYPES.includes(linkType) ? MAX_CAPTURED_LENGTH_LARGE : MAX_CAPTURED_LENGTH;
}

function hex32(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

interface PcapngInterfaceState {
  iface: CaptureInterface;
  /** When the resolution is 10^-k with k <= 9: multiply the fraction by this to get nanoseconds. */
  nanosPerUnit: number;
}

/**
 * The format state machine. Feed it bytes with `parse`; it consumes whole records only and
 * reports how many bytes it took. `needed` says how long the record waiting at the end is.
 */
export class CaptureParser {
  format: CaptureFormat | undefined;
  readonly interfaces: CaptureInterface[] = [];
  error: CaptureProblem | undefined;
  packets = 0;
  /** File offset of the next byte `parse` will see. */
  position = 0;
  /** Total length of the record the parser waits for (0 when unknown or nothing waits). */
  needed = 0;
  sections = 0;

  private littleEndian = true;
  private pcapNanos = false;
  private pcapMaxCaptured = MAX_CAPTURED_LENGTH;
  /** pcapng: interfaces of the current section, by their id in that section. */
  private sectionInterfaces: PcapngInterfaceState[] = [];

  constructor(private readonly sink: FrameSink) {}

  get done(): boolean {
    return this.error !== undefined;
  }

  /** Consume whole records of `buf[start, end)`; returns the number of bytes consumed. */
  parse(buf: Uint8Array, start: number, end: number): number {
    if (this.error) return 0;
    let p = start;
    this.needed = 0;
    if (!this.format) {
      const header = this.parseFileHeader(buf, p, end);
      if (!this.format) return 0;
      p += header;
      this.position += header;
    }
    const consumed = this.format!.kind === 'pcap' ? this.parsePcapRecords(buf, p, end) : this.parsePcapngBlocks(buf, p, end);
    this.position += consumed;
    // The bytes are the caller's again once this returns.
    this.sink.flush?.();
    return p - start + consumed;
  }

  /** End of input with `unconsumed` bytes left over: a file cut short, if any remain. */
  finish(unconsumed: number): void {
    if (this.error) return;
    if (!this.format) {
      this.fail(0, unconsumed === 0 ? 'empty file: no capture header' : `file too short for a capture header (${unconsumed} bytes)`);
      return;
    }
    if (unconsumed > 0) {
      const what = this.needed > 0 ? `a record of ${this.needed} bytes` : 'a record header';
      this.fail(this.position, `file cut short: ${what} starts here but only ${unconsumed} bytes follow`);
    }
  }

  private fail(offset: number, message: string): void {
    if (!this.error) this.error = { offset, message };
  }

  private u16(b: Uint8Array, o: number): number {
    return this.littleEndian ? u16le(b, o) : u16be(b, o);
  }
  private u32(b: Uint8Array, o: number): number {
    return this.littleEndian ? u32le(b, o) : u32be(b, o);
  }

  /** Returns the header length consumed, 0 when more bytes are needed, -1 on error. */
  private parseFileHeader(b: Uint8Array, p: number, end: number): number {
    if (end - p < 4) return 0;
    const magicLe = u32le(b, p);
    const magicBe = u32be(b, p);
    if (magicBe === PCAPNG_SHB) {
      // The section header's own length is read once its byte order is known.
      if (end - p < 12) {
        this.needed = 12;
        return 0;
      }
      const order = u32le(b, p + 8);
      if (order !== PCAPNG_BYTE_ORDER && u32be(b, p + 8) !== PCAPNG_BYTE_ORDER) {
        this.fail(this.position + 8, `pcapng section header: unknown byte-order magic ${hex32(u32be(b, p + 8))}`);
        return -1;
      }
      this.littleEndian = order === PCAPNG_BYTE_ORDER;
      // The section header block itself is read with the other blocks.
      this.format = { kind: 'pcapng', bigEndian: !this.littleEndian, nanosecond: false, version: '' };
      return 0;
    }
    let nanos: boolean;
    if (magicLe === PCAP_MICRO || magicLe === PCAP_NANO) {
      this.littleEndian = true;
      nanos = magicLe === PCAP_NANO;
    } else if (magicBe === PCAP_MICRO || magicBe === PCAP_NANO) {
      this.littleEndian = false;
      nanos = magicBe === PCAP_NANO;
    } else {
      this.fail(this.position, `not a pcap or pcapng file (magic number ${hex32(magicBe)})`);
      return -1;
    }
    if (end - p < 24) {
      this.needed = 24;
      return 0;
    }
    const major = this.u16(b, p + 4);
    const minor = this.u16(b, p + 6);
    if (major !== 2) {
      this.fail(this.position + 4, `pcap version ${major}.${minor} is not supported (only 2.x)`);
      return -1;
    }
    const snapLength = this.u32(b, p + 16);
    const linkField = this.u32(b, p + 20);
    // The upper bits may carry the FCS length (bit 26 says it is present, bits 28-31 the length).
    const linkType = linkField & 0xffff;
    const fcsLength = linkField & 0x04000000 ? ((linkField >>> 28) & 0xf) * 2 : undefined;
    this.pcapNanos = nanos;
    this.pcapMaxCaptured = maxCapturedFor(linkType);
    this.format = { kind: 'pcap', bigEndian: !this.littleEndian, nanosecond: nanos, version: `${major}.${minor}` };
    const iface: CaptureInterface = { index: 0, section: 0, linkType, snapLength, unitsPerSecond: nanos ? 1e9 : 1e6, offsetSeconds: 0, fcsLength };
    this.interfaces.push(iface);
    this.sections = 1;
    this.sink.interfaceAdded?.(iface);
    return 24;
  }

  /**
   * pcap records found beforehand (by the reader thread): rows [from, from + count) of `rows`
   * (see fastPath.ts), each a whole record of `b` with a captured length the link type allows,
   * one after the other in the file from `position` on. A sink that takes such rows gets them as
   * they are (most already through the fast path); others get frames, as from parse().
   */
  parsePcapRows(b: Uint8Array, rows: Int32Array, doubles: Float64Array, from: number, count: number): void {
    if (this.error || this.format?.kind !== 'pcap' || count === 0) return;
    const sink = this.sink;
    if (sink.framesRead) this.position = sink.framesRead(b, rows, doubles, from, count, this.position, this.pcapNanos);
    else {
      let position = this.position;
      for (let k = from; k < from + count; k++) {
        const r = k * ROW_INTS;
        const captured = rows[r + R_CAPTURED];
        const fraction = rows[r + R_FRACTION] >>> 0;
        sink.frame(b, rows[r + R_RECORD] + 16, captured, rows[r + R_ORIGINAL] >>> 0, rows[r + R_SECONDS] >>> 0, this.pcapNanos ? fraction : fraction * 1000, 0, position + 16);
        position += 16 + captured;
      }
      this.position = position;
    }
    this.packets += count;
    sink.flush?.();
  }

  private parsePcapRecords(b: Uint8Array, start: number, end: number): number {
    let p = start;
    const le = this.littleEndian;
    const nanos = this.pcapNanos;
    const max = this.pcapMaxCaptured;
    const sink = this.sink;
    const base = this.position - start;
    // A DataView reads a header field in one load where byte shifts take four.
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    while (end - p >= 16) {
      const seconds = view.getUint32(p, le);
      const fraction = view.getUint32(p + 4, le);
      const captured = view.getUint32(p + 8, le);
      const original = view.getUint32(p + 12, le);
      if (captured > max) {
        this.fail(base + p, `packet ${this.packets + 1}: captured length ${captured} is bigger than the maximum of ${max}`);
        break;
      }
      if (end - p - 16 < captured) {
        this.needed = 16 + captured;
        break;
      }
      this.packets++;
      // A fraction of a second that is not one (>= 1e6 us) is kept as it is: wiretap does too.
      sink.frame(b, p + 16, captured, original, seconds, nanos ? fraction : fraction * 1000, 0, base + p + 16);
      p += 16 + captured;
    }
    return p - start;
  }

  private parsePcapngBlocks(b: Uint8Array, start: number, end: number): number {
    let p = start;
    const base = this.position - start;
    while (end - p >= 12) {
      const type = this.u32(b, p);
      // 0x0a0d0d0a reads the same in both byte orders.
      if (type === PCAPNG_SHB) {
        // A new section may switch byte order: read its magic before its length.
        const order = u32le(b, p + 8);
        if (order !== PCAPNG_BYTE_ORDER && u32be(b, p + 8) !== PCAPNG_BYTE_ORDER) {
          this.fail(base + p + 8, `pcapng section header: unknown byte-order magic ${hex32(u32be(b, p + 8))}`);
          break;
        }
        this.littleEndian = order === PCAPNG_BYTE_ORDER;
      }
      const length = this.u32(b, p + 4);
      if (length < 12 || length % 4 !== 0) {
        this.fail(base + p + 4, `pcapng block of type ${hex32(type)}: total length ${length} is ${length < 12 ? 'smaller than 12' : 'not a multiple of 4'}`);
        break;
      }
      if (length > MAX_PCAPNG_BLOCK) {
        this.fail(base + p + 4, `pcapng block of type ${hex32(type)}: total length ${length} is bigger than the maximum of ${MAX_PCAPNG_BLOCK}`);
        break;
      }
      if (end - p < length) {
        this.needed = length;
        break;
      }
      const trailer = this.u32(b, p + length - 4);
      if (trailer !== length) {
        this.fail(base + p + length - 4, `pcapng block of type ${hex32(type)}: trailing length ${trailer} differs from the leading ${length}`);
        break;
      }
      if (!this.pcapngBlock(b, p, length, type, base + p)) break;
      p += length;
    }
    return p - start;
  }

  /** One complete block at b[p, p+length). Returns false after an error. */
  private pcapngBlock(b: Uint8Array, p: number, length: number, type: number, offset: number): boolean {
    const bodyEnd = p + length - 4;
    switch (type) {
      case PCAPNG_SHB: {
        if (length < 28) {
          this.fail(offset, `pcapng section header: length ${length} is smaller than 28`);
          return false;
        }
        const major = this.u16(b, p + 12);
        const minor = this.u16(b, p + 14);
        if (major !== 1) {
          this.fail(offset + 12, `pcapng section header: version ${major}.${minor} is not supported (only 1.x)`);
          return false;
        }
        this.format = { kind: 'pcapng', bigEndian: !this.littleEndian, nanosecond: false, version: `${major}.${minor}` };
        this.sections++;
        this.sectionInterfaces = [];
        return true;
      }
      case 1: {
        // Interface description block.
        if (length < 20) {
          this.fail(offset, `pcapng interface description block: length ${length} is smaller than 20`);
          return false;
        }
        const linkType = this.u16(b, p + 8);
        const snapLength = this.u32(b, p + 12);
        const iface: CaptureInterface = { index: this.interfaces.length, section: this.sections - 1, linkType, snapLength, unitsPerSecond: 1e6, offsetSeconds: 0 };
        let nanosPerUnit = 1000;
        const problem = this.readOptions(b, p + 16, bodyEnd, p, offset, (code, o, len) => {
          if (code === 2) iface.name = utf8(b, o, len);
          else if (code === 3) iface.description = utf8(b, o, len);
          else if (code === 9 && len >= 1) {
            const resolution = b[o];
            const exponent = resolution & 0x7f;
            if (resolution & 0x80) {
              iface.unitsPerSecond = 2 ** Math.min(exponent, 63);
              nanosPerUnit = 0;
            } else {
              iface.unitsPerSecond = 10 ** Math.min(exponent, 30);
              nanosPerUnit = exponent <= 9 ? 10 ** (9 - exponent) : 0;
            }
          } else if (code === 14 && len >= 8) {
            const high = this.u32(b, o + (this.littleEndian ? 4 : 0));
            const low = this.u32(b, o + (this.littleEndian ? 0 : 4));
            // Signed 64-bit seconds; captures only ever use small values.
            iface.offsetSeconds = (high | 0) * 4294967296 + low;
          } else if (code === 13 && len >= 1) iface.fcsLength = b[o];
        });
        if (problem) return false;
        this.interfaces.push(iface);
        this.sectionInterfaces.push({ iface, nanosPerUnit });
        this.sink.interfaceAdded?.(iface);
        return true;
      }
      case 6: {
        // Enhanced packet block.
        if (length < 32) {
          this.fail(offset, `pcapng enhanced packet block: length ${length} is smaller than 32`);
          return false;
        }
        const id = this.u32(b, p + 8);
        const state = this.sectionInterfaces[id];
        if (!state) {
          this.fail(offset + 8, `pcapng enhanced packet block: interface ${id} was not described (the section has ${this.sectionInterfaces.length})`);
          return false;
        }
        const captured = this.u32(b, p + 20);
        const original = this.u32(b, p + 24);
        if (captured > bodyEnd - (p + 28)) {
          this.fail(offset + 20, `pcapng enhanced packet block: captured length ${captured} does not fit in the block (${bodyEnd - (p + 28)} bytes)`);
          return false;
        }
        if (captured > maxCapturedFor(state.iface.linkType)) {
          this.fail(offset + 20, `packet ${this.packets + 1}: captured length ${captured} is bigger than the maximum of ${maxCapturedFor(state.iface.linkType)}`);
          return false;
        }
        this.deliver(b, p + 28, captured, original, this.u32(b, p + 12), this.u32(b, p + 16), state, offset + 28);
        return true;
      }
      case 3: {
        // Simple packet block: interface 0, no timestamp, captured length from the snap length.
        const state = this.sectionInterfaces[0];
        if (!state) {
          this.fail(offset, 'pcapng simple packet block before any interface description');
          return false;
        }
        if (length < 16) {
          this.fail(offset, `pcapng simple packet block: length ${length} is smaller than 16`);
          return false;
        }
        const original = this.u32(b, p + 8);
        let captured = Math.min(original, bodyEnd - (p + 12));
        if (state.iface.snapLength > 0) captured = Math.min(captured, state.iface.snapLength);
        this.packets++;
        this.sink.frame(b, p + 12, captured, original, 0, 0, state.iface.index, offset + 12);
        return true;
      }
      case 2: {
        // Obsolete packet block (pcapng drafts): 16-bit interface id and drops count.
        if (length < 32) {
          this.fail(offset, `pcapng packet block: length ${length} is smaller than 32`);
          return false;
        }
        const id = this.u16(b, p + 8);
        const state = this.sectionInterfaces[id];
        if (!state) {
          this.fail(offset + 8, `pcapng packet block: interface ${id} was not described`);
          return false;
        }
        const captured = this.u32(b, p + 20);
        const original = this.u32(b, p + 24);
        if (captured > bodyEnd - (p + 28)) {
          this.fail(offset + 20, `pcapng packet block: captured length ${captured} does not fit in the block`);
          return false;
        }
        this.deliver(b, p + 28, captured, original, this.u32(b, p + 12), this.u32(b, p + 16), state, offset + 28);
        return true;
      }
      case 4:
        return this.nameResolutionBlock(b, p + 8, bodyEnd, offset);
      case 5: {
        // Interface statistics block.
        if (length < 24) {
          this.fail(offset, `pcapng interface statistics block: length ${length} is smaller than 24`);
          return false;
        }
        const id = this.u32(b, p + 8);
        const state = this.sectionInterfaces[id];
        const stats: InterfaceStatistics = { interfaceIndex: state ? state.iface.index : -1 };
        const problem = this.readOptions(b, p + 20, bodyEnd, p, offset, (code, o, len) => {
          if (len < 8) return;
          const value = this.u64(b, o);
          if (code === 4) stats.received = value;
          else if (code === 5) stats.dropped = value;
        });
        if (problem) return false;
        if (state) this.sink.statistics?.(stats);
        return true;
      }
      default:
        // Custom, decryption secrets, journal export and others: nothing here needs them.
        return true;
    }
  }

  private u64(b: Uint8Array, o: number): number {
    const high = this.u32(b, o + (this.littleEndian ? 4 : 0));
    const low = this.u32(b, o + (this.littleEndian ? 0 : 4));
    return high * 4294967296 + low;
  }

  private deliver(b: Uint8Array, start: number, captured: number, original: number, high: number, low: number, state: PcapngInterfaceState, fileOffset: number): void {
    const iface = state.iface;
    let seconds: number;
    let nanoseconds: number;
    const units = iface.unitsPerSecond;
    if (state.nanosPerUnit > 0 && high < 0x200000) {
      // Below 2^53 units the arithmetic on doubles is exact.
      const ticks = high * 4294967296 + low;
      seconds = Math.floor(ticks / units);
      nanoseconds = (ticks - seconds * units) * state.nanosPerUnit;
    } else if (state.nanosPerUnit > 0 || units >= 1e9) {
      const ticks = (BigInt(high) << 32n) | BigInt(low);
      const perSecond = BigInt(units);
      seconds = Number(ticks / perSecond);
      const fraction = ticks % perSecond;
      nanoseconds = Number((fraction * 1_000_000_000n) / perSecond);
    } else {
      // Binary fractions (if_tsresol with the top bit set).
      const ticks = high * 4294967296 + low;
      seconds = Math.floor(ticks / units);
      nanoseconds = Math.floor(((ticks - seconds * units) / units) * 1e9);
    }
    this.packets++;
    this.sink.frame(b, start, captured, original, seconds + iface.offsetSeconds, nanoseconds, iface.index, fileOffset);
  }

  /**
   * Walks pcapng options from `o` to `end`, calling `each(code, valueOffset, valueLength)`.
   * Returns true (and records the error) when an option runs past its block.
   */
  private readOptions(b: Uint8Array, o: number, end: number, blockStart: number, blockOffset: number, each: (code: number, valueOffset: number, valueLength: number) => void): boolean {
    while (end - o >= 4) {
      const code = this.u16(b, o);
      const len = this.u16(b, o + 2);
      if (code === 0) break;
      if (o + 4 + len > end) {
        // Wiretap reports this as a malformed block too; the packets before it stay.
        this.fail(blockOffset + (o - blockStart), `pcapng option ${code}: length ${len} runs past the end of its block`);
        return true;
      }
      each(code, o + 4, len);
      o += 4 + ((len + 3) & ~3);
    }
    return false;
  }

  private nameResolutionBlock(b: Uint8Array, o: number, end: number, offset: number): boolean {
    while (end - o >= 4) {
      const type = this.u16(b, o);
      const len = this.u16(b, o + 2);
      if (type === 0) break;
      if (o + 4 + len > end) {
        this.fail(offset, `pcapng name resolution block: record of ${len} bytes runs past the end of the block`);
        return false;
      }
      const v = o + 4;
      const addressLength = type === 1 ? 4 : type === 2 ? 16 : 0;
      if (addressLength && len > addressLength && this.sink.names) {
        const address = addressLength === 4 ? `${b[v]}.${b[v + 1]}.${b[v + 2]}.${b[v + 3]}` : ipv6Text(b, v);
        const names = utf8(b, v + addressLength, len - addressLength)
          .split('\0')
          .filter((n) => n.length > 0);
        if (names.length) this.sink.names(address, names);
      }
      o += 4 + ((len + 3) & ~3);
    }
    return true;
  }
}

function utf8(b: Uint8Array, o: number, len: number): string {
  let end = o + len;
  while (end > o && b[end - 1] === 0) end--;
  return Buffer.from(b.buffer, b.byteOffset + o, end - o).toString('utf8');
}

function ipv6Text(b: Uint8Array, o: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(((b[o + 2 * i] << 8) | b[o + 2 * i + 1]).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export interface CaptureReadResult {
  format: CaptureFormat | undefined;
  interfaces: CaptureInterface[];
  packets: number;
  /** Bytes of the file consumed as whole records (the header included). */
  bytesConsumed: number;
  error: CaptureProblem | undefined;
}

function resultOf(parser: CaptureParser): CaptureReadResult {
  return { format: parser.format, interfaces: parser.interfaces, packets: parser.packets, bytesConsumed: parser.position, error: parser.error };
}

/**
 * Bytes pushed in arbitrary chunks: a pipe from tcpdump, or a file still being written.
 * A record cut by the end of a chunk is kept until the rest arrives.
 */
export class CaptureStreamReader {
  readonly parser: CaptureParser;
  private pending: Uint8Array[] = [];
  private pendingLength = 0;

  constructor(sink: FrameSink) {
    this.parser = new CaptureParser(sink);
  }

  push(chunk: Uint8Array): void {
    if (this.parser.done || chunk.length === 0) return;
    if (this.pendingLength === 0) {
      const used = this.parser.parse(chunk, 0, chunk.length);
      if (used < chunk.length) this.keep(chunk.subarray(used));
      return;
    }
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    // Join only once the waiting record can be complete, so a huge record arriving in small
    // pieces is copied once rather than once per piece.
    if (this.parser.needed > 0 && this.pendingLength < this.parser.needed) return;
    const joined = Buffer.concat(this.pending, this.pendingLength);
    this.pending = [];
    this.pendingLength = 0;
    const used = this.parser.parse(joined, 0, joined.length);
    if (used < joined.length) this.keep(joined.subarray(used));
  }

  /** Bytes received but not yet part of a whole record. */
  get waitingBytes(): number {
    return this.pendingLength;
  }

  /** No more bytes will come: a leftover partial record is a file cut short. */
  end(): CaptureReadResult {
    this.parser.finish(this.pendingLength);
    return resultOf(this.parser);
  }

  /** Where things stand, with a partial record at the end still waiting (not an error). */
  status(): CaptureReadResult {
    return resultOf(this.parser);
  }

  private keep(rest: Uint8Array): void {
    // Copy: the caller may reuse the chunk's memory.
    const copy = Buffer.allocUnsafe(rest.length);
    copy.set(rest);
    this.pending = [copy];
    this.pendingLength = copy.length;
  }
}

export interface FileReadOptions {
  /** Bytes per read; 1 MiB by default (512 KiB read ahead by the reader thread). */
  chunkSize?: number;
  /** How long to read before giving the event loop a turn; 50 ms by default. */
  yieldMs?: number;
  signal?: AbortSignal;
  /** Called at each turn given to the event loop, and at the end, with the bytes consumed so far. */
  progress?(bytesConsumed: number, packets: number): void;
  /**
   * Read ahead in a thread of our own (see readerThread.ts): true, false, or by default for
   * files of at least 4 MiB read in chunks of the default size.
   */
  readerThread?: boolean;
}

/**
 * Bytes per read through the thread pool: small enough that what a read just copied is still in
 * the CPU's cache when it is parsed, big enough that reading from disk goes at the disk's pace
 * with one read ahead (measured here on 540 MB: 256 KiB reads are 3x slower from disk than
 * 1 MiB ones; 4 MiB ones parse 10% slower).
 */
const DEFAULT_CHUNK = 1024 * 1024;
/**
 * The same for the reader thread (after the carry room: 832 KiB a slot of its ring), which
 * always reads ahead, so reads at the disk's pace with smaller reads too; the ring (8 slots)
 * stays a few MB, memory touched again on every file.
 */
const RING_CHUNK = 512 * 1024;
/** Room before each read for the tail of a record the previous chunk cut. */
const CARRY_ROOM = MAX_CAPTURED_LENGTH + 64 * 1024;
/** Files from this size on are read ahead by the reader thread. */
const READER_THREAD_FROM = 4 * 1024 * 1024;

/**
 * Parses chunk after chunk, each read after CARRY_ROOM bytes of room where the tail of a record
 * the previous chunk cut is put back in front of the rest of it.
 */
class ChunkedParse {
  private carry: Buffer = Buffer.alloc(0);

  constructor(readonly parser: CaptureParser) {}

  /**
   * Parses the `got` bytes read into `buffer` after its room (0: the end of the file). Returns
   * false when reading should stop (the end, or an error); the buffer is free again on return.
   */
  chunk(buffer: Buffer, got: number): boolean {
    const parser = this.parser;
    const carry = this.carry;
    let data: Buffer = buffer;
    let start = CARRY_ROOM - carry.length;
    if (carry.length <= CARRY_ROOM) buffer.set(carry, start);
    else {
      // A record longer than the room (up to the 128 MiB of USB captures): join the slow way.
      data = Buffer.concat([carry, buffer.subarray(CARRY_ROOM, CARRY_ROOM + got)]);
      start = 0;
    }
    const end = data === buffer ? CARRY_ROOM + got : data.length;
    const used = parser.parse(data, start, end);
    if (parser.done) return false;
    const left = end - start - used;
    if (got === 0) {
      parser.finish(left);
      return false;
    }
    // Copied out: the buffer is read into again.
    this.carry = left > 0 ? Buffer.from(data.subarray(end - left, end)) : Buffer.alloc(0);
    return true;
  }
}

/**
 * Reads a whole capture file in chunks (never the whole file in one buffer), reading ahead while
 * the chunks already read are parsed, so a file coming from disk costs little more than one in
 * the page cache: big files through the reader thread (see readerThread.ts), others (or when the
 * thread is busy) through Node's thread pool, one chunk ahead. The event loop gets a turn every
 * `yieldMs` (default 50 ms) so a big file does not freeze its host.
 */
export async function readCaptureFile(path: string, sink: FrameSink, options: FileReadOptions = {}): Promise<CaptureReadResult> {
  const parser = new CaptureParser(sink);
  const fd = await new Promise<number>((resolve, reject) => fs.open(path, 'r', (error, fd) => (error ? reject(error) : resolve(fd))));
  try {
    let ring: RingReader | undefined;
    if (options.readerThread ?? (options.chunkSize === undefined && fs.fstatSync(fd).size >= READER_THREAD_FROM)) ring = readAhead(fd, 0, CARRY_ROOM, options.chunkSize ?? RING_CHUNK, sink.fastPathTable?.());
    if (ring) await readFromRing(fd, ring, parser, options);
    else await readThroughPool(fd, parser, options);
  } finally {
    fs.closeSync(fd);
  }
  return resultOf(parser);
}

/** Whether this thread may block in Atomics.wait (Node's main thread may; a browser's may not). */
let canBlock = true;

async function readFromRing(fd: number, ring: RingReader, parser: CaptureParser, options: FileReadOptions): Promise<void> {
  const yieldMs = options.yieldMs ?? 50;
  const chunks = new ChunkedParse(parser);
  const control = ring.control;
  let lastTurn = performance.now();
  let stopped = false;
  /** Where to go on reading through the pool (the reader left a record to the parser that the
   *  parser took after all: not expected, but then the rest of the file is still read). */
  let rest = -1;
  const turn = async (): Promise<boolean> => {
    options.progress?.(parser.position, parser.packets);
    await new Promise((resolve) => setImmediate(resolve));
    lastTurn = performance.now();
    return !options.signal?.aborted;
  };
  try {
    reading: for (let c = 0; ; c++) {
      const s = c % ring.slots.length;
      const stateAt = ring.word(s, W_STATE);
      // Wait for chunk c, giving the event loop its turns meanwhile.
      for (;;) {
        const state = Atomics.load(control, stateAt);
        if (state === c + 1) break;
        if (state === SLOT_FAILED) throw new Error((await ring.finished) ?? 'the reader thread failed');
        if (performance.now() - lastTurn >= yieldMs) {
          if (!(await turn())) {
            stopped = true;
            break reading;
          }
          continue;
        }
        if (canBlock) {
          try {
            Atomics.wait(control, stateAt, state, Math.max(1, yieldMs - (performance.now() - lastTurn)));
            continue;
          } catch {
            canBlock = false;
          }
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      const got = Atomics.load(control, ring.word(s, W_LENGTH));
      const slot = ring.slots[s];
      let more: boolean;
      if (ring.mode() === MODE_PCAP) {
        // The file header first; then the records the reader found, then whatever it left to
        // the parser.
        if (c === 0) parser.parse(slot, 0, 24);
        if (!parser.done) parser.parsePcapRows(slot, ring.rows, ring.rowDoubles, s * ROWS_PER_SLOT, control[ring.word(s, W_RECORDS)]);
        const left = control[ring.word(s, W_REST)];
        more = !parser.done && left === REST_NONE;
        if (!parser.done && left !== REST_NONE) {
          const next = control[ring.word(s, W_NEXT)];
          const used = parser.parse(slot, next, got);
          if (left === REST_END) parser.finish(got - next - used);
          else if (!parser.done) rest = parser.position;
        }
      } else more = chunks.chunk(slot, got);
      Atomics.store(control, stateAt, SLOT_FREE);
      Atomics.notify(control, stateAt);
      if (!more) break;
      if (performance.now() - lastTurn >= yieldMs && !(await turn())) {
        stopped = true;
        break;
      }
    }
  } finally {
    await ring.release();
  }
  if (rest >= 0 && !stopped) await readThroughPool(fd, parser, options, rest);
  else options.progress?.(parser.position, parser.packets);
}

/** Reads from `from` on (where the parser stands) through Node's thread pool, one chunk ahead. */
async function readThroughPool(fd: number, parser: CaptureParser, options: FileReadOptions, from = 0): Promise<void> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  const yieldMs = options.yieldMs ?? 50;
  const chunks = new ChunkedParse(parser);
  // Two buffers: one being parsed, one being filled.
  const buffers = [Buffer.allocUnsafe(CARRY_ROOM + chunkSize), Buffer.allocUnsafe(CARRY_ROOM + chunkSize)];
  let filePosition = from;
  const readInto = (buffer: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const at = filePosition;
      filePosition += chunkSize;
      fs.read(fd, buffer, CARRY_ROOM, chunkSize, at, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
    });
  let current = 0;
  let pending = readInto(buffers[0]);
  let lastTurn = performance.now();
  try {
    for (;;) {
      const got = await pending;
      // The next read goes into the other buffer while this one is parsed.
      pending = got > 0 ? readInto(buffers[1 - current]) : Promise.resolve(0);
      if (!chunks.chunk(buffers[current], got)) break;
      current = 1 - current;
      if (performance.now() - lastTurn >= yieldMs) {
        options.progress?.(parser.position, parser.packets);
        await new Promise((resolve) => setImmediate(resolve));
        if (options.signal?.aborted) break;
        lastTurn = performance.now();
      }
    }
    options.progress?.(parser.position, parser.packets);
  } finally {
    await pending.catch(() => 0);
  }
}

/** The same, synchronously: for tests and small files. */
export function readCaptureFileSync(path: string, sink: FrameSink, options: { chunkSize?: number } = {}): CaptureReadResult {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  const parser = new CaptureParser(sink);
  const fd = fs.openSync(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(CARRY_ROOM + chunkSize);
    let carried = 0;
    let filePosition = 0;
    for (;;) {
      if (carried + chunkSize > buffer.length) {
        const bigger = Buffer.allocUnsafe(carried + chunkSize);
        buffer.copy(bigger, 0, 0, carried);
        buffer = bigger;
      }
      const got = fs.readSync(fd, buffer, carried, chunkSize, filePosition);
      filePosition += got;
      const end = carried + got;
      const used = parser.parse(buffer, 0, end);
      if (parser.done) break;
      const left = end - used;
      if (got === 0) {
        parser.finish(left);
        break;
      }
      buffer.copy(buffer, 0, used, end);
      carried = left;
    }
  } finally {
    fs.closeSync(fd);
  }
  return resultOf(parser);
}

/** Parses a capture held in memory (tests, small uploads). */
export function readCaptureBytes(bytes: Uint8Array, sink: FrameSink): CaptureReadResult {
  const parser = new CaptureParser(sink);
  const used = parser.parse(bytes, 0, bytes.length);
  parser.finish(bytes.length - used);
  return resultOf(parser);
}

export interface FollowOptions {
  /** Stop at once, wherever reading stands (a partial record at the end is not an error then). */
  signal: AbortSignal;
  /**
   * The drain request: aborted once the writer has ended (closed the file). The follower then
   * reads what is left in the file up to its end, ends the read as at the end of a whole file (a
   * record cut short there is an error now: no more bytes will come) and stops. Asked before the
   * follow starts (or before the file was opened), the file is read once to its end.
   */
  drain?: AbortSignal;
  /** How often to look for new bytes when the file has not grown; 200 ms by default. */
  pollMs?: number;
  chunkSize?: number;
}

export interface FollowResult extends CaptureReadResult {
  /** Read to the end of the file after the drain request (false: stopped by `signal`, or by an error in the file). */
  drained: boolean;
}

/** Resolves after `ms`, or as soon as one of the signals is aborted. */
function pause(ms: number, signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise<void>((resolve) => {
    const live = signals.filter((s): s is AbortSignal => s !== undefined);
    const wake = () => {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    for (const s of live) s.addEventListener('abort', wake, { once: true });
    if (live.some((s) => s.aborted)) wake();
  });
}

/**
 * Reads a capture that another process is still writing (tcpdump -w FILE), delivering packets
 * as their records complete, until `signal` aborts (a partial record at the end is not an error
 * then: the writer may simply not have flushed it yet) or, after `drain` is aborted, until the end
 * of what the writer left in the file: the end of the capture, with no waiting on packet counts.
 */
export async function followCaptureFile(path: string, sink: FrameSink, options: FollowOptions): Promise<FollowResult> {
  const reader = new CaptureStreamReader(sink);
  const chunkSize = options.chunkSize ?? 1024 * 1024;
  const buffer = Buffer.allocUnsafe(chunkSize);
  let position = 0;
  const handle = await fs.promises.open(path, 'r');
  try {
    while (!options.signal.aborted && !reader.parser.done) {
      // Only a read started after the drain request may take "nothing more" for the end: the
      // writer had closed the file by then, so whatever it wrote is there to be read.
      const draining = options.drain?.aborted === true;
      const { bytesRead } = await handle.read(buffer, 0, chunkSize, position);
      if (bytesRead > 0) {
        position += bytesRead;
        reader.push(buffer.subarray(0, bytesRead));
        continue;
      }
      if (draining) return { ...reader.end(), drained: true };
      await pause(options.pollMs ?? 200, [options.signal, options.drain]);
    }
  } finally {
    await handle.close();
  }
  return { ...reader.status(), drained: false };
}

export { LinkType };
