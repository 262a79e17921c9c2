// A thread that reads a capture file ahead of its parser, into a ring of shared chunks.
//
// Reading through Node's thread pool costs a hand-over per chunk (on this project's virtual
// machines ~100 µs of the calling thread each, plus the wait for a pool thread), and reading on
// the parsing thread would stop parsing while the disk works. A worker thread that does nothing
// but read, chunk after chunk, into slots of a shared ring keeps the disk busy while the parser
// works on the chunks already in: from disk, indexing then costs about as long as the reading
// itself. The parser frees each slot once parsed; the reader waits for free slots, the parser
// for filled ones (Atomics.wait on both sides, so neither spins).
import { Worker } from 'node:worker_threads';

/** Slots in the ring. */
export const RING_SLOTS = 8;
// Control words: STOP, MODE, then per slot its state and four words about its chunk.
const STOP = 0;
const MODE = 1;
const SLOT_WORDS = 5;
const SLOT_AT = 2;
/** Of a slot: its state (below); bytes read; for pcap records, how many, where the bytes after
 *  them start, and what those bytes are (RECORDS_...). */
const W_STATE = 0;
const W_LENGTH = 1;
const W_RECORDS = 2;
const W_NEXT = 3;
const W_REST = 4;
const CONTROL_WORDS = SLOT_AT + RING_SLOTS * SLOT_WORDS;
/** A slot's state: FREE, FAILED, or the number of the chunk it holds plus one. */
export const SLOT_FREE = 0;
export const SLOT_FAILED = -1;
/** How the reader hands the file over: as raw chunks (pcapng, and whatever is odd), or as pcap
 *  records already found (their offsets in the slot). */
export const MODE_UNKNOWN = 0;
export const MODE_RAW = 1;
export const MODE_PCAP = 2;
/** In pcap mode, the bytes of a slot after its records: the tail of a record cut by the end of
 *  the chunk (carried into the next slot by the reader), a record the reader would not take (for
 *  the parser to judge), or, at the end of the file, what is left (a file cut short). */
export const REST_CARRIED = 0;
export const REST_REFUSED = 1;
export const REST_END = 2;

