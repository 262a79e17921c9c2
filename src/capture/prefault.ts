// Memory for big indexes, faulted in ahead of use by a helper thread.
//
// Writing fresh memory costs a page fault per 4 KiB; on some virtual machines (this project's
// CI among them) a fault costs ~15 µs, so the ~45 MB of a million-packet index would spend
// ~160 ms in faults on the decoding thread. A worker thread touches the pages first, on another
// core, while the decoding thread works. It only ever touches rows well beyond what the
// decoding thread has published as written (`progress`), and writes the zero that is already
// there, so the two never write the same place.
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (job) => {
  const progress = new Int32Array(job.progress);
  const views = job.buffers.map((b) => new Int32Array(b));
  const rowsPerBlock = 16384;
  for (let row = 0; row < job.rows; row += rowsPerBlock) {
    // Rows the owner has reached (or will soon) are its to fault.
    const reached = Atomics.load(progress, 0) + job.margin;
    if (row + rowsPerBlock <= reached) continue;
    for (let k = 0; k < views.length; k++) {
      const view = views[k];
      const bytesPerRow = job.bytesPerRow[k];
      const from = Math.max(row, reached) * bytesPerRow;
      const to = Math.min((row + rowsPerBlock) * bytesPerRow, view.byteLength);
      // The first int32 of each page from 'from' on: a store of the zero it holds.
      for (let byte = Math.ceil(from / 4096) * 4096; byte < to; byte += 4096) Atomics.store(view, byte >> 2, 0);
    }
  }
  parentPort.postMessage(job.id);
});
`;

let worker: Worker | undefined;
let workerFailed = false;
let nextJob = 0;

function helper(): Worker | undefined {
  if (worker || workerFailed || process.env.CAPTURE_NO_PREFAULT) return worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true });
    // A helper, not a reason to keep the process alive.
    worker.unref();
    worker.on('error', () => {
      workerFailed = true;
      worker = undefined;
    });
  } catch {
    workerFailed = true;
  }
  return worker;
}

/**
 * Asks the helper thread to fault in `buffers` (rows of `bytesPerRow[k]` bytes each) ahead of
 * the owner, who publishes how many rows it has written in `progress[0]`. Rows within
 * `marginRows` of that are left to the owner. Returns at once; without a helper, does nothing.
 */
export function prefault(buffers: SharedArrayBuffer[], bytesPerRow: number[], rows: number, progress: Int32Array, marginRows: number): void {
  const w = helper();
  if (!w) return;
  w.postMessage({ id: nextJob++, buffers, bytesPerRow, rows, progress: progress.buffer, margin: marginRows });
}

/** A counter shared with the helper thread: how many rows the owner has written. */
export function progressCounter(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Shared memory when the runtime has it (Node does), else ordinary memory. */
export function sharedBuffer(bytes: number): SharedArrayBuffer | ArrayBuffer {
  return typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}
