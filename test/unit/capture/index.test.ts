import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { compileFilter, filterPackets } from '../../../src/capture/filter';
import { CaptureFile, INDEX_BYTES_PER_PACKET, PacketIndex, followCaptureIndex, indexCaptureBytes, indexCaptureFile, indexCaptureFileSync, streamIndexer } from '../../../src/capture/packetIndex';
import { TcpFlag, tcpFrame, udpDatagram, udpFrame, ethernetFrame, ipv4Packet, vxlanPayload } from '../../../src/capture/frameBuilder';
import { CapturedFrame, exportPackets, pcapFile } from '../../../src/capture/pcapWriter';
import { generateCapture } from '../../../bench/captureBench';
import { CORPUS, FIXTURES } from './tshark';

const verdicts = path.join(FIXTURES, 'captures', 'tcp-verdicts.pcap');
const protocols = path.join(FIXTURES, 'captures', 'protocols.pcapng');

/** The per-packet columns, for comparing two indexes. */
function columns(index: PacketIndex) {
  const n = index.count;
  return {
    count: n,
    fileOffset: Array.from(index.fileOffset.subarray(0, n)),
    time: Array.from(index.time.subarray(0, n)),
    lengths: Array.from(index.originalLength.subarray(0, n)),
    conversation: Array.from(index.conversation.subarray(0, n)),
    related: Array.from(index.related.subarray(0, n)),
    analysis: Array.from(index.analysis.subarray(0, n)),
    layers: Array.from(index.layers.subarray(0, n)),
    marks: Array.from(index.marks.subarray(0, n)),
    capturedLength: Array.from(index.capturedLength.subarray(0, n)),
    tcpFlags: Array.from(index.tcpFlags.subarray(0, n)),
    protocol: Array.from(index.protocol.subarray(0, n)),
    interfaceIndex: Array.from(index.interfaceIndex.subarray(0, n)),
  };
}

/** Everything an index holds: its columns, its conversations (with their TCP facts), and what
 *  it tells the details view about each packet (relative numbers, window shift, analysis). */
