// A thread that reads a capture file ahead of its parser, into a ring of shared chunks.
//
// Reading through Node's thread pool costs a hand-over per chunk (on this project's virtual
// machines ~100 µs of the calling thread each, plus the wait for a pool thread), and reading on
// the parsing thread would stop parsing while the disk works. A worker thread that does nothing
// but read, chunk after chunk, into slots of a shared ring keeps the disk busy while the parser
// works on the chunks already in: from disk, indexing then costs about as long as the reading
// itself. The parser frees each slot once parsed; the reader waits for free slots, the parser
// for filled ones (Atomics.wait on both sides, so neither spins).
//
// A pcap file (ordinary link types) is read record by record: each chunk starts where a record
// starts, and the reader finds the records in it, as the parser would (its checks, not its
// messages: a record it refuses is left to the parser), and when given the index's fast path
// (fastPath.ts) runs it on each: here the bytes were just copied and are still in this core's
// cache, while on the parsing thread each record would be a cache miss, waited for before it
// even knows where the next record starts. The parser then reads dense rows, one after the other.
import { Worker } from 'node:worker_threads';
import { LARGE_FRAME_LINK_TYPES, MAX_CAPTURED_LENGTH } from './linkTypes';
import { R_CAPTURED, R_FRACTION, R_ORIGINAL, R_PROTOCOL, R_RECORD, R_SECONDS, ROW_INTS, fastParse } from './fastPath';

/** Slots in the ring. */
const RING_SLOTS = 8;
/** Rows per slot: records beyond (tiny ones) end the chunk early; the next starts there. */
export const ROWS_PER_SLOT = 16384;
// Control words: STOP, MODE, then per slot its state and four words about its chunk.
const STOP = 0;
const MODE = 1;
const SLOT_WORDS = 5;
const SLOT_AT = 2;
/** Of a slot: its state (below); bytes read; for pcap, how many records, where the bytes after
 *  them start, and what those bytes are (REST_...). */
export const W_STATE = 0;
export const W_LENGTH = 1;
export const W_RECORDS = 2;
export const W_NEXT = 3;
export const W_REST = 4;
const CONTROL_WORDS = SLOT_AT + RING_SLOTS * SLOT_WORDS;
/** A slot's state: FREE, FAILED, or the number of the chunk it holds plus one. */
export const SLOT_FREE = 0;
export const SLOT_FAILED = -1;
/** How the reader hands the file over: as raw chunks after a room for the parser's carry
 *  (pcapng, and whatever is odd), or as pcap records already found, from the slot's start; 0
 *  until the first chunk is in. */
const MODE_RAW = 1;
export const MODE_PCAP = 2;
/** In pcap mode, the bytes of a slot after its records: none that matter (the next chunk starts
 *  with the next record), a record the reader would not take (for the parser to judge), or, at
 *  the end of the file, what is left of it (a file cut short). */
export const REST_NONE = 0;
const REST_REFUSED = 1;
export const REST_END = 2;
/** The biggest pcap record the reader takes: an ordinary link type's biggest frame and its header. */
const MAX_RECORD = MAX_CAPTURED_LENGTH + 16;

