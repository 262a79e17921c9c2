import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ManagerCaptureDecoder, type ManagerCaptureEvent } from '../../src/recorder/managerFraming';
import { PcapRecordWriter, PcapStreamError } from '../../src/recorder/pcapRecordWriter';
import { defaultCaptureFileName, sanitiseFileName } from '../../src/recorder/captureSession';

function pcap(records: number[], littleEndian = true): Buffer {
  const header = Buffer.alloc(24);
  if (littleEndian) {
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(262144, 16);
    header.writeUInt32LE(276, 20);
  } else {
    header.writeUInt32BE(0xa1b2c3d4, 0);
    header.writeUInt16BE(2, 4);
    header.writeUInt16BE(4, 6);
    header.writeUInt32BE(262144, 16);
    header.writeUInt32BE(1, 20);
  }
  const parts = [header];
  records.forEach((length, i) => {
    const rh = Buffer.alloc(16);
    const w = (v: number, o: number) => (littleEndian ? rh.writeUInt32LE(v, o) : rh.writeUInt32BE(v, o));
    w(1000 + i, 0);
    w(0, 4);
    w(length, 8);
    w(length, 12);
    parts.push(rh, Buffer.alloc(length, i + 1));
  });
  return Buffer.concat(parts);
}

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rec-')), 'x.pcap');

describe('pcap record writer', () => {
  it('writes only whole records, whatever the chunking, in both byte orders', () => {
    for (const le of [true, false]) {
      const stream = pcap([60, 1500, 42], le);
      const file = tmp();
      const writer = new PcapRecordWriter(file);
      for (let i = 0; i < stream.length; i += 7) writer.push(stream.subarray(i, i + 7));
      writer.close();
      assert.equal(writer.packets, 3);
      assert.deepEqual(fs.readFileSync(file), stream);
    }
  });

  it('keeps the file valid when the stream stops inside a record', () => {
    const stream = pcap([100, 200]);
    const file = tmp();
    const writer = new PcapRecordWriter(file);
    writer.push(stream.subarray(0, stream.length - 50));
    writer.close();
    assert.equal(writer.packets, 1);
    assert.equal(writer.partialBytes, 16 + 200 - 50);
    assert.deepEqual(fs.readFileSync(file), stream.subarray(0, 24 + 16 + 100));
  });

  it('refuses what is not a pcap stream, and says why a file cannot be written', () => {
    const writer = new PcapRecordWriter(tmp());
    assert.throws(() => writer.push(Buffer.from('tcpdump: eth9: No such device exists\n')), (e: PcapStreamError) => /does not start with a pcap header/.test(e.message));
    writer.close();
    assert.throws(() => new PcapRecordWriter('/nonexistent-folder/x.pcap'), /the folder of \/nonexistent-folder\/x\.pcap does not exist/);
    const file = tmp();
    fs.writeFileSync(file, 'x');
    assert.throws(() => new PcapRecordWriter(file), /exists already/);
    const corrupt = pcap([10]);
    corrupt.writeUInt32LE(50_000_000, 24 + 8);
    const w2 = new PcapRecordWriter(tmp());
    assert.throws(() => w2.push(corrupt), /claims 50000000 bytes/);
    w2.close();
  });
});

describe('manager capture framing', () => {
  it('decodes data lines in any chunking, checks offsets, passes messages and the exit line', () => {
    const events: ManagerCaptureEvent[] = [];
    const decoder = new ManagerCaptureDecoder((e) => events.push(e));
    const a = Buffer.from([0, 1, 2, 255]);
    const b = Buffer.from('more bytes');
    const text = `E tcpdump: listening on any\nD 0 ${a.toString('base64')}\nD 4 ${b.toString('base64')}\nX 0 abc123\n`;
    for (const ch of text) decoder.push(Buffer.from(ch, 'latin1'));
    assert.deepEqual(events.map((e) => e.kind), ['message', 'data', 'data', 'exit']);
    assert.deepEqual(Buffer.concat(events.filter((e) => e.kind === 'data').map((e) => (e as { bytes: Buffer }).bytes)), Buffer.concat([a, b]));
    assert.deepEqual(events[3], { kind: 'exit', status: 0, sha256: 'abc123' });
    assert.equal(decoder.received, 14);
    assert.throws(() => decoder.push(Buffer.from(`D 99 ${a.toString('base64')}\n`)), /skipped bytes: expected offset 14, got 99/);
  });
});

describe('capture file names', () => {
  it('are safe whatever the names hold', () => {
    assert.equal(sanitiseFileName('../../etc/passwd'), 'etc_passwd');
    assert.equal(sanitiseFileName('web.1; rm -rf /'), 'web.1_rm_-rf_');
    const name = defaultCaptureFileName({ ns: 'sandbox', node: { id: 'n', hostname: 'swarm02', address: '' }, task: { id: 't', name: 'sourcemysql.1', containerId: 'c', addresses: [] } }, new Date('2026-11-26T13:45:07.123Z'));
    assert.equal(name, 'swarm02-sourcemysql.1-20261126-134507Z.pcap');
  });
});
