// The doctor on the lab: each fault scenario is injected, `swarm-doctor check` (and matrix,
// diagnose) must name the right node(s) and cause; the fault is removed and the finding must go.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatCheckReport, formatDiagnosis } from '../../src/doctor/format';
import type { Finding } from '../../src/doctor/findings';
import type { Matrix } from '../../src/doctor/matrix';
import type { CheckReport, Diagnosis } from '../../src/doctor/report';
import { probeCommand } from '../../src/doctor/probe';
import { NodeEngines } from '../../src/netns/nodeEngines';
import { CommandRunner } from '../../src/netns/runner';
import { targetNode } from '../../src/netns/target';
import { fetchSwarm } from '../../src/swarm/fetchSnapshot';
import { eventually, lab, labConverged, labInfo, labNode, labNodeEndpoints, managerEngine, REPO_ROOT } from '../support/lab';
import { runCli } from '../support/runCli';

const FAULTS = path.join(REPO_ROOT, 'lab', 'faults.sh');
const fault = (name: string, state: 'on' | 'off') => execFileSync('bash', [FAULTS, name, state], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });

function connection(): string[] {
  const endpoints = Object.entries(labNodeEndpoints()).map(([node, url]) => `${node}=${url}`).join(',');
  return ['--host', `unix://${labNode('swarm00').socket}`, '--helper-image', labInfo().toolsImage, '--node-endpoint', endpoints];
}

async function check(): Promise<{ code: number; report: CheckReport }> {
  const { code, out, err } = await runCli(['check', '--json', ...connection()]);
  assert.ok(out.trim().startsWith('{'), `check printed JSON (stderr: ${err})`);
  const report = JSON.parse(out) as CheckReport;
  // The report as a user reads it, in the test log.
  console.log(formatCheckReport(report).split('\n').filter((l) => !/^\s*$/.test(l)).slice(0, 40).join('\n'));
  return { code, report };
}

const errors = (report: CheckReport, check?: string): Finding[] => report.findings.filter((f) => f.severity === 'error' && (!check || f.check === check));

