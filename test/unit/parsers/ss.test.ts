// ss parser on outputs recorded on the lab swarm (test/fixtures/netns/README.md).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseIptablesSave, parseSocketEndpoint, parseSocketProcesses, parseSs } from '../../../src/netns/parsers';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/netns');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

describe('parseSs on recorded outputs', () => {
  it("reads the server task's TCP sockets: httpd (pid 1) on *:8081, the embedded DNS, TIME-WAITs from both clients", () => {
    const { sockets, problems } = parseSs(fixture('swarm00-task-schemaregistry-ss-tanp.txt'), { netid: 'tcp' });
    assert.deepEqual(problems, []);
    assert.deepEqual(sockets.map((s) => [s.state, s.local.text, s.peer.text]), [
      ['LISTEN', '127.0.0.11:43727', '0.0.0.0:*'],
      ['LISTEN', '*:8081', '*:*'],
      ['TIME-WAIT', '[::ffff:10.0.1.10]:8081', '[::ffff:10.0.1.4]:52624'],
      ['TIME-WAIT', '[::ffff:10.0.1.10]:8081', '[::ffff:10.0.1.2]:60384'],
    ]);
    const httpd = sockets[1];
    assert.deepEqual([httpd.recvQ, httpd.sendQ, httpd.netid], [0, 9, 'tcp']);
    assert.deepEqual(httpd.local, { address: '*', port: 8081, text: '*:8081' });
    assert.deepEqual(httpd.peer, { address: '*', text: '*:*' }, 'port "*" = any: no port');
    assert.deepEqual(httpd.processes, [{ name: 'httpd', pid: 1, fd: 3 }]);
    assert.deepEqual(sockets[2].peer, { address: '::ffff:10.0.1.4', port: 52624, text: '[::ffff:10.0.1.4]:52624' });
    assert.equal(sockets[0].sendQ, 4096);
  });

  it('without the task\'s pid namespace, ss shows the same sockets and no processes', () => {
    const withPids = parseSs(fixture('swarm00-task-schemaregistry-ss-tanp.txt')).sockets;
    const { sockets, problems } = parseSs(fixture('swarm00-task-schemaregistry-ss-tanp-nopid.txt'));
    assert.deepEqual(problems, []);
    assert.deepEqual(sockets.map((s) => s.local), withPids.map((s) => s.local));
    assert.ok(sockets.every((s) => s.processes.length === 0 && s.extra === ''));
  });

  it("reads UDP (header glued as \"Peer Address:PortProcess\"): the embedded DNS's port is the nat table's DNAT target", () => {
    const { sockets, problems } = parseSs(fixture('swarm00-task-schemaregistry-ss-uanp.txt'));
    assert.deepEqual(problems, []);
    assert.deepEqual(sockets.map((s) => [s.state, s.local.address, s.local.port]), [['UNCONN', '127.0.0.11', 60205]]);
    const nat = parseIptablesSave(fixture('swarm00-task-schemaregistry-iptables-t-nat-S.txt'));
    const udpDnat = nat.rules.find((r) => r.target === 'DNAT' && r.protocol?.value === 'udp');
    assert.equal(udpDnat?.targetOptions[0].value, `127.0.0.11:${sockets[0].local.port}`);
  });

  it("reads a node's host sockets (pass 5): dockerd on 2377/7946, docker-proxy for the published port, VXLAN 4789", () => {
    const tcp = parseSs(fixture('swarm00-host-ss-tanp.txt'));
    assert.deepEqual(tcp.problems, []);
    assert.equal(tcp.sockets.length, 13);
    const listeners = tcp.sockets.filter((s) => s.state === 'LISTEN');
    assert.deepEqual(listeners.map((s) => [s.local.address, s.local.port, s.peer.address, s.processes[0]?.name, s.processes[0]?.pid]), [
      ['0.0.0.0', 8081, '0.0.0.0', 'docker-proxy', 710],
      ['*', 7946, '*', 'dockerd', 31385],
      ['::', 8081, '::', 'docker-proxy', 732],
      ['*', 2377, '*', 'dockerd', 31385],
    ]);
    const managerLinks = tcp.sockets.filter((s) => s.state === 'ESTAB' && s.local.port === 2377);
    assert.deepEqual(managerLinks.map((s) => s.peer.address), ['::ffff:10.99.0.11', '::ffff:10.99.0.12'], 'both workers hold a connection to the manager');
    const udp = parseSs(fixture('swarm00-host-ss-uanp.txt'));
    assert.deepEqual(udp.problems, []);
    assert.deepEqual(udp.sockets.map((s) => [s.state, s.local.text, s.processes.map((p) => p.name)]), [
      ['UNCONN', '0.0.0.0:4789', []],
      ['UNCONN', '*:7946', ['dockerd']],
    ], 'the VXLAN socket belongs to the kernel: no process');
    for (const name of ['swarm02-host-ss-tanp.txt', 'swarm02-host-ss-uanp.txt', 'swarm02-task-sourcemysql-ss-tanp.txt']) {
      assert.deepEqual(parseSs(fixture(name)).problems, [], name);
    }
  });
});

