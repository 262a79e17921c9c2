// Display filters against a real capture recorded on the lab (the incident: sourcemysql refused by
// an RST, connect served), so the fields are checked on real SLL2 frames.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { compileDisplayFilter } from '../../src/capture/displayFilter';
import { indexCaptureFileSync } from '../../src/capture/packetIndex';

const INCIDENT = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'viewer', 'incident.pcap');
const index = indexCaptureFileSync(INCIDENT);

function numbers(filter: string): number[] {
  const compiled = compileDisplayFilter(filter);
  if (!compiled.ok) throw new Error(compiled.error);
  const out: number[] = [];
  for (let i = 0; i < index.count; i++) if (compiled.predicate(index, i)) out.push(i + 1);
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

  it('errors say what and where', () => {
    const bad = compileDisplayFilter('ip.addr == ');
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.error : '', /a value expected after "=="/);
    const unknown = compileDisplayFilter('tcp.port == 80 && foo.bar');
    assert.match(!unknown.ok ? unknown.error : '', /unknown field or protocol "foo.bar" \(at 19\)/);
    assert.match(!compileDisplayFilter('(tcp').ok ? (compileDisplayFilter('(tcp') as { error: string }).error : '', /"\)" expected/);
    assert.match((compileDisplayFilter('ip.addr == 999.1.1.1') as { error: string }).error, /not an IP address/);
    assert.match((compileDisplayFilter('tcp.analysis.nonsense') as { error: string }).error, /unknown TCP analysis flag/);
    assert.equal(compileDisplayFilter('   ').ok, true);
  });
});
