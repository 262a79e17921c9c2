import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { TcpFlag, tcpFrame, udpFrame } from '../../../src/capture/frameBuilder';
import { CapturedFrame, pcapFile, pcapHeader, pcapngFile, pcapngPacket, pcapngPreamble, pcapRecord } from '../../../src/capture/pcapWriter';
import { CaptureInterface, CaptureStreamReader, FrameSink, InterfaceStatistics, followCaptureFile, readCaptureBytes, readCaptureFile, readCaptureFileSync } from '../../../src/capture/reader';

interface Seen {
  bytes: string;
  captured: number;
  original: number;
  seconds: number;
  nanoseconds: number;
  interfaceIndex: number;
  fileOffset: number;
}

interface Recorder extends FrameSink {
  frames: Seen[];
  interfaces: CaptureInterface[];
  nameMap: Map<string, string[]>;
  stats: InterfaceStatistics[];
}

/** A sink that keeps copies of everything it is given. */
function recorder(): Recorder {
  const r: Recorder = {
    frames: [],
    interfaces: [],
    nameMap: new Map(),
    stats: [],
    frame(b, start, captured, original, seconds, nanoseconds, interfaceIndex, fileOffset) {
      r.frames.push({ bytes: Buffer.from(b.subarray(start, start + captured)).toString('hex'), captured, original, seconds, nanoseconds, interfaceIndex, fileOffset });
    },
    interfaceAdded: (i) => r.interfaces.push(i),
    names: (address, list) => r.nameMap.set(address, list),
    statistics: (s) => r.stats.push(s),
  };
  return r;
}

function sampleFrames(): CapturedFrame[] {
  return [
    { bytes: tcpFrame('10.0.0.1', '10.0.0.2', { srcPort: 1234, dstPort: 80, seq: 1, flags: TcpFlag.SYN }), seconds: 1_700_000_000, nanoseconds: 123_456_789 },
    { bytes: udpFrame('10.0.0.2', '10.0.0.1', 53, 5353, 40), seconds: 1_700_000_001, nanoseconds: 5_000 },
    { bytes: tcpFrame('fd00::1', 'fd00::2', { srcPort: 1, dstPort: 2, seq: 3, flags: TcpFlag.ACK, payload: 300 }), seconds: 1_700_000_002, nanoseconds: 999_999_000, originalLength: 1000 },
  ];
}