describe('parseSs: forms not in the recordings, and bad input', () => {
  it('endpoints: %iface scope (IPv4 and IPv6), bracketed IPv6, * address, * port', () => {
    assert.deepEqual(parseSocketEndpoint('127.0.0.53%lo:53'), { address: '127.0.0.53', port: 53, scope: 'lo', text: '127.0.0.53%lo:53' });
    assert.deepEqual(parseSocketEndpoint('[fe80::1c2d:3eff:fe4f:5a6b]%eth0:546'), { address: 'fe80::1c2d:3eff:fe4f:5a6b', port: 546, scope: 'eth0', text: '[fe80::1c2d:3eff:fe4f:5a6b]%eth0:546' });
    assert.deepEqual(parseSocketEndpoint('0.0.0.0%eth0:68'), { address: '0.0.0.0', port: 68, scope: 'eth0', text: '0.0.0.0%eth0:68' });
    assert.deepEqual(parseSocketEndpoint('[::]:*'), { address: '::', text: '[::]:*' });
    assert.equal(parseSocketEndpoint('nonsense'), undefined);
    assert.equal(parseSocketEndpoint('10.0.0.1:http'), undefined, 'service names (no -n) are not ports');
  });

  it('several processes on one socket, names with commas and parentheses', () => {
    assert.deepEqual(parseSocketProcesses('users:(("nginx",pid=12,fd=6),("nginx",pid=11,fd=6),("a,b (x)",pid=7,fd=3))'), [
      { name: 'nginx', pid: 12, fd: 6 }, { name: 'nginx', pid: 11, fd: 6 }, { name: 'a,b (x)', pid: 7, fd: 3 },
    ]);
    assert.deepEqual(parseSocketProcesses('timer:(keepalive,119min,0)'), []);
  });

  it('the Netid column of ss -tuanp', () => {
    const text = [
      'Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process',
      'udp   UNCONN 0      0         127.0.0.11:60205      0.0.0.0:*',
      'tcp   LISTEN 0      9                  *:8081            *:*     users:(("httpd",pid=1,fd=3))',
    ].join('\n');
    const { sockets, problems } = parseSs(text);
    assert.deepEqual(problems, []);
    assert.deepEqual(sockets.map((s) => [s.netid, s.state, s.local.port, s.processes.length]), [['udp', 'UNCONN', 60205, 0], ['tcp', 'LISTEN', 8081, 1]]);
  });

  it('empty output and garbage lines: nothing, or problems with line numbers', () => {
    assert.deepEqual(parseSs(''), { sockets: [], problems: [] });
    const { sockets, problems } = parseSs(['State Recv-Q Send-Q Local Address:Port Peer Address:Port', 'Cannot open netlink socket: Protocol not supported', 'LISTEN x 0 1.2.3.4:1 *:*', 'ESTAB 0 0 10.0.1.4:5 10.0.1.10:8081'].join('\n'));
    assert.equal(sockets.length, 1);
    assert.deepEqual(problems.map((p) => p.line), [2, 3]);
  });
});