// The reader: for each job, reads chunk c of the file into slot c % RING_SLOTS, once that slot is
// free. Raw: chunk c is at c * chunkSize, after the room kept in front of each slot for a record
// the previous chunk cut; a chunk of 0 bytes is the end of the file. pcap: each chunk from the
// record after the last one whole in the previous, the whole slot long. A read error fails the
// slot waited for and is reported.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const STOP = ${STOP}, MODE = ${MODE}, SLOT_AT = ${SLOT_AT}, SLOT_WORDS = ${SLOT_WORDS}, SLOTS = ${RING_SLOTS}, FREE = ${SLOT_FREE}, FAILED = ${SLOT_FAILED};
const W_STATE = ${W_STATE}, W_LENGTH = ${W_LENGTH}, W_RECORDS = ${W_RECORDS}, W_NEXT = ${W_NEXT}, W_REST = ${W_REST};
const MODE_RAW = ${MODE_RAW}, MODE_PCAP = ${MODE_PCAP}, REST_NONE = ${REST_NONE}, REST_REFUSED = ${REST_REFUSED}, REST_END = ${REST_END};
const MAX_CAPTURED = ${MAX_RECORD - 16}, LARGE_FRAME_LINK_TYPES = ${JSON.stringify(LARGE_FRAME_LINK_TYPES)}, ROWS_PER_SLOT = ${ROWS_PER_SLOT}, ROW_INTS = ${ROW_INTS};
const R_CAPTURED = ${R_CAPTURED}, R_ORIGINAL = ${R_ORIGINAL}, R_PROTOCOL = ${R_PROTOCOL}, R_SECONDS = ${R_SECONDS}, R_FRACTION = ${R_FRACTION}, R_RECORD = ${R_RECORD};
const parsers = new Map();
function parserOf(source) {
  if (!source) return undefined;
  if (!parsers.has(source)) {
    let parse;
    try {
      parse = new Function('return (' + source + ')')();
    } catch {
      parse = undefined;
    }
    parsers.set(source, parse);
  }
  return parsers.get(source);
}
function waitFree(control, at) {
  for (;;) {
    if (Atomics.load(control, STOP) !== 0) return false;
    const state = Atomics.load(control, at + W_STATE);
    if (state === FREE) return true;
    Atomics.wait(control, at + W_STATE, state, 200);
  }
}
parentPort.on('message', (job) => {
  const control = new Int32Array(job.control);
  const data = new Uint8Array(job.data);
  const view = new DataView(job.data);
  const rows = new Int32Array(job.rows);
  let parse = parserOf(job.parseSource);
  const udpApps = job.udpApps;
  let mode = 0, le = true;
  // pcap: where the next chunk starts in the file.
  let next = job.start;
  let error;
  let c = 0;
  try {
    for (;; c++) {
      const s = c % SLOTS;
      const at = SLOT_AT + s * SLOT_WORDS;
      if (!waitFree(control, at)) break;
      const slot = s * job.slotBytes;
      if (mode === 0) {
        // pcap (either byte order, micro- or nanoseconds), version 2, a link type whose records
        // are at most 256 KiB: found here; anything else goes to the parser raw.
        mode = MODE_RAW;
        const head = new Uint8Array(24);
        if (job.start === 0 && fs.readSync(job.fd, head, 0, 24, 0) === 24) {
          const h = new DataView(head.buffer);
          const magic = h.getUint32(0, true);
          le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
          const be = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
          const linkType = h.getUint32(20, le) & 0xffff;
          if ((le || be) && h.getUint16(4, le) === 2 && !LARGE_FRAME_LINK_TYPES.includes(linkType)) mode = MODE_PCAP;
        }
        Atomics.store(control, MODE, mode);
      }
      let got;
      let last = false;
      if (mode === MODE_PCAP) {
        // The records from 'next' on (the first chunk holds the file header too).
        got = fs.readSync(job.fd, data, slot, job.slotBytes, next);
        const end = slot + got;
        let p = c === 0 ? slot + 24 : slot;
        const base = s * ROWS_PER_SLOT * ROW_INTS;
        let n = 0;
        let rest = REST_NONE;
        while (n < ROWS_PER_SLOT && end - p >= 16) {
          const captured = view.getUint32(p + 8, le);
          if (captured > MAX_CAPTURED) {
            rest = REST_REFUSED;
            break;
          }
          if (end - p - 16 < captured) break;
          const r = base + n * ROW_INTS;
          const original = view.getUint32(p + 12, le);
          let parsed = false;
          if (parse) {
            try {
              parsed = parse(data, p + 16, captured, original, udpApps, rows, r);
            } catch {
              parse = undefined;
            }
          }
          if (!parsed) rows[r + R_PROTOCOL] = 0;
          rows[r + R_CAPTURED] = captured;
          rows[r + R_ORIGINAL] = original;
          rows[r + R_SECONDS] = view.getUint32(p, le);
          rows[r + R_FRACTION] = view.getUint32(p + 4, le);
          rows[r + R_RECORD] = p - slot;
          n++;
          p += 16 + captured;
        }
        // A short read is the end of the file: what is left there cannot become a record.
        if (rest === REST_NONE && got < job.slotBytes && n < ROWS_PER_SLOT) rest = REST_END;
        control[at + W_RECORDS] = n;
        control[at + W_NEXT] = p - slot;
        control[at + W_REST] = rest;
        next += p - slot;
        last = rest !== REST_NONE;
      } else {
        got = fs.readSync(job.fd, data, slot + job.carryRoom, job.chunkSize, job.start + c * job.chunkSize);
        last = got === 0;
      }
      Atomics.store(control, at + W_LENGTH, got);
      Atomics.store(control, at + W_STATE, c + 1);
      Atomics.notify(control, at + W_STATE);
      if (last) break;
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
  /** In pcap mode, the records' rows (fastPath.ts): slot s's from s * ROWS_PER_SLOT on. */
  readonly rows: Int32Array;
  /** The same memory as float64. */
  readonly rowDoubles: Float64Array;
  /** 0 until the first chunk is in, then MODE_RAW or MODE_PCAP. */
  mode(): number;
  /** The index of slot s's word w (W_...) in `control`. */
  word(s: number, w: number): number;
  /** Resolves when the reader has left the job, with its error if it had one. */
  readonly finished: Promise<string | undefined>;
  /** Stops the reader (if it still reads) and gives the thread back. Call once, at the end. */
  release(): Promise<void>;
}

interface Thread {
  worker: Worker;
  control: Int32Array;
  data: SharedArrayBuffer;
  rows: Int32Array;
  rowDoubles: Float64Array;
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
/** fastParse as the reader thread compiles it. */
const PARSE_SOURCE = fastParse.toString();

function startThread(carryRoom: number, chunkSize: number): Thread | undefined {
  try {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const slotBytes = carryRoom + chunkSize;
    const data = new SharedArrayBuffer(RING_SLOTS * slotBytes);
    // Pages of rows never written (most of them) cost nothing.
    const rowBuffer = new SharedArrayBuffer(RING_SLOTS * ROWS_PER_SLOT * ROW_INTS * 4);
    const t: Thread = {
      worker,
      control: new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4)),
      data,
      rows: new Int32Array(rowBuffer),
      rowDoubles: new Float64Array(rowBuffer),
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
 * chunks of `chunkSize`, each after `carryRoom` bytes of room (raw), or a pcap record by record,
 * running fastParse on each with `udpApps` when given. Undefined when there is no such thread
 * (workers unavailable, or busy with another file): read another way then.
 */
export function readAhead(fd: number, start: number, carryRoom: number, chunkSize: number, udpApps?: Uint8Array): RingReader | undefined {
  if (unavailable || process.env.CAPTURE_NO_READER_THREAD) return undefined;
  // pcap records are read whole into a slot: it must hold the biggest.
  if (carryRoom + chunkSize < MAX_RECORD) return undefined;
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
  t.worker.postMessage({ id, fd, start, carryRoom, chunkSize, slotBytes, control: control.buffer, data: t.data, rows: t.rows.buffer, parseSource: udpApps ? PARSE_SOURCE : undefined, udpApps });
  let released = false;
  return {
    control,
    slots: t.slots,
    rows: t.rows,
    rowDoubles: t.rowDoubles,
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
