// The doctor's pure parts: reading probe and ping output recorded on the lab, planning the matrix,
// sorting and formatting, membership findings and exit status.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { networkFromApi, nodeFromApi, serviceFromApi, taskFromApi } from '../../src/engine/records';
import { membershipFindings } from '../../src/doctor/checks/membership';
import { exitStatusFor, sortFindings, type Finding } from '../../src/doctor/findings';
import { formatMatrix } from '../../src/doctor/format';
import { chooseNetwork, planDestinations, planMatrix, planSources, sortCells, type Matrix, type MatrixCell } from '../../src/doctor/matrix';
import { mapLimit } from '../../src/doctor/concurrency';
import { parsePingOutput, parseProbeOutput, pingCommand, probeCommand } from '../../src/doctor/probe';
import { buildSnapshot } from '../../src/swarm/snapshot';
import { syntheticSwarm } from '../support/syntheticSwarm';
import { plannedMatrixView } from '../../src/extension/doctor/reportViews';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/doctor', name), 'utf8');

function snapshotOf(raw: ReturnType<typeof syntheticSwarm>) {
  return buildSnapshot({ nodes: raw.nodes.map(nodeFromApi), services: raw.services.map(serviceFromApi), tasks: raw.tasks.map(taskFromApi), networks: raw.networks.map(networkFromApi) });
}

describe('probe output recorded on the lab (tcpdump watching busybox nc)', () => {
  it('connected: SYN-ACK seen, connect time from the timestamps', () => {
    const o = parseProbeOutput(fixture('probe-connected.txt'), 8081);
    assert.equal(o.state, 'connected');
    assert.equal(o.address, '10.0.1.2');
    assert.equal(o.synCount, 1);
    assert.ok(o.connectMs !== undefined && o.connectMs >= 0 && o.connectMs < 50, `connect time ${o.connectMs}`);
    assert.match(o.summary, /^connected to 10\.0\.1\.2:8081 in [\d.]+ ms$/);
  });
  it('refused by a REJECT tcp-reset rule: RST and who sent it', () => {
    const o = parseProbeOutput(fixture('probe-refused-reject-rule.txt'), 8081);
    assert.equal(o.state, 'refused');
    assert.equal(o.rstFrom, '10.0.1.2:8081');
    assert.equal(o.summary, 'refused: RST from 10.0.1.2:8081');
  });
  it('refused on a port nobody listens on', () => {
    const o = parseProbeOutput(fixture('probe-refused-closed-port.txt'), 9999);
    assert.equal(o.state, 'refused');
    assert.equal(o.rstFrom, '10.0.1.2:9999');
  });
  it('an address nobody has: ARP unanswered, so unreachable (not a mere timeout)', () => {
    const o = parseProbeOutput(fixture('probe-unreachable-no-arp.txt'), 80);
    assert.equal(o.state, 'unreachable');
    assert.match(o.summary, /no ARP answer for 10\.0\.1\.99/);
  });
  it('by name: resolved through the embedded DNS, then connected', () => {
    const o = parseProbeOutput(fixture('probe-by-name.txt'), 8081);
    assert.equal(o.state, 'connected');
    assert.equal(o.address, '10.0.1.2');
  });
  it('a name that does not resolve', () => {
    assert.equal(parseProbeOutput(fixture('probe-lookup-failed.txt'), 80).state, 'lookup-failed');
  });
  it('SYNs without answer are a timeout with the count; nc alone decides when tcpdump is missing', () => {
    const syns = ['### address 10.0.1.2', '### dialer 1', '#| nc: timed out', '### trace',
      '1795706819.1 eth0  Out IP 10.0.1.3.1 > 10.0.1.2.8081: Flags [S], seq 1, length 0',
      '1795706820.1 eth0  Out IP 10.0.1.3.1 > 10.0.1.2.8081: Flags [S], seq 1, length 0'].join('\n');
    const o = parseProbeOutput(syns, 8081);
    assert.equal(o.state, 'timeout');
    assert.equal(o.synCount, 2);
    assert.equal(o.summary, 'timed out: no answer to 2 SYNs to 10.0.1.2:8081');
    const bare = parseProbeOutput(['### address 10.0.1.2', '### notrace', '#| tcpdump is not in the helper image', '### dialer 1', "#| nc: can't connect to remote host (10.0.1.2): Connection refused"].join('\n'), 8081);
    assert.equal(bare.state, 'refused');
    assert.match(bare.summary, /judged from nc alone/);
  });
  it('an ICMP error names its sender', () => {
    const text = ['### address 10.0.9.9', '### dialer 1', '#| nc: No route to host', '### trace',
      '1.0 eth0  Out IP 10.0.1.3.5 > 10.0.9.9.80: Flags [S], seq 1, length 0',
      '1.1 eth0  In  IP 10.0.1.1 > 10.0.1.3: ICMP host 10.0.9.9 unreachable, length 68'].join('\n');
    const o = parseProbeOutput(text, 80);
    assert.equal(o.state, 'unreachable');
    assert.equal(o.icmpFrom, '10.0.1.1');
    assert.equal(o.summary, 'unreachable: ICMP host 10.0.9.9 unreachable from 10.0.1.1');
  });
  it('hostile destinations never reach argv unchecked', () => {
    assert.throws(() => probeCommand({ address: '10.0.1.2; rm -rf /', port: 80 }), /not an IP address/);
    assert.throws(() => probeCommand({ name: '$(reboot)', port: 80 }), /not a DNS name/);
    assert.throws(() => probeCommand({ address: '10.0.1.2', port: 70000 }), /not a TCP port/);
    const argv = probeCommand({ name: 'schemaregistry', port: 8081 }).argv;
    assert.deepEqual(argv.slice(3), ['probe', '', '8081', '3', 'schemaregistry'], 'values are positional arguments of a fixed script');
    assert.throws(() => pingCommand('a b', [56]), /not an IP address/);
  });
  it('ping: full-size and small packets counted separately', () => {
    assert.deepEqual(parsePingOutput(fixture('ping-ok.txt')).sizes, [{ size: 56, sent: 2, received: 2 }, { size: 1422, sent: 2, received: 2 }]);
    assert.deepEqual(parsePingOutput(fixture('ping-none.txt')).sizes, [{ size: 56, sent: 2, received: 0 }]);
    const stray = ['### size 56', 'PING 10.0.1.36 (10.0.1.36): 56 data bytes', '172 bytes from 10.0.1.33: seq=0 ttl=64 time=1.775 ms', '172 bytes from 10.0.1.33: seq=1 ttl=64 time=1.438 ms', '', '--- 10.0.1.36 ping statistics ---', '2 packets transmitted, 2 packets received, 0% packet loss'].join('\n');
    assert.deepEqual(parsePingOutput(stray).sizes, [{ size: 56, sent: 2, received: 0 }], 'replies from another address (recorded on the lab with the data path cut) do not count');
  });
});

