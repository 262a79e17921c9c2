// Two editor panels on one capture (a split): each has its own filter, time format and
// generation; neither changes what the other shows.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { TcpFlag, tcpFrame, udpFrame } from '../../src/capture/frameBuilder';
import { CaptureFile, indexCaptureFileSync } from '../../src/capture/packetIndex';
import { packetPredicate } from '../../src/capture/packetFilter';
import { pcapHeader, pcapRecord } from '../../src/capture/pcapWriter';
import { CaptureView, type CaptureSource } from '../../src/extension/viewer/captureView';

describe('packet viewer panels on one capture', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-panels-'));
  const file = path.join(folder, 'split.pcap');
  // 1: SYN, 2: RST,ACK back, 3: a DNS query, 4: another SYN.
  fs.writeFileSync(
    file,
    Buffer.concat([
      pcapHeader({ linkType: 1 }),
      pcapRecord(tcpFrame('10.0.1.3', '10.0.1.2', { srcPort: 40000, dstPort: 8081, seq: 1, flags: TcpFlag.SYN }), 1_700_000_000, 0),
      pcapRecord(tcpFrame('10.0.1.2', '10.0.1.3', { srcPort: 8081, dstPort: 40000, seq: 0, ack: 2, flags: TcpFlag.RST | TcpFlag.ACK }), 1_700_000_000, 500),
      pcapRecord(udpFrame('10.0.1.3', '10.0.0.2', 5353, 53, 30), 1_700_000_001, 0),
      pcapRecord(tcpFrame('10.0.1.4', '10.0.1.2', { srcPort: 40001, dstPort: 8081, seq: 9, flags: TcpFlag.SYN }), 1_700_000_002, 0),
    ]),
  );
  const index = indexCaptureFileSync(file);
  const captureFile = new CaptureFile(file);
  const source: CaptureSource = { index, captureFile, label: (address) => (address === '10.0.1.2' ? `${address} (schemaregistry.1 on swarm00)` : address) };
  after(() => {
    captureFile.close();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('each panel filters on its own', () => {
    const left = new CaptureView(source);
    const right = new CaptureView(source);
    const reset = packetPredicate('tcp.flags.reset == 1', captureFile);
    assert.ok(reset.ok);
    left.setFilter(reset.predicate);
    assert.equal(left.shownCount, 1);
    assert.deepEqual(left.rows(0, 10).map((r) => r.number), [2]);
    assert.equal(right.shownCount, 4, 'the other panel still shows every packet');
    assert.deepEqual(right.rows(0, 10).map((r) => r.number), [1, 2, 3, 4]);
    const udp = packetPredicate('udp', captureFile);
    assert.ok(udp.ok);
    right.setFilter(udp.predicate);
    assert.deepEqual(right.rows(0, 10).map((r) => r.number), [3]);
    assert.deepEqual(left.rows(0, 10).map((r) => r.number), [2], 'and the first keeps its own');
    assert.deepEqual(Array.from(left.shownIndices()), [1]);
    assert.deepEqual(left.place(3), { number: 3, position: 1, shown: false }, 'packet 3 is hidden on the left');
    assert.deepEqual(right.place(3), { number: 3, position: 0, shown: true }, 'and shown on the right, at its first row');
  });

  it('each panel has its own time format and generation; rows carry the swarm names', () => {
    const left = new CaptureView(source);
    const right = new CaptureView(source);
    const before = right.generation;
    left.timeFormat = 'delta';
    assert.equal(right.generation, before, 'the other panel keeps its generation (its answers stay valid)');
    assert.ok(left.generation > before);
    assert.equal(left.rows(1, 1)[0].time, '0.000500');
    assert.equal(right.rows(1, 1)[0].time, '0.000500', 'relative to the first packet, which here equals the delta');
    assert.equal(right.rows(3, 1)[0].time, '2.000000');
    assert.equal(left.rows(3, 1)[0].time, '1.000000');
    assert.equal(left.rows(0, 1)[0].destination, '10.0.1.2 (schemaregistry.1 on swarm00)');
  });
});
