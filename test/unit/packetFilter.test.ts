// Display filters against a real capture recorded on the lab (the incident: sourcemysql refused by
// an RST, connect served), so the fields are checked on real SLL2 frames.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { packetPredicate } from '../../src/capture/packetFilter';
import { CaptureFile, indexCaptureFileSync } from '../../src/capture/packetIndex';

const INCIDENT = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'viewer', 'incident.pcap');
const index = indexCaptureFileSync(INCIDENT);
const file = new CaptureFile(INCIDENT);

function compile(filter: string) {
  return packetPredicate(filter, file);
}

function numbers(filter: string): number[] {
  const compiled = compile(filter);
  if (!compiled.ok) throw new Error(compiled.error);
  const out: number[] = [];
  for (let i = 0; i < index.count; i++) if (!compiled.predicate || compiled.predicate(index, i)) out.push(i + 1);
  return out;
}

describe('display filters on the recorded incident', () => {
  it('reads the capture: 14 packets', () => assert.equal(index.count, 14));

  it('addresses, with sides and networks', () => {
    assert.deepEqual(numbers('ip.addr == 10.0.1.10'), [1, 2]);
    assert.deepEqual(numbers('ip.src == 10.0.1.10'), [1]);
    assert.deepEqual(numbers('ip.dst == 10.0.1.10'), [2]);
    assert.equal(numbers('ip.addr == 10.0.1.0/24').length, 14);
    assert.deepEqual(numbers('ip.addr != 10.0.1.10'), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('TCP flags and ports', () => {
    assert.deepEqual(numbers('tcp.flags.reset'), [2]);
    assert.deepEqual(numbers('tcp.flags.syn == 1 && !tcp.flags.ack'), [1, 3]);
    assert.deepEqual(numbers('tcp.flags.syn and tcp.flags.ack'), [4]);
    assert.deepEqual(numbers('tcp.flags.fin'), [12, 13]);
    assert.equal(numbers('tcp.port == 8081').length, 14);
    assert.deepEqual(numbers('tcp.srcport == 8081 && ip.dst == 10.0.1.10'), [2]);
    assert.deepEqual(numbers('udp'), []);
  });

  it('frame fields, parentheses, not', () => {
    assert.deepEqual(numbers('frame.number <= 3'), [1, 2, 3]);
    assert.deepEqual(numbers('(tcp.flags.reset || tcp.flags.fin) && not ip.src == 10.0.1.9'), [2, 12]);
    assert.deepEqual(numbers('frame.len > 200'), [8]);
  });

  it('errors say what and where; an empty filter passes everything', () => {
    for (const bad of ['ip.addr == ', 'tcp.port == 80 && foo.bar', '(tcp', 'ip.addr == 999.1.1.1']) {
      const compiled = compile(bad);
      assert.equal(compiled.ok, false, bad);
      assert.match(!compiled.ok ? compiled.error : '', /\(at \d+\)$/, `${bad}: the error says where`);
    }
    assert.deepEqual(numbers('   ').length, 14);
  });
});
