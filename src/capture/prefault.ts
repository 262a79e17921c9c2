// Memory for big indexes, faulted in ahead of use by a helper thread.
//
// Writing fresh memory costs a page fault per 4 KiB; on some virtual machines (this project's
// CI among them) a fault costs ~15 µs, so the ~45 MB of a million-packet index would spend
// ~160 ms in faults on the decoding thread. A worker thread touches the pages first, on another
// core, while the decoding thread works: for each buffer, from the row its owner has published
// as reached (`progress`) up to a lead ahead of it, following the owner, so that memory reserved
// generously but never used is not touched either. It touches with an atomic OR of zero, which
// changes nothing even if the owner got there first (a helper descheduled for long).
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, receiveMessageOnPort } = require('node:worker_threads');
const nap = new Int32Array(new SharedArrayBuffer(4));
/** A job is let go when its owner has not moved for this long. */
const IDLE_MS = 2000;
const jobs = [];
function add(job) {
  // Whole int32 only: a column of bytes may end in the middle of one.
  const views = job.buffers.map((b) => new Int32Array(b, 0, b.byteLength >> 2));
  jobs.push({ views, bytesPerRow: job.bytesPerRow, rowBytes: job.bytesPerRow.reduce((a, b) => a + b, 0), rows: job.rows, lead: job.lead, progress: new Int32Array(job.progress), done: 0, since: Date.now() });
}
function touch(job, from, to) {
  for (let k = 0; k < job.views.length; k++) {
    const view = job.views[k];
    const width = job.bytesPerRow[k];
    const end = Math.min(to * width, view.byteLength);
    // The first int32 of each page in the rows: an atomic OR with zero writes the page (so it
    // is faulted in, writable) and leaves whatever is there.
    for (let byte = Math.ceil((from * width) / 4096) * 4096; byte < end; byte += 4096) Atomics.or(view, byte >> 2, 0);
  }
}
function run() {
  while (jobs.length) {
    for (let m = receiveMessageOnPort(parentPort); m; m = receiveMessageOnPort(parentPort)) add(m.message);
    let worked = false;
    for (let j = jobs.length - 1; j >= 0; j--) {
      const job = jobs[j];
      const owner = Math.min(Atomics.load(job.progress, 0), job.rows);
      const from = Math.max(job.done, owner);
      const target = Math.min(job.rows, owner + job.lead);
      if (target > from) {
        // A few pages at a time, so that every job and the owner's progress are looked at often.
        const step = Math.min(target, from + Math.max(1, Math.floor(65536 / job.rowBytes)));
        try {
          touch(job, from, step);
        } catch {
          // A helper: the owner faults in whatever was not done.
        }
        job.done = step;
        job.since = Date.now();
        worked = true;
      }
      if (job.done >= job.rows || Date.now() - job.since > IDLE_MS) jobs.splice(j, 1);
    }
    if (!worked) Atomics.wait(nap, 0, 0, 1);
  }
}
parentPort.on('message', (job) => {
  add(job);
  run();
});
`;

let worker: Worker | undefined;
let workerFailed = false;

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
 * Asks the helper thread to fault in `buffers` (`rows` rows of `bytesPerRow[k]` bytes each)
 * ahead of their owner, who publishes how many rows it has reached in `progress[0]`: up to
 * `leadRows` rows ahead of that (Infinity: all, for memory reached at random). Returns at once;
 * without a helper, does nothing.
 */
export function prefault(buffers: SharedArrayBuffer[], bytesPerRow: number[], rows: number, progress: Int32Array, leadRows: number): void {
  const w = helper();
  if (!w) return;
  w.postMessage({ buffers, bytesPerRow, rows, progress: progress.buffer, lead: Math.min(leadRows, rows) });
}

/** A counter shared with the helper thread: how many rows the owner has written. */
export function progressCounter(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Shared memory when the runtime has it (Node does), else ordinary memory. */
export function sharedBuffer(bytes: number): SharedArrayBuffer | ArrayBuffer {
  return typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}