describe('doctor fault scenarios on the lab', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-doctor-lab-'));
  let nodeStopped = false;
  before(async () => {
    for (const f of ['incident', 'vxlan-drop', 'mtu', 'encrypted']) fault(f, 'off');
    await labConverged();
  });
  after(async () => {
    for (const f of ['incident', 'vxlan-drop', 'mtu', 'encrypted']) fault(f, 'off');
    if (nodeStopped) lab('start-node', 'swarm01');
    await labConverged();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('a healthy lab: check finds no error and exits 0', async () => {
    const { code, report } = await check();
    assert.deepEqual(errors(report).map((f) => f.title), []);
    assert.equal(code, 0);
    assert.ok(report.findings.some((f) => f.check === 'node-paths' && f.severity === 'ok'), 'ports between nodes were tested');
    assert.ok(report.findings.some((f) => f.check === 'vxlan' && f.severity === 'ok'), 'VXLAN tables were compared');
    assert.ok(report.findings.some((f) => f.check === 'load-balancer' && f.severity === 'unavailable' && /no IPVS/.test(f.title)), 'no IPVS here is said, not hidden');
  });

  it('a probe task of ours, attached to the network on a node, probes like a task would (and is removed)', async () => {
    const manager = managerEngine();
    const { summary, snapshot } = await fetchSwarm(manager);
    const engines = new NodeEngines({ manager, managerNodeId: summary.swarm.nodeId, endpoints: labNodeEndpoints(), timeoutMs: 10_000 });
    const runner = new CommandRunner(engines, { via: 'auto', helperImage: labInfo().toolsImage, netnsFolder: '/var/run/docker/netns', timeoutMs: 60_000 });
    try {
      const node = snapshot.nodes.find((n) => n.hostname === 'swarm01')!;
      const network = snapshot.networks.find((n) => n.name === 'backend')!;
      const command = probeCommand({ name: 'schemaregistry', port: 8081 });
      const result = await runner.run({ target: { ns: 'attached', node: targetNode(node), network: { id: network.id, name: network.name } }, command });
      assert.equal(result.transport, 'manager', 'only the manager can start a task on a network');
      assert.equal(command.parse!(result.stdout).state, 'connected', result.stdout);
      const left = await manager.listLabeled('service', 'swarm-doctor.helper', { timeoutMs: 10_000 });
      assert.deepEqual(left.filter((r) => r.labels['swarm-doctor.owner'] === `${os.hostname()}:${process.pid}`).map((r) => r.name), [], 'the probe task\'s service is gone');
    } finally {
      engines.dispose();
      manager.dispose();
    }
  });

  it('(a) the incident: swarm02 → schemaregistry on swarm00 refused by an RST from the server task, with the REJECT rule and its counter', async () => {
    fault('incident', 'on');
    try {
      const { code, report } = await check();
      assert.equal(code, 1, 'an error finding makes the exit status 1');
      const refused = errors(report, 'connectivity');
      assert.equal(refused.length, 1, `one connection fails: ${refused.map((f) => f.title).join(' | ')}`);
      const [finding] = refused;
      assert.match(finding.title, /^swarm02 → schemaregistry on swarm00 \(port 8081\): refused by an RST from the server task schemaregistry\.1$/);
      assert.deepEqual(finding.nodes, ['swarm00', 'swarm02']);
      const counter = /INPUT #1 \(iptables-nft\): REJECT tcp 10\.0\.\d+\.\d+ -> 0\.0\.0\.0\/0 .*reject-with tcp-reset — (\d+) packets/.exec(finding.explanation);
      assert.ok(counter, `the rule is named: ${finding.explanation}`);
      assert.ok(Number(counter[1]) >= 1, 'its counter shows the probe');
      assert.ok(finding.evidence.some((e) => e.kind === 'command' && /iptables filter table in swarm00 \/ schemaregistry\.1/.test(e.title)), 'the rule listing is evidence');
      const matrix = report.matrices[0] as Matrix;
      assert.equal(matrix.cells[0].state, 'refused', 'failing cells first');
      assert.equal(matrix.cells[0].source.label, 'sourcemysql.1');
      assert.ok(matrix.cells.filter((c) => c.source.node !== 'swarm02' || c.source.label !== 'sourcemysql.1').every((c) => c.state === 'connected'), 'everyone else connects');

      // Diagnose the connection: captures at both ends, the counter moved by one.
      const { code: dcode, out } = await runCli(['diagnose', 'sourcemysql.1', 'schemaregistry.1', '--port', '8081', '-o', scratch, '--json', ...connection()]);
      const diagnosis = JSON.parse(out) as Diagnosis;
      console.log(formatDiagnosis(diagnosis));
      assert.equal(dcode, 1);
      assert.equal(diagnosis.faultNode, 'swarm00');
      assert.match(diagnosis.headline, /^The server task schemaregistry\.1 on swarm00 refused the connection: its firewall rule "INPUT #1 \(iptables-nft\): REJECT tcp .*reject-with tcp-reset" answered the SYN from 10\.0\.\d+\.\d+ with an RST \(counter \+1, now \d+\)\.$/);
      assert.deepEqual(diagnosis.steps.slice(0, 3).map((s) => s.verdict), ['ok', 'ok', 'fault'], 'SYN left, SYN arrived, the server namespace sent the RST');
      const captures = diagnosis.evidence.filter((e) => e.kind === 'capture');
      assert.equal(captures.length, 2);
      for (const c of captures) assert.ok(c.kind === 'capture' && fs.statSync(c.path).size > 24 + 2 * 16, `${c.kind === 'capture' ? c.path : ''} holds packets`);
    } finally {
      fault('incident', 'off');
    }
    const { code, report } = await check();
    assert.deepEqual(errors(report).map((f) => f.title), [], 'the finding is gone with the rule');
    assert.equal(code, 0);
  });

  it('(b) udp 4789 dropped between swarm02 and swarm00: the data path finding names the pair and where packets stop', async () => {
    fault('vxlan-drop', 'on');
    try {
      const { code, report } = await check();
      assert.equal(code, 1);
      const dataPath = errors(report, 'data-path');
      const broken = dataPath.find((f) => f.title === 'swarm02 → swarm00: the VXLAN data path (udp 4789) is broken');
      assert.ok(broken, `found: ${dataPath.map((f) => f.title).join(' | ')}`);
      assert.match(broken.explanation, /swarm02 sent \d+ VXLAN packet\(s\) to swarm00:4789, and none arrived there/);
      assert.deepEqual([...broken.nodes].sort(), ['swarm00', 'swarm02']);
      assert.ok(dataPath.every((f) => f.nodes.includes('swarm00') && f.nodes.includes('swarm02')), 'swarm01 is not blamed');
      assert.ok(!errors(report, 'mtu').length, 'not mistaken for an MTU problem');
    } finally {
      fault('vxlan-drop', 'off');
    }
    const { report } = await check();
    assert.deepEqual(errors(report).map((f) => f.title), []);
  });

  it('(e) an encrypted overlay on a kernel without ESP: each node refused its keys, and its finding holds the pings it sent in vain, with the drop counter', async () => {
    fault('encrypted', 'on');
    try {
      const { code, report } = await check();
      assert.equal(code, 1);
      const encryption = errors(report, 'encryption');
      // One finding a node (its kernel refused every key), which takes the pings it sent in vain.
      for (const node of ['swarm00', 'swarm01', 'swarm02']) {
        const refused = encryption.find((f) => f.title === `${node}: IPsec policies for encrypted networks but not one ESP state`);
        assert.ok(refused, `${node}'s own finding; found: ${encryption.map((f) => f.title).join(' | ')}`);
        assert.match(refused.explanation, /kernel without ESP/);
        assert.equal(refused.nodes[0], node, 'the refusing node first');
        for (const peer of ['swarm00', 'swarm01', 'swarm02'].filter((p) => p !== node)) {
          assert.match(refused.explanation, new RegExp(`to ${peer} \\(10\\.0\\.9\\.\\d+ on encnet: 0 of \\d+ answered\\)`), `${node} → ${peer} is told`);
          assert.ok(refused.nodes.includes(peer));
        }
        assert.match(refused.explanation, new RegExp(`while they ran, ${node} counted XfrmOutNoStates \\+\\d+`));
        assert.ok(refused.evidence.some((e) => e.kind === 'command' && /XfrmOutNoStates/.test(e.text)), 'the counters are in the evidence');
        assert.ok(refused.evidence.some((e) => e.kind === 'command' && /^ping across encnet/.test(e.title)), 'the pings are in the evidence');
        assert.ok(refused.evidence.every((e) => e.kind !== 'command' || !/(aead|enc|auth\S*) \S+ 0x[0-9a-f]{16}/.test(e.text)), 'no key in the evidence');
      }
      assert.equal(encryption.length, 3, 'no finding a pair on top: the nodes explain them');
      assert.deepEqual(errors(report).filter((f) => f.check !== 'encryption').map((f) => f.title), [], 'the unencrypted backend network is not blamed');
    } finally {
      fault('encrypted', 'off');
    }
    const { report } = await check();
    assert.deepEqual(errors(report).map((f) => f.title), []);
    assert.ok(!report.findings.some((f) => f.check === 'encryption'), 'no encrypted network, nothing said');
  });

  it('(c) an underlay that carries 1400 bytes to swarm02: full-size overlay packets vanish, small ones pass', async () => {
    fault('mtu', 'on');
    try {
      const { code, report } = await check();
      assert.equal(code, 1);
      const mtu = errors(report, 'mtu');
      assert.ok(mtu.length >= 2, `found: ${mtu.map((f) => f.title).join(' | ')}`);
      assert.ok(mtu.every((f) => f.nodes.includes('swarm02')), 'every MTU finding involves swarm02');
      assert.ok(mtu.some((f) => /^swarm0[01] → swarm02: full-size overlay packets \(MTU 1450\) do not get through$/.test(f.title)));
      assert.ok(mtu.some((f) => /^swarm02 → swarm0[01]: full-size overlay packets \(MTU 1450\) do not get through$/.test(f.title)));
      assert.match(mtu[0].explanation, /something between them .* cannot carry it/);
      assert.ok(!errors(report, 'data-path').length, 'small packets pass: not a data-path failure');
    } finally {
      fault('mtu', 'off');
    }
    const { report } = await check();
    assert.deepEqual(errors(report).map((f) => f.title), []);
  });

  it('(d) a worker\'s dockerd stopped: membership names it, nothing crashes, and it clears when the node is back', async () => {
    lab('stop-node', 'swarm01');
    nodeStopped = true;
    const manager = managerEngine();
    try {
      await eventually('the manager to see swarm01 down', async () => ((await fetchSwarm(manager)).snapshot.nodes.find((n) => n.hostname === 'swarm01')?.state === 'down' ? true : undefined), 90_000, 1000);
    } finally {
      manager.dispose();
    }
    const { code, report } = await check();
    assert.equal(code, 1);
    const down = errors(report, 'membership');
    assert.deepEqual(down.map((f) => [f.title, f.nodes]), [['swarm01 is down', ['swarm01']]]);
    assert.ok(report.findings.some((f) => f.severity === 'unavailable' && f.title === 'schemaregistry: not probed from swarm01'), 'the matrix says it could not probe from there');
    assert.ok(!errors(report).some((f) => f.check !== 'membership' && f.nodes.includes('swarm01')), 'no other error blames swarm01 for being away');
    lab('start-node', 'swarm01');
    nodeStopped = false;
    await labConverged();
    const again = await check();
    assert.deepEqual(errors(again.report).map((f) => f.title), []);
  });
});
