// Writes a pcap byte stream to a file, record by record: only whole records reach the disk, so
// the file is a valid capture at every moment (a stop, a lost connection or a crash of VS Code
// keeps every complete packet received so far). Written synchronously: what was received is on
// disk before the next chunk is looked at.
import * as fs from 'node:fs';

const MAGIC = new Map<number, { littleEndian: boolean }>([
  [0xa1b2c3d4, { littleEndian: false }], // read as big-endian: file is big-endian, microseconds
  [0xa1b23c4d, { littleEndian: false }], // nanoseconds
  [0xd4c3b2a1, { littleEndian: true }],
  [0x4d3cb2a1, { littleEndian: true }],
]);

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** tcpdump's snapshot length is at most 262144; anything bigger is a broken stream, not a packet. */
const MAX_RECORD = 262_144 + 1024;

export class PcapStreamError extends Error {}

export class PcapRecordWriter {
  private pending: Buffer = Buffer.alloc(0);
  private littleEndian: boolean | undefined;
  private fd: number | undefined;
  packets = 0;
  /** Bytes on disk. */
  bytes = 0;

  /** Opens (creates) the file; throws a sentence when the folder is missing or not writable. */
  constructor(readonly file: string) {
    try {
      this.fd = fs.openSync(file, 'wx', 0o644);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new PcapStreamError(
        code === 'ENOENT' ? `Cannot write the capture: the folder of ${file} does not exist.`
          : code === 'EACCES' || code === 'EPERM' ? `Cannot write the capture: no permission to write ${file}.`
          : code === 'EEXIST' ? `Cannot write the capture: ${file} exists already.`
          : `Cannot write the capture ${file}: ${(error as Error).message}`,
      );
    }
  }

  /** Feeds bytes as they arrive; writes every record that is now complete. */
  push(chunk: Buffer): void {
    if (this.fd === undefined) return;
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = 0;
    if (this.littleEndian === undefined) {
      if (this.pending.length < GLOBAL_HEADER) return;
      const magic = this.pending.readUInt32BE(0);
      const kind = MAGIC.get(magic);
      if (!kind) throw new PcapStreamError(`The capture stream does not start with a pcap header (magic 0x${magic.toString(16)}): tcpdump may have failed.`);
      this.littleEndian = kind.littleEndian;
      this.write(this.pending.subarray(0, GLOBAL_HEADER));
      offset = GLOBAL_HEADER;
    }
    while (this.pending.length - offset >= RECORD_HEADER) {
      const captured = this.littleEndian ? this.pending.readUInt32LE(offset + 8) : this.pending.readUInt32BE(offset + 8);
      if (captured > MAX_RECORD) throw new PcapStreamError(`A packet record claims ${captured} bytes at stream offset ${this.bytes}: the stream is corrupt.`);
      const end = offset + RECORD_HEADER + captured;
      if (end > this.pending.length) break;
      this.write(this.pending.subarray(offset, end));
      this.packets++;
      offset = end;
    }
    this.pending = this.pending.subarray(offset);
  }

  private write(bytes: Buffer): void {
    let written = 0;
    try {
      while (written < bytes.length) written += fs.writeSync(this.fd!, bytes, written, bytes.length - written);
    } catch (error) {
      // Part of this record may be on disk: cut it off, so the file ends with a whole record.
      try {
        fs.ftruncateSync(this.fd!, this.bytes);
      } catch {
        // the file keeps the partial record; readers report it as cut short
      }
      const code = (error as NodeJS.ErrnoException).code;
      throw new PcapStreamError(code === 'ENOSPC' ? `The disk holding ${this.file} is full: the capture was stopped; the file keeps the packets written before.` : `Writing ${this.file} failed: ${(error as Error).message}`);
    }
    this.bytes += bytes.length;
  }

  /** Bytes of an incomplete record at the end (dropped when the stream ends here). */
  get partialBytes(): number {
    return this.pending.length;
  }

  /** Whether the pcap header has arrived (the file is a capture, if an empty one). */
  get started(): boolean {
    return this.littleEndian !== undefined;
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
