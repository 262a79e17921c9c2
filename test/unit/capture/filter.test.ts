import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FilterError, compileFilter, filterPackets } from '../../../src/capture/filter';
import { CaptureFile, indexCaptureFileSync } from '../../../src/capture/packetIndex';
import { FIXTURES } from './tshark';

const verdicts = path.join(FIXTURES, 'captures', 'tcp-verdicts.pcap');
const protocols = path.join(FIXTURES, 'captures', 'protocols.pcapng');
const analysis = path.join(FIXTURES, 'captures', 'tcp-analysis.pcap');

/** Packet numbers (1-based) matching a filter. */
function numbers(file: string, text: string): number[] {
  const index = indexCaptureFileSync(file);
  const capture = new CaptureFile(file);
  try {
    return [...filterPackets(index, compileFilter(text), (i) => capture.details(index, i))].map((i) => i + 1);
  } finally {
    capture.close();
  }
}

describe('filter language', () => {
  it('protocol names, including those inside a tunnel or an ICMP error', () => {
    assert.deepEqual(numbers(protocols, 'arp'), [3, 4]);
    assert.deepEqual(numbers(protocols, 'dns'), [5, 6, 7]);
    assert.deepEqual(numbers(protocols, 'vxlan'), [17]);
    assert.deepEqual(numbers(protocols, 'icmp'), [13, 16]);
    assert.deepEqual(numbers(protocols, 'icmpv6'), [15]);
    assert.deepEqual(numbers(protocols, 'tcp'), [11, 14, 15, 17, 18, 19], 'the quoted TCP of the ICMPv6 error and the inner TCP of VXLAN count');
    assert.deepEqual(numbers(protocols, 'vlan'), [1, 2]);
    assert.deepEqual(numbers(protocols, 'sll'), [18, 19, 22]);
  });

  it('addresses: ip.addr, ip.src, ip.dst, prefixes, IPv6; outer and inner headers alike', () => {
    assert.deepEqual(numbers(verdicts, 'ip.dst == 10.0.1.77'), [13, 14, 15]);
    assert.deepEqual(numbers(verdicts, 'ip.src == 10.0.1.1'), [41], 'the router that sent the ICMP error');
    assert.deepEqual(numbers(verdicts, 'ip.addr == 10.0.9.9'), [40, 41], 'the SYN and the ICMP error that quotes it');
    assert.equal(numbers(verdicts, 'ip.addr == 10.0.1.0/24').length, 46);
    assert.deepEqual(numbers(protocols, 'ip.addr == 10.0.5.7'), [17, 18, 19], 'VXLAN inner and SLL2 packets');
    assert.deepEqual(numbers(protocols, 'ip.addr == 10.99.0.10'), [17], 'VXLAN outer header');
    assert.deepEqual(numbers(protocols, 'ipv6.src == fd00::fe'), [15]);
    assert.deepEqual(numbers(protocols, 'ipv6.addr == fd00::/16 and udp'), [2, 7]);
  });

  it('ports and TCP flags, with and/or/not and parentheses', () => {
    assert.deepEqual(numbers(verdicts, 'tcp.flags.reset'), [12, 21, 27]);
    assert.deepEqual(numbers(verdicts, 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 8081 && ip.dst == 10.0.1.77'), [13, 14, 15]);
    assert.deepEqual(numbers(verdicts, 'tcp.port == 40004 and (tcp.flags.fin or tcp.flags.reset)'), [21]);
    assert.deepEqual(numbers(verdicts, 'tcp.srcport == 40009 && !tcp.flags.push'), [45]);
    assert.deepEqual(numbers(protocols, 'udp.port == 53 || udp.srcport == 5000'), [1, 2, 5, 6, 7]);
    assert.deepEqual(numbers(verdicts, 'tcp.flags == 0x0014'), [12, 21, 27]);
    assert.deepEqual(numbers(verdicts, 'icmp'), [41]);
    assert.deepEqual(numbers(verdicts, 'not tcp'), [], 'the ICMP error quotes a TCP header: it is TCP too, as in Wireshark');
  });

  it('TCP analysis flags and streams', () => {
    assert.deepEqual(numbers(analysis, 'tcp.analysis.retransmission'), [5, 7, 18, 65], 'as Wireshark: fast and spurious ones too');
    assert.deepEqual(numbers(analysis, 'tcp.analysis.fast_retransmission'), [18]);
    assert.deepEqual(numbers(analysis, 'tcp.analysis.duplicate_ack'), [16, 17]);
    assert.deepEqual(numbers(analysis, 'tcp.analysis.zero_window_probe or tcp.analysis.zero_window_probe_ack'), [37, 38]);
    assert.deepEqual(numbers(analysis, 'tcp.analysis.keep_alive'), [46]);
    assert.deepEqual(numbers(analysis, 'tcp.analysis.reused_ports'), [60]);
    assert.deepEqual(numbers(verdicts, 'tcp.stream == 2'), [13, 14, 15]);
  });

  it('other fields come from the decoded details', () => {
    assert.deepEqual(numbers(protocols, 'dns.qry.name == "tasks.schemaregistry"'), [5, 6]);
    assert.deepEqual(numbers(protocols, 'vxlan.vni == 4097'), [17]);
    assert.deepEqual(numbers(protocols, 'sll.pkttype == 4'), [18, 22], 'sent by us, in SLL2 and SLL');
    assert.deepEqual(numbers(protocols, 'frame.len > 100 and udp'), [6, 7, 9, 17]);
    assert.equal(compileFilter('dns.qry.name == "x"').needsDetails, true);
    assert.equal(compileFilter('ip.addr == 10.0.0.1 and tcp.port == 80').needsDetails, false);
  });

  it('!= is "not ==", as in Wireshark 3.6 and later', () => {
    const all = numbers(verdicts, 'tcp');
    const to = numbers(verdicts, 'ip.addr == 10.0.1.77');
    assert.deepEqual(numbers(verdicts, 'ip.addr != 10.0.1.77'), numbers(verdicts, '!(ip.addr == 10.0.1.77)'));
    assert.equal(numbers(verdicts, 'ip.addr != 10.0.1.77').length, 46 - to.length);
    assert.ok(all.length > 0);
  });

  it('compile errors say what is wrong and where', () => {
    const error = (text: string) => {
      try {
        compileFilter(text);
      } catch (e) {
        assert.ok(e instanceof FilterError);
        return [e.position, e.message];
      }
      assert.fail(`"${text}" compiled`);
    };
    assert.deepEqual(error(''), [0, 'empty filter (at 1)']);
    assert.deepEqual(error('tcp and'), [7, 'expected a field or protocol name, found the end of the filter (at 8)']);
    assert.deepEqual(error('(tcp or udp'), [11, 'expected ")" to close the "(" at 1, found the end of the filter (at 12)']);
    assert.deepEqual(error('ip.addr == 10.0.0.300'), [11, '"10.0.0.300" is not an IP address (at 12)']);
    assert.deepEqual(error('ip.addr == fd00::1'), [11, 'ip.addr takes an IPv4 address; "fd00::1" is IPv6 (use ipv6.*) (at 12)']);
    assert.deepEqual(error('tcp.port == http'), [12, 'tcp.port takes a number; "http" is not one (at 13)']);
    assert.deepEqual(error('tcp.port = 80'), [9, 'unexpected character "=" (at 10)']);
    assert.deepEqual(error('foo.bar'), [0, 'unknown field or protocol "foo.bar" (at 1)']);
    assert.deepEqual(error('tcp == 1'), [0, '"tcp" is a protocol: use it alone, or one of its fields (at 1)']);
    assert.deepEqual(error('dns.qry.name == "x'), [16, 'unterminated string (at 17)']);
    assert.deepEqual(error('tcp udp'), [4, 'unexpected "udp" (at 5)']);
  });

  it('runs on the index alone, fast: a million evaluations well under a second', () => {
    const index = indexCaptureFileSync(verdicts);
    const filter = compileFilter('(ip.addr == 10.0.1.9 and tcp.port == 8081 and not tcp.flags.reset) or udp or tcp.analysis.flags');
    const t0 = performance.now();
    let matched = 0;
    for (let round = 0; round < 1_000_000 / index.count; round++) matched += filterPackets(index, filter).length;
    const elapsed = performance.now() - t0;
    assert.ok(matched > 0);
    assert.ok(elapsed < 1500, `took ${elapsed.toFixed(0)} ms`);
  });
});
