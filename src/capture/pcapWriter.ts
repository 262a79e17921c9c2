// Writing captures: classic pcap (one link type) and pcapng (several interfaces, and a name
// resolution block so Wireshark shows the names we know). Used to export filtered packets,
// and by tests and the benchmark to make captures.
import * as fs from 'node:fs';
import { CaptureFile, PacketIndex } from './packetIndex';

export interface PcapHeaderOptions {
  linkType: number;
  snapLength?: number;
  nanosecond?: boolean;
  bigEndian?: boolean;
}

export function pcapHeader(options: PcapHeaderOptions): Buffer {
  const b = Buffer.alloc(24);
  const le = !options.bigEndian;
  const w32 = (v: number, o: number) => (le ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o));
  const w16 = (v: number, o: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  w32(options.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(2, 4);
  w16(4, 6);
  w32(options.snapLength ?? 262144, 16);
  w32(options.linkType, 20);
  return b;
}

export function pcapRecord(frame: Uint8Array, seconds: number, fraction: number, originalLength = frame.length, bigEndian = false): Buffer {
  const b = Buffer.alloc(16 + frame.length);
  if (bigEndian) {
    b.writeUInt32BE(seconds >>> 0, 0);
    b.writeUInt32BE(fraction >>> 0, 4);
    b.writeUInt32BE(frame.length, 8);
    b.writeUInt32BE(originalLength, 12);
  } else {
    b.writeUInt32LE(seconds >>> 0, 0);
    b.writeUInt32LE(fraction >>> 0, 4);
    b.writeUInt32LE(frame.length, 8);
    b.writeUInt32LE(originalLength, 12);
  }
  b.set(frame, 16);
  return b;
}

export interface CapturedFrame {
  bytes: Uint8Array;
  seconds: number;
  nanoseconds: number;
  originalLength?: number;
  /** pcapng only: which interface (index into the interfaces given to the writer). */
  interfaceIndex?: number;
}

/** A whole pcap file in memory. */
export function pcapFile(options: PcapHeaderOptions, frames: CapturedFrame[]): Buffer {
  const parts = [pcapHeader(options)];
  for (const f of frames) parts.push(pcapRecord(f.bytes, f.seconds, options.nanosecond ? f.nanoseconds : Math.floor(f.nanoseconds / 1000), f.originalLength ?? f.bytes.length, options.bigEndian));
  return Buffer.concat(parts);
}

// ---- pcapng -----------------------------------------------------------------------------------

export interface PcapngInterfaceSpec {
  linkType: number;
  snapLength?: number;
  name?: string;
  /** if_tsresol: 6 (microseconds, the default) or 9 (nanoseconds). */
  resolution?: number;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

class BlockWriter {
  private readonly parts: Buffer[] = [];
  constructor(private readonly bigEndian: boolean) {}
  block(type: number, body: Buffer): Buffer {
    const length = 12 + body.length;
    const b = Buffer.alloc(length);
    this.u32(b, type, 0);
    this.u32(b, length, 4);
    body.copy(b, 8);
    this.u32(b, length, length - 4);
    this.parts.push(b);
    return b;
  }
  u32(b: Buffer, v: number, o: number): void {
    if (this.bigEndian) b.writeUInt32BE(v >>> 0, o);
    else b.writeUInt32LE(v >>> 0, o);
  }
  u16(b: Buffer, v: number, o: number): void {
    if (this.bigEndian) b.writeUInt16BE(v, o);
    else b.writeUInt16LE(v, o);
  }
  option(code: number, value: Buffer): Buffer {
    const b = Buffer.alloc(4 + pad4(value.length));
    this.u16(b, code, 0);
    this.u16(b, value.length, 2);
    value.copy(b, 4);
    return b;
  }
  result(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export interface PcapngOptions {
  interfaces: PcapngInterfaceSpec[];
  bigEndian?: boolean;
  /** Address text → names, written as a name resolution block. */
  names?: Map<string, string[]>;
}

/** Section header, interface descriptions and (optionally) names, for a pcapng file. */
export function pcapngPreamble(options: PcapngOptions): Buffer {
  const w = new BlockWriter(!!options.bigEndian);
  const shb = Buffer.alloc(16);
  w.u32(shb, 0x1a2b3c4d, 0);
  w.u16(shb, 1, 4);
  w.u16(shb, 0, 6);
  shb.writeInt32LE(-1, 8);
  shb.writeInt32LE(-1, 12);
  w.block(0x0a0d0d0a, shb);
  for (const iface of options.interfaces) {
    const fixed = Buffer.alloc(8);
    w.u16(fixed, iface.linkType, 0);
    w.u32(fixed, iface.snapLength ?? 262144, 4);
    const opts: Buffer[] = [];
    if (iface.name) opts.push(w.option(2, Buffer.from(iface.name, 'utf8')));
    if (iface.resolution !== undefined && iface.resolution !== 6) opts.push(w.option(9, Buffer.from([iface.resolution])));
    if (opts.length) opts.push(Buffer.alloc(4));
    w.block(1, Buffer.concat([fixed, ...opts]));
  }
  if (options.names?.size) {
    const records: Buffer[] = [];
    for (const [address, names] of options.names) {
      const v4 = /^\d+\.\d+\.\d+\.\d+$/.test(address);
      const addressBytes = v4 ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
      if (!addressBytes) continue;
      const value = Buffer.concat([addressBytes, ...names.map((n) => Buffer.from(n + '\0', 'utf8'))]);
      const record = Buffer.alloc(4 + pad4(value.length));
      w.u16(record, v4 ? 1 : 2, 0);
      w.u16(record, value.length, 2);
      value.copy(record, 4);
      records.push(record);
    }
    records.push(Buffer.alloc(4));
    w.block(4, Buffer.concat(records));
  }
  return w.result();
}

function ipv6Bytes(text: string): Buffer | undefined {
  const [head, tail] = text.split('::');
  const parse = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = tail !== undefined ? parse(tail) : [];
  const groups = tail !== undefined ? [...h, ...new Array(8 - h.length - t.length).fill(0), ...t] : h;
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g))) return undefined;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
  return b;
}

/** One enhanced packet block. */
export function pcapngPacket(frame: Uint8Array, interfaceIndex: number, seconds: number, nanoseconds: number, resolution = 6, originalLength = frame.length, bigEndian = false): Buffer {
  const w = new BlockWriter(bigEndian);
  const body = Buffer.alloc(20 + pad4(frame.length));
  const units = resolution === 9 ? BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds) : BigInt(seconds) * 1_000_000n + BigInt(Math.floor(nanoseconds / 1000));
  w.u32(body, interfaceIndex, 0);
  w.u32(body, Number(units >> 32n), 4);
  w.u32(body, Number(units & 0xffffffffn), 8);
  w.u32(body, frame.length, 12);
  w.u32(body, originalLength, 16);
  body.set(frame, 20);
  return w.block(6, body);
}

