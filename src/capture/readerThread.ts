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
/** Control words: then one state and one length per slot. */
const STOP = 0;
const STATE = 1;
const LENGTH = STATE + RING_SLOTS;
const CONTROL_WORDS = LENGTH + RING_SLOTS;
/** A slot's state: FREE, FAILED, or the number of the chunk it holds plus one. */
export const SLOT_FREE = 0;
export const SLOT_FAILED = -1;

// The reader: for each job, reads chunk c of the file into slot c % RING_SLOTS (after the room
// kept in front of each slot for the parser's carry), once that slot is free; a chunk of 0 bytes
// is the end of the file. A read error fails the slot waited for and is reported.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const STOP = ${STOP}, STATE = ${STATE}, LENGTH = ${LENGTH}, SLOTS = ${RING_SLOTS}, FREE = ${SLOT_FREE}, FAILED = ${SLOT_FAILED};
parentPort.on('message', (job) => {
  const control = new Int32Array(job.control);
  const data = new Uint8Array(job.data);
  let error;
  let c = 0;
  try {
    for (;; c++) {
      const s = c % SLOTS;
      for (;;) {
        if (Atomics.load(control, STOP) !== 0) break;
        const state = Atomics.load(control, STATE + s);
        if (state === FREE) break;
        Atomics.wait(control, STATE + s, state, 200);
      }
      if (Atomics.load(control, STOP) !== 0) break;
      const got = fs.readSync(job.fd, data, s * job.slotBytes + job.carryRoom, job.chunkSize, job.start + c * job.chunkSize);
      Atomics.store(control, LENGTH + s, got);
      Atomics.store(control, STATE + s, c + 1);
      Atomics.notify(control, STATE + s);
      if (got === 0) break;
    }
  } catch (e) {
    error = (e && e.message) || String(e);
    Atomics.store(control, STATE + (c % SLOTS), FAILED);
    Atomics.notify(control, STATE + (c % SLOTS));
  }
  parentPort.postMessage({ id: job.id, error });
});
`;

/** One job's view of the ring: the parser's side. */
export interface RingReader {
  /** Slot states and lengths (see the constants above). */
  readonly control: Int32Array;
  /** The slots, each CARRY_ROOM + chunk bytes long. */
  readonly slots: Buffer[];
  readonly carryRoom: number;
  readonly chunkSize: number;
  /** The state word and the length word of slot `s`. */
  stateIndex(s: number): number;
  lengthIndex(s: number): number;
  /** Resolves when the reader has left the job, with its error if it had one. */
  readonly finished: Promise<string | undefined>;
  /** Stops the reader (if it still reads) and gives the thread back. Call once, at the end. */
  release(): Promise<void>;
}

interface Thread {
  worker: Worker;
  control: Int32Array;
  data: SharedArrayBuffer;
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
    const t: Thread = {
      worker,
      control: new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4)),
      data,
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
        Atomics.store(t.control, STATE + s, SLOT_FAILED);
        Atomics.notify(t.control, STATE + s);
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
  for (let s = 0; s < RING_SLOTS; s++) {
    control[STATE + s] = SLOT_FREE;
    control[LENGTH + s] = 0;
  }
  Atomics.store(control, STOP, 0);
  const id = nextJob++;
  const finished = new Promise<string | undefined>((resolve) => t.jobs.set(id, resolve));
  t.worker.postMessage({ id, fd, start, carryRoom, chunkSize, slotBytes: carryRoom + chunkSize, control: control.buffer, data: t.data });
  let released = false;
  return {
    control,
    slots: t.slots,
    carryRoom,
    chunkSize,
    stateIndex: (s) => STATE + s,
    lengthIndex: (s) => LENGTH + s,
    finished,
    release: async () => {
      if (released) return;
      released = true;
      // Stop the reader wherever it is (waiting for a slot, or between reads) and let it finish.
      Atomics.store(control, STOP, 1);
      for (let s = 0; s < RING_SLOTS; s++) Atomics.notify(control, STATE + s);
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