describe('matrix planning', () => {
  const raw = syntheticSwarm({ nodes: 8, services: 10, tasks: 40, networks: 1 });
  const snapshot = snapshotOf(raw);
  const server = snapshot.services.find((s) => s.name === 'svc0')!;
  const network = chooseNetwork(snapshot, server);

  it('one row per other service on each node; a down node is a row that says so', () => {
    const sources = planSources(snapshot, network, { exclude: server });
    const down = snapshot.nodes.filter((n) => n.state !== 'ready');
    assert.ok(down.length > 0, 'the synthetic swarm has a down node');
    for (const node of down) assert.match(sources.find((s) => s.node === node.hostname)!.problem!, / is down/);
    const ready = sources.filter((s) => s.target);
    assert.ok(ready.length > 0);
    assert.ok(ready.every((s) => s.service !== 'svc0'), 'the server does not probe itself');
    for (const node of snapshot.nodes.filter((n) => n.state === 'ready')) {
      const rows = sources.filter((s) => s.node === node.hostname && s.service);
      assert.equal(new Set(rows.map((r) => r.service)).size, rows.length, 'one task per service and node');
    }
  });
  it('a chosen client service only; nodes without one say so', () => {
    const client = snapshot.services.find((s) => s.name === 'svc3')!;
    const sources = planSources(snapshot, network, { client });
    assert.ok(sources.filter((s) => s.target).every((s) => s.service === 'svc3'));
    assert.ok(sources.some((s) => /no running task of svc3/.test(s.problem ?? '')));
  });
  it('destinations: every running task by address, the VIP, the name', () => {
    const destinations = planDestinations(snapshot, server, network, [8080]);
    const tasks = (snapshot.tasksByService.get(server.id) ?? []).filter((t) => t.state === 'running');
    assert.equal(destinations.filter((d) => d.kind === 'task').length, tasks.length);
    assert.equal(destinations.filter((d) => d.kind === 'vip').length, 1);
    assert.deepEqual(destinations.filter((d) => d.kind === 'name').map((d) => d.name), ['svc0']);
  });
  it('the view shown before the first answer is the plan runMatrix probes, with its notes', () => {
    const plan = planMatrix(snapshot, { service: 'svc0', ports: [8080, 9090] });
    assert.deepEqual(plan.ports, [8080, 9090]);
    assert.deepEqual(plan.sources, planSources(snapshot, network, { exclude: server }));
    const view = plannedMatrixView('m1', snapshot, { service: 'svc0', ports: [8080, 9090] })!;
    assert.equal(view.sources.length, plan.sources.length);
    assert.equal(view.destinations.length, plan.destinations.length);
    assert.equal(view.cells.length, plan.sources.length * plan.destinations.length);
    assert.deepEqual(view.notes, plan.notes);
    assert.ok(view.cells.every((c) => c.state === 'pending'));
  });
  it('a service with no port and none named cannot be planned, and says what to do', () => {
    const services = raw.services.map(serviceFromApi).map((s) => (s.name === 'svc0' ? { ...s, ports: [] } : s));
    const portless = buildSnapshot({ nodes: raw.nodes.map(nodeFromApi), services, tasks: raw.tasks.map(taskFromApi), networks: raw.networks.map(networkFromApi) });
    assert.throws(() => planMatrix(portless, { service: 'svc0' }), /svc0 publishes no TCP port: name the port/);
    assert.equal(plannedMatrixView('m2', portless, { service: 'svc0' }), undefined);
    assert.equal(planMatrix(portless, { service: 'svc0', ports: [80] }).ports[0], 80);
  });
  it('failing cells first, then not-run, then the rest; the text table marks them', () => {
    const source = { node: 'swarm02', nodeId: 'n2', label: 'sourcemysql.1' };
    const ok = { node: 'swarm01', nodeId: 'n1', label: 'connect.1' };
    const dest = { kind: 'task' as const, label: 'schemaregistry.1', address: '10.0.1.2', node: 'swarm00', port: 8081 };
    const cells: MatrixCell[] = [
      { source: ok, destination: dest, state: 'connected', summary: 'connected', evidence: [], durationMs: 1, outcome: { state: 'connected', port: 8081, synCount: 1, connectMs: 0.2, summary: '', trace: [], dialer: '', withoutTrace: false } },
      { source: { ...source, node: 'swarm03', problem: 'swarm03 is down' }, destination: dest, state: 'not-run', summary: 'not run', evidence: [], durationMs: 0 },
      { source, destination: dest, state: 'refused', summary: 'refused: RST from 10.0.1.2:8081', evidence: [], durationMs: 1 },
    ];
    assert.deepEqual(sortCells(cells).map((c) => c.state), ['refused', 'not-run', 'connected']);
    const matrix: Matrix = { service: 'schemaregistry', network: 'backend', ports: [8081], sources: [ok, source], destinations: [dest], cells: sortCells(cells), startedAt: '', durationMs: 1000, notes: [] };
    const text = formatMatrix(matrix);
    assert.match(text, /1 of 3 cells failing|2 of 3 cells failing/);
    assert.match(text, /FAIL {2}swarm02 \(sourcemysql\.1\) → schemaregistry\.1 on swarm00:8081: refused: RST from 10\.0\.1\.2:8081/);
    assert.match(text, /swarm02 \(sourcemysql\.1\)\s+REFUSED/);
  });
});

