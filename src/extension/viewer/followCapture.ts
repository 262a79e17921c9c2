// A capture file still being written (a running capture), indexed as it grows until the viewer
// closes it or its writer ends; then what the writer left in the file is read to the end (the
// drain) and following stops. No vscode import: unit-tested under plain Node.
import { PacketIndex, type IndexOptions } from '../../capture/packetIndex';
import { followCaptureFile } from '../../capture/reader';

export interface FollowedCapture {
  /** Grows as packets arrive; `complete` once following has ended. */
  readonly index: PacketIndex;
  /** The writer has ended: read the rest of the file to its end, then stop. Resolves when done. */
  drain(): Promise<PacketIndex>;
  /** Stop now, wherever reading stands (the viewer closed). */
  stop(): Promise<PacketIndex>;
  /** Resolves once following has ended, either way (never rejects: a failure is the index's error). */
  readonly done: Promise<PacketIndex>;
}

export function followCapture(path: string, options: IndexOptions & { pollMs?: number } = {}): FollowedCapture {
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
