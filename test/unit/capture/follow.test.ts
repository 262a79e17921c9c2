// Following a capture still being written, and the drain: once the writer has ended, the follower
// reads what is left in the file to its end, says so, and stops (no waiting on packet counts).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { TcpFlag, tcpFrame, udpFrame } from '../../../src/capture/frameBuilder';
import { CapturedFrame, pcapHeader, pcapngPacket, pcapngPreamble, pcapRecord } from '../../../src/capture/pcapWriter';
import { FrameSink, followCaptureFile, type FollowResult } from '../../../src/capture/reader';
import { followCaptureIndex } from '../../../src/capture/packetIndex';

/** Longer than any test may take: a follower that waits it out has not been woken by the drain. */
const LONG_POLL_MS = 60_000;
const PACKETS = 300;

function frames(count: number): CapturedFrame[] {
  return Array.from({ length: count }, (_, i) => ({
    bytes: i % 3 === 0 ? tcpFrame('10.0.1.5', '10.0.1.2', { srcPort: 40_000 + i, dstPort: 8081, seq: i, flags: TcpFlag.SYN }) : udpFrame('10.0.1.5', '10.0.0.2', 1000 + i, 53, 20 + (i % 50)),
    seconds: 1_700_000_000 + i,
    nanoseconds: 1000 * i,
  }));
}

/** The file as a writer produces it: its header, then one piece per record. */
function pieces(format: 'pcap' | 'pcapng', list: CapturedFrame[]): Buffer[] {
  if (format === 'pcap') return [pcapHeader({ linkType: 1 }), ...list.map((f) => pcapRecord(f.bytes, f.seconds, Math.floor(f.nanoseconds / 1000)))];
  return [pcapngPreamble({ interfaces: [{ linkType: 1 }] }), ...list.map((f) => pcapngPacket(f.bytes, 0, f.seconds, f.nanoseconds))];
}

function emptyFile(name: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capture-follow-')), name);
  fs.writeFileSync(file, Buffer.alloc(0));
  return file;
}