function everything(index: PacketIndex) {
  const contexts = [];
  for (let i = 0; i < index.count; i++) contexts.push(index.contextOf(i));
  return { columns: columns(index), conversations: index.conversationSummaries(), contexts, error: index.error };
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
    // Read ahead by the reader thread, in chunks small enough that records straddle them.
    assert.deepEqual(columns(await indexCaptureFile(protocols, { chunkSize: 100, readerThread: true })), reference);
    assert.deepEqual(columns(await indexCaptureFile(protocols, { readerThread: true })), reference);
    assert.deepEqual(columns(indexCaptureBytes(bytes)), reference);
    const stream = streamIndexer();
    for (let at = 0; at < bytes.length; at += 13) stream.push(bytes.subarray(at, at + 13));
    assert.deepEqual(columns(stream.end()), reference);
  });

  it('the fast path (Ethernet, IPv4, TCP, UDP, VXLAN) indexes exactly as the general decoder does', async () => {
    assert.ok(fs.existsSync(CORPUS), `the capture corpus folder was not found at ${CORPUS}`);
    const files = [
      ...fs.readdirSync(CORPUS).filter((n) => /\.pcap(ng)?$/.test(n)).map((n) => path.join(CORPUS, n)),
      ...fs.readdirSync(path.join(FIXTURES, 'captures')).map((n) => path.join(FIXTURES, 'captures', n)),
    ];
    // The benchmark's capture too (overlay traffic, retransmissions, resets, DNS), made small.
    const generated = tmp('generated.pcap');
    generateCapture(generated, 30_000, 300);
    files.push(generated);
    // Read ahead by the reader thread, which finds the records itself (the file is big enough).
    assert.deepEqual(everything(await indexCaptureFile(generated)), everything(indexCaptureFileSync(generated, { generalDecoderOnly: true })));
    for (const file of files) {
      const options = /vxlan-port-(\d+)/.test(file) ? { vxlanPorts: [Number(/vxlan-port-(\d+)/.exec(file)![1])] } : {};
      const general = everything(indexCaptureFileSync(file, { ...options, generalDecoderOnly: true }));
      assert.deepEqual(everything(indexCaptureFileSync(file, options)), general, path.basename(file));
      // Read ahead by the reader thread, which runs the fast path itself on pcap records.
      assert.deepEqual(everything(await indexCaptureFile(file, { ...options, readerThread: true })), general, `${path.basename(file)}, read ahead`);
    }
  });

  it('the fast path agrees with the general decoder on frames cut at every byte and with every header byte altered', async () => {
    // Frames the fast path takes, and each of them cut short at every length and with each
    // header byte replaced by values that push its checks over their edges.
    const vxlan = (inner: Buffer, srcPort = 40001) => ethernetFrame(0x0800, ipv4Packet('10.99.0.10', '10.99.0.11', 17, udpDatagram('10.99.0.10', '10.99.0.11', srcPort, 4789, vxlanPayload(4097, inner))));
    const dnsTcp = tcpFrame('10.0.0.1', '10.0.0.254', { srcPort: 40000, dstPort: 53, seq: 7, ack: 9, flags: TcpFlag.ACK | TcpFlag.PSH, payload: 14 });
    const bases = [
      tcpFrame('10.0.0.1', '10.0.1.2', { srcPort: 40000, dstPort: 80, seq: 1000, flags: TcpFlag.SYN, options: { mss: 1460, sackPermitted: true, timestamps: [1, 0], windowScale: 7 } }),
      tcpFrame('10.0.1.2', '10.0.0.1', { srcPort: 80, dstPort: 40000, seq: 5000, ack: 1001, flags: TcpFlag.SYN | TcpFlag.ACK, options: { windowScale: 15 } }),
      tcpFrame('10.0.0.1', '10.0.1.2', { srcPort: 40000, dstPort: 80, seq: 1001, ack: 5001, flags: TcpFlag.ACK, payload: 3 }),
      dnsTcp,
      udpFrame('10.0.0.1', '10.0.0.254', 5353, 5353, 12),
      udpFrame('10.0.0.1', '10.0.0.254', 1234, 53, 13),
      udpFrame('10.0.0.1', '10.0.0.2', 1234, 5678, 4),
      vxlan(tcpFrame('10.0.0.1', '10.0.1.2', { srcPort: 40000, dstPort: 80, seq: 1000, flags: TcpFlag.SYN, options: { windowScale: 2 } })),
      vxlan(udpFrame('10.0.0.1', '10.0.0.254', 1234, 53, 12), 40002),
      vxlan(vxlan(udpFrame('10.0.0.1', '10.0.0.2', 1, 2, 0)), 40003),
    ];
    const frames: CapturedFrame[] = [];
    let second = 1;
    const add = (bytes: Buffer, originalLength = bytes.length) => frames.push({ bytes, seconds: second++, nanoseconds: 0, originalLength });
    for (const base of bases) {
      // Each one whole first (so later ones find conversations), then cut at every length.
      add(base);
      for (let cut = 0; cut < base.length; cut++) add(base.subarray(0, cut), base.length);
      // Padding after the IP packet, and a frame whose recorded length is smaller than captured.
      add(Buffer.concat([base, Buffer.alloc(6)]));
      add(base, base.length - 1);
      for (let at = 12; at < Math.min(base.length, 14 + 20 + 8 + 8 + 14 + 20 + 32); at++) {
        for (const value of [0x00, 0xff, (base[at] + 1) & 0xff, (base[at] - 1) & 0xff, base[at] ^ 0x40, base[at] ^ 0x20, 0x45, 0x50, 0x08, 0x11, 0x06, 0x03]) {
          const altered = Buffer.from(base);
          altered[at] = value;
          add(altered);
        }
      }
    }
    const file = tmp('edges.pcap');
    fs.writeFileSync(file, pcapFile({ linkType: 1, nanosecond: false }, frames));
    const fast = indexCaptureFileSync(file);
    assert.equal(fast.count, frames.length);
    const general = everything(indexCaptureFileSync(file, { generalDecoderOnly: true }));
    assert.deepEqual(everything(fast), general);
    assert.deepEqual(everything(await indexCaptureFile(file, { readerThread: true })), general, 'read ahead');
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