describe('findings', () => {
  it('membership: a down node and a drained node, an unreachable manager', () => {
    const raw = syntheticSwarm({ nodes: 42, services: 2, tasks: 4 });
    (raw.nodes[1] as { ManagerStatus: { Reachability: string } }).ManagerStatus.Reachability = 'unreachable';
    const findings = membershipFindings(snapshotOf(raw));
    assert.ok(findings.some((f) => f.severity === 'error' && f.title === 'node007 is down' && f.nodes[0] === 'node007'));
    assert.ok(findings.some((f) => f.severity === 'warning' && f.title === 'node005 is drained'));
    assert.ok(findings.some((f) => f.severity === 'error' && f.title === 'manager node001 is unreachable'));
  });
  it('membership of a healthy swarm is one ok finding', () => {
    const findings = membershipFindings(snapshotOf(syntheticSwarm({ nodes: 3, services: 1, tasks: 3 })));
    assert.deepEqual(findings.map((f) => f.severity), ['ok']);
  });
  it('errors sort first and decide the exit status', () => {
    const f = (severity: Finding['severity'], check: string): Finding => ({ check, severity, title: check, nodes: [], explanation: '', evidence: [] });
    const sorted = sortFindings([f('ok', 'a'), f('warning', 'b'), f('error', 'c'), f('unavailable', 'd')]);
    assert.deepEqual(sorted.map((x) => x.severity), ['error', 'warning', 'unavailable', 'ok']);
    assert.equal(exitStatusFor(sorted), 1);
    assert.equal(exitStatusFor([f('warning', 'x'), f('unavailable', 'y')]), 0);
  });
  it('mapLimit keeps order and the bound', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, n * 3));
      inFlight--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(most, 2);
  });
});