export function pcapngFile(options: PcapngOptions, frames: CapturedFrame[]): Buffer {
  const parts = [pcapngPreamble(options)];
  for (const f of frames) {
    const iface = f.interfaceIndex ?? 0;
    parts.push(pcapngPacket(f.bytes, iface, f.seconds, f.nanoseconds, options.interfaces[iface]?.resolution ?? 6, f.originalLength ?? f.bytes.length, options.bigEndian));
  }
  return Buffer.concat(parts);
}

/**
 * Writes the given packets to outPath: pcapng when asked (or when names or several link types need
 * it), else classic pcap.
 */
export function exportPackets(index: PacketIndex, file: CaptureFile, packets: ArrayLike<number>, outPath: string, names?: Map<string, string[]>, format?: 'pcap' | 'pcapng'): void {
  const usedInterfaces = new Set<number>();
  for (let k = 0; k < packets.length; k++) usedInterfaces.add(index.interfaceIndex[packets[k]]);
  const linkTypes = new Set([...usedInterfaces].map((i) => index.interfaces[i]?.linkType ?? 1));
  const fd = fs.openSync(outPath, 'w');
  try {
    if (linkTypes.size <= 1 && !names?.size && format !== 'pcapng') {
      const nanosecond = index.interfaces.some((i) => i.unitsPerSecond > 1e6);
      fs.writeSync(fd, pcapHeader({ linkType: [...linkTypes][0] ?? 1, nanosecond }));
      for (let k = 0; k < packets.length; k++) {
        const i = packets[k];
        const { seconds, nanoseconds } = index.timeOf(i);
        fs.writeSync(fd, pcapRecord(file.frameBytes(index, i), seconds, nanosecond ? nanoseconds : Math.floor(nanoseconds / 1000), index.originalLength[i]));
      }
      return;
    }
    const interfaces = index.interfaces.map((i) => ({ linkType: i.linkType, snapLength: i.snapLength, name: i.name, resolution: 9 }));
    fs.writeSync(fd, pcapngPreamble({ interfaces, names }));
    for (let k = 0; k < packets.length; k++) {
      const i = packets[k];
      const { seconds, nanoseconds } = index.timeOf(i);
      fs.writeSync(fd, pcapngPacket(file.frameBytes(index, i), index.interfaceIndex[i], seconds, nanoseconds, 9, index.originalLength[i]));
    }
  } finally {
    fs.closeSync(fd);
  }
}
