// ipvsadm -Ln parser.
// NOT RECORDED: the lab kernel has no IPVS, so every table below was written by hand after the
// format ipvsadm's list code prints ("%s  %s" service + scheduler + flags; "  -> %-28s %-7s %-6d
// %-10u %-10u" real servers) and the examples of its man page, with swarm-like addresses. Only the
// "no IPVS" messages are real: recorded on the lab (test/fixtures/netns/README.md).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isIpvsUnavailable, parseIpvsadmList } from '../../../src/netns/parsers';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/netns');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

/** Hand-written (see above): a VIP service, a persistent UDP service, swarm-style FWM services, IPv6. */
const TABLE = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  'TCP  10.0.1.2:8081 rr',
  '  -> 10.0.1.5:8081                Masq    1      3          12',
  '  -> 10.0.1.6:8081                Masq    1      2          10',
  'UDP  10.0.1.2:53 wlc persistent 360 mask 255.255.255.0',
  '  -> 10.0.1.7:53                  Route   2      0          1',
  'FWM  256 rr',
  '  -> 10.255.0.5:0                 Masq    1      0          0',
  '  -> 10.255.0.6:0                 Masq    1      0          0',
  'FWM  257 rr',
  'TCP  [2001:db8::1]:443 sh persistent 300 pe sip ops',
  '  -> [2001:db8::10]:443           Tunnel  0      0          0',
  'FWM  7 IPv6 lc',
  '  -> [2001:db8::11]:0             Local   1      0          0',
].join('\n');

describe('parseIpvsadmList (hand-written tables, see the file header)', () => {
  const parsed = parseIpvsadmList(TABLE);

  it('reads the version line and every virtual service with its real servers', () => {
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual([parsed.version, parsed.tableSize], ['1.2.1', 4096]);
    assert.deepEqual(parsed.services.map((s) => [s.protocol, s.address ?? s.fwmark, s.port, s.scheduler, s.realServers.length]), [
      ['TCP', '10.0.1.2', 8081, 'rr', 2],
      ['UDP', '10.0.1.2', 53, 'wlc', 1],
      ['FWM', 256, undefined, 'rr', 2],
      ['FWM', 257, undefined, 'rr', 0],
      ['TCP', '2001:db8::1', 443, 'sh', 1],
      ['FWM', 7, undefined, 'lc', 1],
    ]);
  });

  it('reads real servers: address, port, forward method, weight, active and inactive connections', () => {
    assert.deepEqual(parsed.services[0].realServers.map((r) => [r.address, r.port, r.forward, r.weight, r.activeConnections, r.inactiveConnections]), [
      ['10.0.1.5', 8081, 'Masq', 1, 3, 12],
      ['10.0.1.6', 8081, 'Masq', 1, 2, 10],
    ]);
    assert.equal(parsed.services[1].realServers[0].forward, 'Route');
    assert.equal(parsed.services[2].realServers[0].port, 0, 'FWM real servers print port 0');
  });

  it('reads service flags: persistent, mask, pe, ops; and IPv6 services', () => {
    const [, udp, , emptyFwm, v6, v6Fwm] = parsed.services;
    assert.deepEqual([udp.persistentTimeout, udp.netmask, udp.onePacket, udp.otherFlags], [360, '255.255.255.0', false, []]);
    assert.deepEqual([v6.ipv6, v6.persistentTimeout, v6.persistenceEngine, v6.onePacket], [true, 300, 'sip', true]);
    assert.deepEqual(v6.realServers[0], { address: '2001:db8::10', port: 443, forward: 'Tunnel', weight: 0, activeConnections: 0, inactiveConnections: 0, line: 14 });
    assert.deepEqual([v6Fwm.ipv6, v6Fwm.fwmark, v6Fwm.realServers[0].forward], [true, 7, 'Local']);
    assert.deepEqual(emptyFwm.realServers, [], 'a service without real servers (all tasks gone)');
  });

  it('an empty IPVS table: the version and headers, no services', () => {
    const empty = parseIpvsadmList(TABLE.split('\n').slice(0, 3).join('\n'));
    assert.deepEqual([empty.services, empty.problems, empty.version], [[], [], '1.2.1']);
  });

  it('empty output, garbage, and a real server before any service become problems', () => {
    assert.deepEqual(parseIpvsadmList(''), { services: [], problems: [] });
    const bad = parseIpvsadmList(['  -> 10.0.0.1:80  Masq 1 0 0', 'TCP  nonsense rr', '  -> 10.0.0.2:80  Masq 1 0 0', 'hello', '  -> broken'].join('\n'));
    assert.deepEqual(bad.services, []);
    assert.deepEqual(bad.problems.map((p) => p.line), [1, 2, 3, 4, 5]);
  });
});

describe('isIpvsUnavailable', () => {
  it("recognises the lab's real message (kernel without IPVS), in a task and in ingress_sbox", () => {
    for (const name of ['swarm00-task-schemaregistry-ipvsadm-Ln.stderr.txt', 'swarm00-ingress_sbox-ipvsadm-Ln.stderr.txt']) {
      const stderr = fixture(name);
      assert.match(stderr, /Can't initialize ipvs: Protocol not available/, name);
      assert.equal(isIpvsUnavailable(stderr), true, name);
    }
  });

  it('recognises a host modprobe that finds no ip_vs module (message quoted in public guides, not recorded)', () => {
    assert.equal(isIpvsUnavailable('FATAL: Module ip_vs not found.\n'), true);
  });

  it('is false for other failures: no permission (same "Are you sure" line), empty stderr', () => {
    const noPermission = "Can't initialize ipvs: Permission denied (you must be root)\nAre you sure that IP Virtual Server is built in the kernel or as module?\n";
    assert.equal(isIpvsUnavailable(noPermission), false);
    assert.equal(isIpvsUnavailable(''), false);
  });
});