function tmpFile(name: string, bytes: Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capture-reader-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

describe('pcap: the four magic numbers', () => {
  for (const bigEndian of [false, true]) {
    for (const nanosecond of [false, true]) {
      it(`${bigEndian ? 'big' : 'little'}-endian, ${nanosecond ? 'nano' : 'micro'}seconds`, () => {
        const frames = sampleFrames();
        const sink = recorder();
        const result = readCaptureBytes(pcapFile({ linkType: 1, nanosecond, bigEndian }, frames), sink);
        assert.equal(result.error, undefined);
        assert.deepEqual(result.format, { kind: 'pcap', bigEndian, nanosecond, version: '2.4' });
        assert.equal(sink.frames.length, 3);
        assert.equal(sink.interfaces[0].linkType, 1);
        for (let i = 0; i < 3; i++) {
          assert.equal(sink.frames[i].bytes, Buffer.from(frames[i].bytes).toString('hex'));
          assert.equal(sink.frames[i].seconds, frames[i].seconds);
          assert.equal(sink.frames[i].nanoseconds, nanosecond ? frames[i].nanoseconds : Math.floor(frames[i].nanoseconds / 1000) * 1000);
        }
        assert.equal(sink.frames[2].original, 1000, 'original length kept apart from the captured one');
        assert.equal(sink.frames[0].fileOffset, 24 + 16, 'the frame starts after the file and record headers');
      });
    }
  }

  it('reads the FCS length the link-type field may carry', () => {
    const header = pcapHeader({ linkType: 1 });
    header.writeUInt32LE(1 | 0x04000000 | (2 << 28), 20);
    const sink = recorder();
    readCaptureBytes(Buffer.concat([header, pcapRecord(Buffer.alloc(60), 1, 0)]), sink);
    assert.equal(sink.interfaces[0].linkType, 1);
    assert.equal(sink.interfaces[0].fcsLength, 4);
  });
});

describe('pcapng', () => {
  it('several interfaces with their own link types and timestamp resolutions, both byte orders', () => {
    for (const bigEndian of [false, true]) {
      const interfaces = [
        { linkType: 1, name: 'eth0', resolution: 6 },
        { linkType: 276, name: 'any', resolution: 9 },
        { linkType: 101, name: 'tun0' },
      ];
      const frames = sampleFrames().map((f, i) => ({ ...f, interfaceIndex: i }));
      const sink = recorder();
      const result = readCaptureBytes(pcapngFile({ interfaces, bigEndian }, frames), sink);
      assert.equal(result.error, undefined);
      assert.equal(result.format?.kind, 'pcapng');
      assert.equal(result.format?.bigEndian, bigEndian);
      assert.deepEqual(
        sink.interfaces.map((i) => [i.index, i.linkType, i.name, i.unitsPerSecond]),
        [
          [0, 1, 'eth0', 1e6],
          [1, 276, 'any', 1e9],
          [2, 101, 'tun0', 1e6],
        ],
      );
      assert.deepEqual(
        sink.frames.map((f) => [f.interfaceIndex, f.seconds, f.nanoseconds]),
        [
          [0, 1_700_000_000, 123_456_000],
          [1, 1_700_000_001, 5_000],
          [2, 1_700_000_002, 999_999_000],
        ],
      );
    }
  });

  it('a second section (other byte order) starts its own interfaces, numbered after the first', () => {
    const first = pcapngFile({ interfaces: [{ linkType: 1 }] }, [sampleFrames()[0]]);
    const second = pcapngFile({ interfaces: [{ linkType: 101 }, { linkType: 1, resolution: 9 }], bigEndian: true }, [{ ...sampleFrames()[1], interfaceIndex: 1 }]);
    const sink = recorder();
    const result = readCaptureBytes(Buffer.concat([first, second]), sink);
    assert.equal(result.error, undefined);
    assert.deepEqual(
      sink.interfaces.map((i) => [i.index, i.section, i.linkType]),
      [
        [0, 0, 1],
        [1, 1, 101],
        [2, 1, 1],
      ],
    );
    assert.deepEqual(
      sink.frames.map((f) => f.interfaceIndex),
      [0, 2],
    );
  });

  it('simple packet blocks, name resolution and interface statistics blocks', () => {
    const preamble = pcapngPreamble({ interfaces: [{ linkType: 1, snapLength: 100 }], names: new Map([['10.0.1.9', ['schemaregistry.1.abc', 'schemaregistry']]]) });
    const frame = udpFrame('10.0.0.1', '10.0.0.2', 1, 2, 200);
    // SPB: original length, then the data (cut to the snap length).
    const body = Buffer.alloc(4 + ((frame.length + 3) & ~3));
    body.writeUInt32LE(frame.length, 0);
    frame.copy(body, 4);
    const spb = Buffer.alloc(12 + body.length);
    spb.writeUInt32LE(3, 0);
    spb.writeUInt32LE(spb.length, 4);
    body.copy(spb, 8);
    spb.writeUInt32LE(spb.length, spb.length - 4);
    // ISB: interface 0, a timestamp, ifrecv = 10, ifdrop = 2.
    const isb = Buffer.alloc(12 + 12 + 12 + 12 + 4);
    isb.writeUInt32LE(5, 0);
    isb.writeUInt32LE(isb.length, 4);
    isb.writeUInt32LE(0, 8);
    let o = 20;
    for (const [code, value] of [
      [4, 10],
      [5, 2],
    ]) {
      isb.writeUInt16LE(code, o);
      isb.writeUInt16LE(8, o + 2);
      isb.writeUInt32LE(value, o + 4);
      o += 12;
    }
    isb.writeUInt32LE(isb.length, isb.length - 4);
    const sink = recorder();
    const result = readCaptureBytes(Buffer.concat([preamble, spb, isb, pcapngPacket(frame, 0, 5, 0)]), sink);
    assert.equal(result.error, undefined);
    assert.equal(sink.frames.length, 2);
    assert.equal(sink.frames[0].captured, 100, 'cut to the interface snap length');
    assert.equal(sink.frames[0].original, frame.length);
    assert.deepEqual(sink.nameMap.get('10.0.1.9'), ['schemaregistry.1.abc', 'schemaregistry']);
    assert.deepEqual(sink.stats, [{ interfaceIndex: 0, received: 10, dropped: 2 }]);
  });
});

describe('incremental reading', () => {
  const whole = Buffer.concat([pcapFile({ linkType: 1 }, sampleFrames()), Buffer.alloc(0)]);
  const ng = pcapngFile({ interfaces: [{ linkType: 1, resolution: 9 }] }, sampleFrames());

  for (const [name, bytes] of [
    ['pcap', whole],
    ['pcapng', ng],
  ] as const) {
    it(`${name}: any chunking gives the same packets as the whole file`, () => {
      const reference = recorder();
      readCaptureBytes(bytes, reference);
      let seed = 7;
      const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
      for (const size of [1, 2, 3, 7, 16, 100, 0]) {
        const sink = recorder();
        const reader = new CaptureStreamReader(sink);
        for (let at = 0; at < bytes.length; ) {
          const n = size || 1 + (next() % 200);
          reader.push(bytes.subarray(at, at + n));
          at += n;
        }
        const result = reader.end();
        assert.equal(result.error, undefined, `chunks of ${size || 'random size'}`);
        assert.deepEqual(sink.frames, reference.frames, `chunks of ${size || 'random size'}`);
      }
    });
  }

  it('a packet cut at the end of what has arrived waits for the rest', () => {
    const sink = recorder();
    const reader = new CaptureStreamReader(sink);
    reader.push(whole.subarray(0, whole.length - 10));
    assert.equal(sink.frames.length, 2);
    assert.equal(reader.status().error, undefined, 'not an error while more may come');
    assert.ok(reader.waitingBytes > 0);
    reader.push(whole.subarray(whole.length - 10));
    assert.equal(sink.frames.length, 3);
    assert.equal(reader.end().error, undefined);
  });

  it('the end of the stream inside a packet is a file cut short, with its offset', () => {
    const sink = recorder();
    const reader = new CaptureStreamReader(sink);
    reader.push(whole.subarray(0, whole.length - 10));
    const result = reader.end();
    assert.equal(sink.frames.length, 2);
    const third = 24 + 16 + sampleFrames()[0].bytes.length + 16 + sampleFrames()[1].bytes.length;
    assert.deepEqual(result.error, { offset: third, message: `file cut short: a record of ${16 + sampleFrames()[2].bytes.length} bytes starts here but only ${16 + sampleFrames()[2].bytes.length - 10} bytes follow` });
  });

  it('files: async (reads overlap decoding) and sync, with small chunks, agree with bytes', async () => {
    const file = tmpFile('three.pcapng', ng);
    const reference = recorder();
    readCaptureBytes(ng, reference);
    for (const chunkSize of [5, 64, 1 << 20]) {
      const a = recorder();
      assert.equal((await readCaptureFile(file, a, { chunkSize })).error, undefined);
      assert.deepEqual(a.frames, reference.frames);
      const s = recorder();
      assert.equal(readCaptureFileSync(file, s, { chunkSize }).error, undefined);
      assert.deepEqual(s.frames, reference.frames);
    }
  });

  it('files read ahead by the reader thread: any chunking, pcap and pcapng, errors where the bytes say', async () => {
    const pcap = pcapFile({ linkType: 1 }, sampleFrames());
    // A record the reader thread leaves to the parser (longer than any link allows).
    const refused = Buffer.from(pcap);
    refused.writeUInt32LE(0x7fffffff, 24 + 16 + sampleFrames()[0].bytes.length + 8);
    const files: [string, Buffer][] = [
      ['three.pcapng', ng],
      ['three.pcap', pcap],
      ['three-be-nano.pcap', pcapFile({ linkType: 1, bigEndian: true, nanosecond: true }, sampleFrames())],
      ['three-usb.pcap', pcapFile({ linkType: 220 }, sampleFrames())],
      ['refused.pcap', refused],
    ];
    for (const [name, bytes] of files) {
      const file = tmpFile(name, bytes);
      const reference = recorder();
      const expected = readCaptureBytes(bytes, reference);
      for (const chunkSize of [5, 64, 1 << 20]) {
        const a = recorder();
        const result = await readCaptureFile(file, a, { chunkSize, readerThread: true });
        assert.deepEqual(a.frames, reference.frames, `${name}, chunks of ${chunkSize}`);
        assert.deepEqual(result, expected);
      }
      // Cut inside the last record, or inside its header: the same error, at the same offset,
      // either way.
      for (const cutBy of [10, bytes.length - (24 + 16 + sampleFrames()[0].bytes.length + 16 + sampleFrames()[1].bytes.length + 7)]) {
        const cut = tmpFile(`cut-${cutBy}-${name}`, bytes.subarray(0, bytes.length - cutBy));
        for (const chunkSize of [7, 64, 1 << 20]) {
          const viaPool = await readCaptureFile(cut, recorder(), { chunkSize, readerThread: false });
          const viaThread = await readCaptureFile(cut, recorder(), { chunkSize, readerThread: true });
          assert.ok(viaThread.error, `${name} cut by ${cutBy}`);
          assert.deepEqual(viaThread, viaPool, `${name} cut by ${cutBy}, chunks of ${chunkSize}`);
        }
      }
    }
  });

  it('a big file read ahead by the reader thread while another is read through the pool, and a read stopped early', async () => {
    // 8 MB of frames of every size, so that records straddle the 1 MiB chunks at every offset.
    const frames: CapturedFrame[] = [];
    for (let i = 0, size = 0; size < 8_000_000; i++) {
      const bytes = udpFrame('10.0.0.1', '10.0.0.2', 1000 + (i % 50), 2000, i % 1400);
      frames.push({ bytes, seconds: 1_700_000_000 + i, nanoseconds: i });
      size += 16 + bytes.length;
    }
    const bytes = pcapFile({ linkType: 1 }, frames);
    const file = tmpFile('big.pcap', bytes);
    const reference = recorder();
    readCaptureBytes(bytes, reference);
    const [a, b] = [recorder(), recorder()];
    // Both at once: one gets the reader thread, the other reads through the pool.
    const [ra, rb] = await Promise.all([readCaptureFile(file, a), readCaptureFile(file, b)]);
    assert.equal(ra.packets, frames.length);
    assert.equal(rb.packets, frames.length);
    assert.ok(a.frames.length === frames.length && b.frames.length === frames.length);
    for (let i = 0; i < frames.length; i += 997) {
      assert.deepEqual(a.frames[i], reference.frames[i]);
      assert.deepEqual(b.frames[i], reference.frames[i]);
    }
    // Stopped at the first turn given to the event loop once packets came: fewer packets, no
    // error, and the thread is free again for the next file.
    const controller = new AbortController();
    const stopped = recorder();
    const progress = (_bytes: number, packets: number) => {
      if (packets > 0) controller.abort();
    };
    const partial = await readCaptureFile(file, stopped, { signal: controller.signal, yieldMs: 0, progress, readerThread: true });
    assert.ok(partial.packets > 0 && partial.packets < frames.length, `${partial.packets} packets`);
    assert.equal(partial.error, undefined);
    const again = recorder();
    assert.equal((await readCaptureFile(file, again, { readerThread: true })).packets, frames.length);
    assert.deepEqual(again.frames[frames.length - 1], reference.frames[frames.length - 1]);
  });

  it('follows a capture being written, until told to stop', async () => {
    const file = tmpFile('growing.pcap', Buffer.alloc(0));
    const frames = Array.from({ length: 30 }, (_, i) => ({ bytes: udpFrame('10.0.0.1', '10.0.0.2', 1000 + i, 53, 20 + i), seconds: 1_700_000_000 + i, nanoseconds: 0 }));
    const bytes = pcapFile({ linkType: 1 }, frames);
    const sink = recorder();
    const controller = new AbortController();
    const following = followCaptureFile(file, sink, { signal: controller.signal, pollMs: 5 });
    // The writer appends in odd-sized pieces, cutting records in the middle.
    for (let at = 0; at < bytes.length; at += 37) {
      fs.appendFileSync(file, bytes.subarray(at, at + 37));
      await new Promise((r) => setTimeout(r, 2));
    }
    for (let waited = 0; sink.frames.length < 30 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const result = await following;
    assert.equal(sink.frames.length, 30);
    assert.equal(result.error, undefined);
  });
});

describe('malformed input: a clear error with the offset, the packets before it kept', () => {
  const good = pcapFile({ linkType: 1 }, sampleFrames());

  it('empty file, short header, unknown magic', () => {
    assert.deepEqual(readCaptureBytes(Buffer.alloc(0), recorder()).error, { offset: 0, message: 'empty file: no capture header' });
    assert.match(readCaptureBytes(good.subarray(0, 10), recorder()).error!.message, /too short for a capture header/);
    assert.deepEqual(readCaptureBytes(Buffer.from('GIF89a......................'), recorder()).error, { offset: 0, message: 'not a pcap or pcapng file (magic number 0x47494638)' });
  });

  it('a record bigger than any link allows', () => {
    const bad = Buffer.from(good);
    const second = 24 + 16 + sampleFrames()[0].bytes.length;
    bad.writeUInt32LE(0x7fffffff, second + 8);
    const sink = recorder();
    const result = readCaptureBytes(bad, sink);
    assert.equal(sink.frames.length, 1);
    assert.deepEqual(result.error, { offset: second, message: 'packet 2: captured length 2147483647 is bigger than the maximum of 262144' });
  });

  it('pcapng: a block length that is not a multiple of 4, a trailer that disagrees, an unknown interface', () => {
    const ng = pcapngFile({ interfaces: [{ linkType: 1 }] }, sampleFrames());
    const firstEpb = pcapngPreamble({ interfaces: [{ linkType: 1 }] }).length;
    const odd = Buffer.from(ng);
    odd.writeUInt32LE(odd.readUInt32LE(firstEpb + 4) + 1, firstEpb + 4);
    assert.match(readCaptureBytes(odd, recorder()).error!.message, /not a multiple of 4/);
    assert.equal(readCaptureBytes(odd, recorder()).error!.offset, firstEpb + 4);

    const trailer = Buffer.from(ng);
    const length = trailer.readUInt32LE(firstEpb + 4);
    trailer.writeUInt32LE(length + 4, firstEpb + length - 4);
    const sink = recorder();
    const result = readCaptureBytes(trailer, sink);
    assert.equal(sink.frames.length, 0);
    assert.match(result.error!.message, /trailing length \d+ differs from the leading/);

    const unknown = Buffer.from(ng);
    const secondEpb = firstEpb + length;
    unknown.writeUInt32LE(7, secondEpb + 8);
    const kept = recorder();
    const r = readCaptureBytes(unknown, kept);
    assert.equal(kept.frames.length, 1);
    assert.deepEqual(r.error, { offset: secondEpb + 8, message: 'pcapng enhanced packet block: interface 7 was not described (the section has 1)' });
  });

  it('never loops on a zero-length block', () => {
    const ng = Buffer.from(pcapngFile({ interfaces: [{ linkType: 1 }] }, sampleFrames()));
    ng.writeUInt32LE(0, 28 + 4);
    const result = readCaptureBytes(ng, recorder());
    assert.match(result.error!.message, /smaller than 12/);
  });
});