function counter(): FrameSink & { seen: number[] } {
  const sink = {
    seen: [] as number[],
    frame(_b: Uint8Array, _start: number, _captured: number, _original: number, seconds: number) {
      sink.seen.push(seconds - 1_700_000_000);
    },
    interfaceAdded() {},
  };
  return sink;
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The follower's end, or a failure if it has not ended within `ms`. */
function ended<T>(follow: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the follower did not end within ${ms} ms of the drain request`)), ms);
  });
  return Promise.race([follow, timeout]).finally(() => clearTimeout(timer));
}

describe('following a capture file: the drain', () => {
  for (const format of ['pcap', 'pcapng'] as const) {
    it(`${format}: after the writer ends, every packet left in the file is read and the follower ends`, async () => {
      const file = emptyFile(`growing.${format}`);
      const all = pieces(format, frames(PACKETS));
      const sink = counter();
      const stop = new AbortController();
      const drain = new AbortController();
      // A long poll: once asleep, only the drain request can wake the follower in time.
      const following = followCaptureFile(file, sink, { signal: stop.signal, drain: drain.signal, pollMs: LONG_POLL_MS, chunkSize: 4096 });

      // The writer writes the header and the first 50 records, the 51st cut in the middle...
      const first = Buffer.concat(all.slice(0, 51));
      fs.appendFileSync(file, first);
      const record51 = all[51];
      fs.appendFileSync(file, record51.subarray(0, 10));
      await until('the first 50 packets', () => sink.seen.length === 50);
      // ...then, while the follower sleeps, everything else in odd pieces, and ends.
      const rest = Buffer.concat([record51.subarray(10), ...all.slice(52)]);
      for (let at = 0; at < rest.length; at += 333) fs.appendFileSync(file, rest.subarray(at, at + 333));
      const seenAtRequest = sink.seen.length;
      const asked = Date.now();
      drain.abort();

      const result: FollowResult = await ended(following);
      assert.equal(seenAtRequest, 50, 'the rest was written while the follower slept');
      assert.equal(sink.seen.length, PACKETS, 'every packet is read after the drain request');
      assert.deepEqual(sink.seen, Array.from({ length: PACKETS }, (_, i) => i), 'in order, none twice');
      assert.equal(result.drained, true);
      assert.equal(result.error, undefined);
      assert.equal(result.packets, PACKETS);
      assert.equal(result.bytesConsumed, fs.statSync(file).size, 'read to the end of the file');
      assert.ok(Date.now() - asked < 2000, 'woken by the request, not by the next poll');
      stop.abort();
    });
  }

  it('a drain asked before the follow starts (the writer had already ended): the file is read once to its end', async () => {
    const file = emptyFile('ended.pcap');
    fs.writeFileSync(file, Buffer.concat(pieces('pcap', frames(PACKETS))));
    const sink = counter();
    const drain = new AbortController();
    drain.abort();
    const result = await ended(followCaptureFile(file, sink, { signal: new AbortController().signal, drain: drain.signal, pollMs: LONG_POLL_MS, chunkSize: 1000 }));
    assert.equal(sink.seen.length, PACKETS);
    assert.equal(result.drained, true);
    assert.equal(result.error, undefined);
  });

  it('a record cut short at the end once the writer has ended is an error (no more bytes will come), every whole packet kept', async () => {
    const file = emptyFile('cut.pcap');
    const all = pieces('pcap', frames(20));
    fs.writeFileSync(file, Buffer.concat([...all.slice(0, 20), all[20 - 1].subarray(0, 7)]));
    const sink = counter();
    const drain = new AbortController();
    const following = followCaptureFile(file, sink, { signal: new AbortController().signal, drain: drain.signal, pollMs: LONG_POLL_MS });
    await until('the 19 whole packets', () => sink.seen.length === 19);
    drain.abort();
    const result = await ended(following);
    assert.equal(result.drained, true);
    assert.equal(sink.seen.length, 19);
    assert.match(result.error?.message ?? '', /file cut short/);
    assert.equal(result.error?.offset, fs.statSync(file).size - 7);
  });

  it('stopping (the viewer closed) ends at once without reading on; a partial record is then no error', async () => {
    const file = emptyFile('stopped.pcap');
    const all = pieces('pcap', frames(10));
    fs.writeFileSync(file, Buffer.concat([...all.slice(0, 6), all[6].subarray(0, 5)]));
    const sink = counter();
    const stop = new AbortController();
    const following = followCaptureFile(file, sink, { signal: stop.signal, drain: new AbortController().signal, pollMs: LONG_POLL_MS });
    await until('the 5 whole packets', () => sink.seen.length === 5);
    // The follower delivers the packets before its next read finds nothing and it sleeps (60 s):
    // let that read happen first, else (on a busy machine) it reads what is appended below. Seen
    // in a CI run: 10 packets read.
    await new Promise((resolve) => setTimeout(resolve, 300));
    fs.appendFileSync(file, Buffer.concat([all[6].subarray(5), ...all.slice(7)]));
    stop.abort();
    const result = await ended(following);
    assert.equal(result.drained, false);
    assert.equal(result.error, undefined);
    assert.equal(sink.seen.length, 5, 'what was written after the stop is not read');
  });
});

describe("the viewer's followed capture (followCaptureIndex)", () => {
  it('indexes as the file grows; drain() reads the rest and completes the index', async () => {
    const file = emptyFile('viewer.pcap');
    const all = pieces('pcap', frames(PACKETS));
    fs.writeFileSync(file, Buffer.concat(all.slice(0, 101)));
    const followed = followCaptureIndex(file, { pollMs: LONG_POLL_MS });
    await until('100 packets indexed', () => followed.index.count === 100);
    assert.equal(followed.index.complete, false);
    fs.appendFileSync(file, Buffer.concat(all.slice(101)));
    const index = await ended(followed.drain());
    assert.equal(index, followed.index);
    assert.equal(index.complete, true);
    assert.equal(index.count, PACKETS);
    assert.equal(index.error, undefined);
    assert.equal(index.format?.kind, 'pcap');
    assert.equal(await followed.done, index);
    // Stopping after the end changes nothing.
    assert.equal((await followed.stop()).count, PACKETS);
  });

  it('a file that cannot be opened: the index completes with the reason, done never rejects', async () => {
    const followed = followCaptureIndex(path.join(os.tmpdir(), 'capture-follow-missing', 'nothing.pcap'), { pollMs: LONG_POLL_MS });
    const index = await ended(followed.done);
    assert.equal(index.complete, true);
    assert.equal(index.count, 0);
    assert.match(index.error?.message ?? '', /ENOENT/);
  });
});
