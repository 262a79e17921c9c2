import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { compileFilter, filterPackets } from '../../../src/capture/filter';
import { CaptureFile, INDEX_BYTES_PER_PACKET, PacketIndex, followCaptureIndex, indexCaptureBytes, indexCaptureFile, indexCaptureFileSync, streamIndexer } from '../../../src/capture/packetIndex';
import { exportPackets } from '../../../src/capture/pcapWriter';
import { FIXTURES } from './tshark';

const verdicts = path.join(FIXTURES, 'captures', 'tcp-verdicts.pcap');
const protocols = path.join(FIXTURES, 'captures', 'protocols.pcapng');

/** The per-packet columns, for comparing two indexes. */
function columns(index: PacketIndex) {
  const n = index.count;
  return {
    fileOffset: Array.from(index.fileOffset.subarray(0, n)),
    time: Array.from(index.time.subarray(0, n)),
    lengths: Array.from(index.originalLength.subarray(0, n)),
    conversation: Array.from(index.conversation.subarray(0, n)),
    related: Array.from(index.related.subarray(0, n)),
    analysis: Array.from(index.analysis.subarray(0, n)),
    layers: Array.from(index.layers.subarray(0, n)),
    marks: Array.from(index.marks.subarray(0, n)),
  };
}

function tmp(name: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capture-index-')), name);
}

describe('packet index', () => {
  it(`keeps ${INDEX_BYTES_PER_PACKET} bytes per packet (the target is at most 48)`, () => {
    assert.ok(INDEX_BYTES_PER_PACKET <= 48);
    const index = indexCaptureFileSync(verdicts);
    index.trim();
    assert.equal(index.allocatedBytes, index.count * INDEX_BYTES_PER_PACKET);
  });

  it('the same index from a file (async, sync), from bytes, and from a stream in small pieces', async () => {
    const bytes = fs.readFileSync(protocols);
    const reference = columns(indexCaptureFileSync(protocols));
    assert.deepEqual(columns(await indexCaptureFile(protocols, { chunkSize: 100 })), reference);
    assert.deepEqual(columns(indexCaptureBytes(bytes)), reference);
    const stream = streamIndexer();
    for (let at = 0; at < bytes.length; at += 13) stream.push(bytes.subarray(at, at + 13));
    assert.deepEqual(columns(stream.end()), reference);
  });

  it('a live capture: the index grows while the file is written', async () => {
    const file = tmp('live.pcap');
    const bytes = fs.readFileSync(verdicts);
    fs.writeFileSync(file, bytes.subarray(0, 24));
    const live = followCaptureIndex(file, { pollMs: 5 });
    const seen: number[] = [];
    for (let at = 24; at < bytes.length; at += 500) {
      fs.appendFileSync(file, bytes.subarray(at, at + 500));
      await new Promise((r) => setTimeout(r, 15));
      seen.push(live.index.count);
    }
    for (let waited = 0; live.index.count < 46 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    const index = await live.stop();
    assert.equal(index.count, 46);
    assert.ok(seen.some((n) => n > 0 && n < 46), 'rows appeared before the capture ended');
    assert.deepEqual(columns(index), columns(indexCaptureFileSync(verdicts)));
  });

  it('rows for the list: columns decoded from the file, coloured by what they are', () => {
    const index = indexCaptureFileSync(verdicts);
    const capture = new CaptureFile(verdicts);
    try {
      const rows = capture.rows(index, 10, 13);
      assert.deepEqual(
        rows.map((r) => [r.number, r.source, r.destination, r.protocol, r.length, r.colour]),
        [
          [11, '10.0.1.5', '10.0.1.9', 'TCP', 58, 'syn'],
          [12, '10.0.1.9', '10.0.1.5', 'TCP', 54, 'rst'],
          [13, '10.0.1.5', '10.0.1.77', 'TCP', 58, 'syn'],
        ],
      );
      assert.equal(rows[1].info, '8081 → 40002 [RST, ACK] Seq=1 Ack=1 Win=0 Len=0');
      assert.equal(capture.row(index, 40).colour, 'icmp-error');
      assert.equal(rows[0].relativeTime, 0.028);
    } finally {
      capture.close();
    }
  });

  it('exports the filtered packets as a capture that reads back the same', () => {
    const index = indexCaptureFileSync(protocols);
    const capture = new CaptureFile(protocols);
    const out = tmp('export.pcapng');
    try {
      const selected = filterPackets(index, compileFilter('tcp or arp'));
      exportPackets(index, capture, selected, out, new Map([['10.0.5.7', ['schemaregistry.1.x1y2']]]));
      const exported = indexCaptureFileSync(out);
      assert.equal(exported.count, selected.length);
      assert.equal(exported.addressNames.get('10.0.5.7')?.[0], 'schemaregistry.1.x1y2', 'names go into a name resolution block');
      const back = new CaptureFile(out);
      try {
        for (let k = 0; k < selected.length; k++) {
          assert.ok(back.frameBytes(exported, k).equals(Buffer.from(capture.frameBytes(index, selected[k]))));
          assert.deepEqual(exported.timeOf(k), index.timeOf(selected[k]));
        }
      } finally {
        back.close();
      }
    } finally {
      capture.close();
    }
  });
});