// The reader: for each job, reads chunk c of the file into slot c % RING_SLOTS (after the room
// kept in front of each slot for a record the previous chunk cut), once that slot is free; a
// chunk of 0 bytes is the end of the file. A read error fails the slot waited for and is
// reported. When the file is a pcap with ordinary link types, it also finds the records, as the
// parser would (its checks, not its messages: a record it refuses is left to the parser), and
// carries the cut ones over itself: walking them here, where the bytes were just copied and are
// still in this core's cache, is cheap; on the parsing thread each record header would be a
// cache miss it waits for before it knows where the next one starts.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const STOP = ${STOP}, MODE = ${MODE}, SLOT_AT = ${SLOT_AT}, SLOT_WORDS = ${SLOT_WORDS}, SLOTS = ${RING_SLOTS}, FREE = ${SLOT_FREE}, FAILED = ${SLOT_FAILED};
const W_STATE = ${W_STATE}, W_LENGTH = ${W_LENGTH}, W_RECORDS = ${W_RECORDS}, W_NEXT = ${W_NEXT}, W_REST = ${W_REST};
const MODE_RAW = ${MODE_RAW}, MODE_PCAP = ${MODE_PCAP}, REST_CARRIED = ${REST_CARRIED}, REST_REFUSED = ${REST_REFUSED}, REST_END = ${REST_END};
const MAX_CAPTURED = ${262_144};
parentPort.on('message', (job) => {
  const control = new Int32Array(job.control);
  const data = new Uint8Array(job.data);
  const view = new DataView(job.data);
  const offsets = new Int32Array(job.offsets);
  const room = job.carryRoom;
  let mode = 0, le = true, carried = 0, stopped = false;
  let error;
  let c = 0;
  try {
    for (;; c++) {
      const s = c % SLOTS;
      const at = SLOT_AT + s * SLOT_WORDS;
      for (;;) {
        if (Atomics.load(control, STOP) !== 0) break;
        const state = Atomics.load(control, at + W_STATE);
        if (state === FREE) break;
        Atomics.wait(control, at + W_STATE, state, 200);
      }
      if (Atomics.load(control, STOP) !== 0) break;
      const slot = s * job.slotBytes;
      const got = fs.readSync(job.fd, data, slot + room, job.chunkSize, job.start + c * job.chunkSize);
      if (mode === 0) {
        // pcap (either byte order, micro- or nanoseconds), version 2, a link type whose records
        // are at most 256 KiB: found here; anything else goes to the parser raw.
        mode = MODE_RAW;
        if (job.start === 0 && got >= 24) {
          const magic = view.getUint32(slot + room, true);
          le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
          const be = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
          const linkType = view.getUint32(slot + room + 20, le) & 0xffff;
          if ((le || be) && view.getUint16(slot + room + 4, le) === 2 && linkType !== 189 && linkType !== 220 && linkType !== 249 && linkType !== 231) mode = MODE_PCAP;
        }
        Atomics.store(control, MODE, mode);
      }
      if (mode === MODE_PCAP) {
        // The records: from the carried tail (or after the file header) to the chunk's end.
        const base = s * job.offsetsPerSlot;
        let p = c === 0 ? slot + room + 24 : slot + room - carried;
        const end = slot + room + got;
        let n = 0;
        let rest = REST_CARRIED;
        while (end - p >= 16) {
          const captured = view.getUint32(p + 8, le);
          if (captured > MAX_CAPTURED) {
            rest = REST_REFUSED;
            break;
          }
          if (end - p - 16 < captured) break;
          offsets[base + n++] = p - slot;
          p += 16 + captured;
        }
        if (got === 0) rest = REST_END;
        control[at + W_RECORDS] = n;
        control[at + W_NEXT] = p - slot;
        control[at + W_REST] = rest;
        // The tail goes in front of the next chunk, in the next slot, once that is free.
        carried = rest === REST_CARRIED ? end - p : 0;
        if (carried > 0) {
          const next = ((c + 1) % SLOTS) * job.slotBytes;
          const nextAt = SLOT_AT + ((c + 1) % SLOTS) * SLOT_WORDS;
          for (;;) {
            if (Atomics.load(control, STOP) !== 0) break;
            const state = Atomics.load(control, nextAt + W_STATE);
            if (state === FREE) break;
            Atomics.wait(control, nextAt + W_STATE, state, 200);
          }
          if (Atomics.load(control, STOP) !== 0) break;
          data.copyWithin(next + room - carried, p, end);
        }
        stopped = rest !== REST_CARRIED;
      }
      Atomics.store(control, at + W_LENGTH, got);
      Atomics.store(control, at + W_STATE, c + 1);
      Atomics.notify(control, at + W_STATE);
      if (got === 0 || stopped) break;
    }
  } catch (e) {
    error = (e && e.message) || String(e);
    const at = SLOT_AT + (c % SLOTS) * SLOT_WORDS;
    Atomics.store(control, at + W_STATE, FAILED);
    Atomics.notify(control, at + W_STATE);
  }
  parentPort.postMessage({ id: job.id, error });
});
`;

/** One job's view of the ring: the parser's side. */
export interface RingReader {
  readonly control: Int32Array;
  /** The slots, each `carryRoom` + `chunkSize` bytes long. */
  readonly slots: Buffer[];
  /** In pcap mode, where the records are in each slot: slot s's from s * offsetsPerSlot on. */
  readonly offsets: Int32Array;
  readonly offsetsPerSlot: number;
  readonly carryRoom: number;
  readonly chunkSize: number;
  /** MODE_UNKNOWN until the first chunk is in, then MODE_RAW or MODE_PCAP. */
  mode(): number;
  /** The index of slot s's word w (W_...) in `control`. */
  word(s: number, w: number): number;
  /** Resolves when the reader has left the job, with its error if it had one. */
  readonly finished: Promise<string | undefined>;
  /** Stops the reader (if it still reads) and gives the thread back. Call once, at the end. */
  release(): Promise<void>;
}

export { W_LENGTH, W_NEXT, W_RECORDS, W_REST, W_STATE };

interface Thread {
  worker: Worker;
  control: Int32Array;
  data: SharedArrayBuffer;
  offsets: Int32Array;
  offsetsPerSlot: number;
  slots: Buffer[];
  carryRoom: number;
  chunkSize: number;
  busy: boolean;
  failed: boolean;
  jobs: Map<number, (error: string | undefined) => void>;
  idleTimer: NodeJS.Timeout | undefined;
}

let thread: Thread | undefined;
let unavailable = false;
let nextJob = 0;
/** An idle reader thread (and its ring's memory) is let go after this long. */
const IDLE_MS = 30_000;

function startThread(carryRoom: number, chunkSize: number): Thread | undefined {
  try {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const slotBytes = carryRoom + chunkSize;
    const data = new SharedArrayBuffer(RING_SLOTS * slotBytes);
    // At most one record per 16 bytes (pages never written cost nothing).
    const offsetsPerSlot = Math.ceil(slotBytes / 16) + 1;
    const t: Thread = {
      worker,
      control: new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4)),
      data,
      offsets: new Int32Array(new SharedArrayBuffer(RING_SLOTS * offsetsPerSlot * 4)),
      offsetsPerSlot,
      slots: Array.from({ length: RING_SLOTS }, (_, s) => Buffer.from(data, s * slotBytes, slotBytes)),
      carryRoom,
      chunkSize,
      busy: false,
      failed: false,
      jobs: new Map(),
      idleTimer: undefined,
    };
    const fail = (why: string) => {
      t.failed = true;
      if (thread === t) thread = undefined;
      // Wake a parser waiting for a chunk that will never come, and end its job.
      for (let s = 0; s < RING_SLOTS; s++) {
        Atomics.store(t.control, SLOT_AT + s * SLOT_WORDS + W_STATE, SLOT_FAILED);
        Atomics.notify(t.control, SLOT_AT + s * SLOT_WORDS + W_STATE);
      }
      for (const resolve of t.jobs.values()) resolve(why);
      t.jobs.clear();
    };
    worker.on('message', (m: { id: number; error?: string }) => {
      const resolve = t.jobs.get(m.id);
      t.jobs.delete(m.id);
      resolve?.(m.error);
    });
    worker.on('error', (e) => fail(`the reader thread failed: ${e.message}`));
    worker.on('exit', () => fail('the reader thread ended'));
    // A helper, not a reason to keep the process alive (after the listeners: adding the message
    // listener refs the worker's port again).
    worker.unref();
    return t;
  } catch {
    unavailable = true;
    return undefined;
  }
}

/**
 * The reader thread, started on first use, for one job at a time: reads `fd` from `start` in
 * chunks of `chunkSize`, each after `carryRoom` bytes of room. Undefined when there is no such
 * thread (workers unavailable, or busy with another file): read another way then.
 */
export function readAhead(fd: number, start: number, carryRoom: number, chunkSize: number): RingReader | undefined {
  if (unavailable || process.env.CAPTURE_NO_READER_THREAD) return undefined;
  if (thread && (thread.carryRoom !== carryRoom || thread.chunkSize !== chunkSize) && !thread.busy) {
    void thread.worker.terminate();
    thread = undefined;
  }
  thread ??= startThread(carryRoom, chunkSize);
  const t = thread;
  if (!t || t.busy || t.failed || t.carryRoom !== carryRoom || t.chunkSize !== chunkSize) return undefined;
  t.busy = true;
  // Kept alive while it works for us (the job's end comes as a message).
  t.worker.ref();
  if (t.idleTimer) clearTimeout(t.idleTimer);
  t.idleTimer = undefined;
  const control = t.control;
  control.fill(0);
  const id = nextJob++;
  const finished = new Promise<string | undefined>((resolve) => t.jobs.set(id, resolve));
  const slotBytes = carryRoom + chunkSize;
  t.worker.postMessage({ id, fd, start, carryRoom, chunkSize, slotBytes, control: control.buffer, data: t.data, offsets: t.offsets.buffer, offsetsPerSlot: t.offsetsPerSlot });
  let released = false;
  return {
    control,
    slots: t.slots,
    offsets: t.offsets,
    offsetsPerSlot: t.offsetsPerSlot,
    carryRoom,
    chunkSize,
    mode: () => Atomics.load(control, MODE),
    word: (s, w) => SLOT_AT + s * SLOT_WORDS + w,
    finished,
    release: async () => {
      if (released) return;
      released = true;
      // Stop the reader wherever it is (waiting for a slot, or between reads) and let it finish.
      Atomics.store(control, STOP, 1);
      for (let s = 0; s < RING_SLOTS; s++) Atomics.notify(control, SLOT_AT + s * SLOT_WORDS + W_STATE);
      await finished;
      t.busy = false;
      t.worker.unref();
      if (!t.failed) {
        t.idleTimer = setTimeout(() => {
          if (thread === t && !t.busy) {
            thread = undefined;
            void t.worker.terminate();
          }
        }, IDLE_MS);
        t.idleTimer.unref();
      }
    },
  };
}
