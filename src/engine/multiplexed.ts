// The engine's multiplexed stream framing (attach, logs without a TTY): each frame is an 8-byte
// header (stream type: 0 stdin, 1 stdout, 2 stderr; three zero bytes; big-endian payload length)
// followed by the payload. A frame may arrive split across chunks.

export type StreamKind = 'stdout' | 'stderr';

export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (kind: StreamKind, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = 0;
    while (this.pending.length - offset >= 8) {
      const type = this.pending[offset];
      const length = this.pending.readUInt32BE(offset + 4);
      if (this.pending.length - offset - 8 < length) break;
      const payload = this.pending.subarray(offset + 8, offset + 8 + length);
      this.onFrame(type === 2 ? 'stderr' : 'stdout', payload);
      offset += 8 + length;
    }
    this.pending = this.pending.subarray(offset);
  }

  /** Bytes of an unfinished frame left at the end (a truncated stream). */
  get leftover(): number {
    return this.pending.length;
  }
}

/** Splits a whole multiplexed body into stdout and stderr. */
export function demultiplex(body: Buffer): { stdout: Buffer; stderr: Buffer; leftover: number } {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const decoder = new FrameDecoder((kind, payload) => (kind === 'stderr' ? stderr : stdout).push(payload));
  decoder.push(body);
  return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), leftover: decoder.leftover };
}
