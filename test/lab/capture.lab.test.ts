// Packet capture on the lab, by both transports, reproducing the incident: a tcp-reset REJECT
// rule for sourcemysql's address in schemaregistry's namespace. The files are read back with tshark.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EngineClient } from '../../src/engine/types';
import { freeCommand } from '../../src/netns/command';
import { NodeEngines } from '../../src/netns/nodeEngines';
import { resolveTargets } from '../../src/netns/resolveTarget';
import { CommandRunner } from '../../src/netns/runner';
import type { Target } from '../../src/netns/target';
import { HELPER_LABEL, removeLeftovers } from '../../src/netns/transports';
import { CaptureSession } from '../../src/recorder/captureSession';
import { fetchSwarm } from '../../src/swarm/fetchSnapshot';
import { engineOf, eventually, labConverged, labInfo, labNodeEndpoints, managerEngine } from '../support/lab';
import { readCaptureNames } from '../../src/capture/captureNames';
import { addressNames } from '../../src/swarm/snapshot';

interface Row {
  src: string;
  dst: string;
  flags: number;
}

/** tshark is the oracle here: it must read the file, and its fields say what was captured. */
function tsharkRows(file: string): Row[] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'tcp.flags', '-E', 'separator=\t'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trim().split('\n').filter(Boolean).map((line) => {
    const [src, dst, flags] = line.split('\t');
    return { src, dst, flags: Number(flags) };
  });
}

const SYN = 0x002;
const SYN_ACK = 0x012;
const RST_ACK = 0x014;

describe('packet capture on the lab: the incident', () => {
  let manager: EngineClient;
  let engines: NodeEngines;
  let runner: CommandRunner;
  let server: Target;
  let fromSwarm02: Target;
  let fromSwarm01: Target;
  let rule: string[];
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-doctor-captures-'));
  const address = (t: Target) => (t.ns === 'sandbox' ? t.task.addresses[0] : '');

  before(async () => {
    await labConverged();
    manager = managerEngine();
    const { summary, snapshot } = await fetchSwarm(manager);
    engines = new NodeEngines({ manager, managerNodeId: summary.swarm.nodeId, endpoints: labNodeEndpoints(), timeoutMs: 15_000 });
    // As at every start: helpers of sessions that died (a VS Code closed mid-capture) go first.
    await removeLeftovers([manager, ...snapshot.nodes.map((n) => engines.engineFor({ id: n.id, hostname: n.hostname, address: n.address })!)]);
    runner = new CommandRunner(engines, { via: 'auto', helperImage: labInfo().toolsImage, netnsFolder: '/var/run/docker/netns', timeoutMs: 30_000 });
    [server] = resolveTargets(snapshot, 'schemaregistry.1');
    [fromSwarm02] = resolveTargets(snapshot, 'sourcemysql.1');
    [fromSwarm01] = resolveTargets(snapshot, 'connect.1');
    rule = ['INPUT', '-s', address(fromSwarm02), '-p', 'tcp', '--dport', '8081', '-j', 'REJECT', '--reject-with', 'tcp-reset'];
    const added = await runner.run({ target: server, command: freeCommand(['iptables', '-I', ...rule]), via: 'direct' });
    assert.equal(added.exitCode, 0, added.stderr);
  });
  after(async () => {
    await runner.run({ target: server, command: freeCommand(['iptables', '-D', ...rule]), via: 'direct' });
    engines.dispose();
    manager.dispose();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  const connect = (from: Target) => runner.run({ target: from, command: freeCommand(['timeout', '4', 'wget', '-qO-', `http://${address(server)}:8081/`]), via: 'direct' });

  for (const via of ['direct', 'manager'] as const) {
    it(`captures SYN then RST,ACK for swarm02 and a full handshake for swarm01 (${via})`, async () => {
      const { snapshot } = await fetchSwarm(manager);
      const session = new CaptureSession(runner, { target: server, via, filter: 'tcp port 8081', durationSeconds: 60, folder, fileName: `incident-${via}.pcap`, names: addressNames(snapshot) });
      const running = session.run();
      await eventually('the capture to run', async () => (session.status.state === 'running' ? true : session.status.state === 'failed' ? Promise.reject(new Error(session.status.message)) : undefined), 30_000, 100);
      await new Promise((r) => setTimeout(r, via === 'manager' ? 2500 : 1500)); // tcpdump opens its socket
      const refused = await connect(fromSwarm02);
      assert.notEqual(refused.exitCode, 0, 'sourcemysql is refused');
      const served = await connect(fromSwarm01);
      assert.equal(served.exitCode, 0, `connect gets the page: ${served.stderr}`);
      assert.match(served.stdout, /swarm-lab schemaregistry OK/);
      await eventually('the packets to arrive', async () => (session.status.packets >= 5 ? true : undefined), 15_000, 200);
      session.stop();
      const status = await running;
      assert.equal(status.state, 'stopped', status.message);
      assert.equal(status.transport, via);

      const rows = tsharkRows(status.file);
      assert.equal(rows.length, status.packets, 'tshark reads every packet we counted');
      const client02 = address(fromSwarm02);
      const client01 = address(fromSwarm01);
      const serverAddress = address(server);
      assert.ok(rows.some((r) => r.src === client02 && r.dst === serverAddress && r.flags === SYN), 'the SYN from sourcemysql');
      assert.ok(rows.some((r) => r.src === serverAddress && r.dst === client02 && r.flags === RST_ACK), 'the RST,ACK to sourcemysql');
      assert.ok(!rows.some((r) => r.src === serverAddress && r.dst === client02 && r.flags === SYN_ACK), 'no SYN,ACK to sourcemysql');
      assert.ok(rows.some((r) => r.src === client01 && r.dst === serverAddress && r.flags === SYN), 'the SYN from connect');
      assert.ok(rows.some((r) => r.src === serverAddress && r.dst === client01 && r.flags === SYN_ACK), 'the SYN,ACK to connect');
      assert.ok(rows.some((r) => r.src === client01 && r.dst === serverAddress && r.flags === 0x010), 'the ACK that completes the handshake');
      // The swarm's names at capture time, kept beside the file for whoever opens it later.
      const kept = readCaptureNames(status.file);
      assert.ok(kept, 'the names file is written beside the capture');
      assert.equal(kept.names.get(serverAddress), 'schemaregistry.1 on swarm00');
      assert.equal(kept.names.get(client02), 'sourcemysql.1 on swarm02');
      assert.equal(kept.names.get(client01), 'connect.1 on swarm01');
    });
  }

  it('through the manager, the bytes written equal the bytes tcpdump wrote on the node (SHA-256)', async () => {
    const session = new CaptureSession(runner, { target: server, via: 'manager', filter: 'tcp port 8081', count: 6, durationSeconds: 60, folder, fileName: 'counted.pcap' });
    const running = session.run();
    await eventually('the capture to run', async () => (session.status.state === 'running' ? true : undefined), 30_000, 100);
    await new Promise((r) => setTimeout(r, 2500));
    await connect(fromSwarm01);
    await connect(fromSwarm01);
    const status = await running;
    assert.equal(status.state, 'completed', status.message);
    assert.equal(status.packets, 6);
    assert.equal(status.verified, true, 'SHA-256 of our file equals tcpdump\'s');
    assert.equal(tsharkRows(status.file).length, 6);
  });

  it('a bad filter shows tcpdump\'s own error and leaves no file; an unwritable folder is said plainly', async () => {
    const bad = await new CaptureSession(runner, { target: server, via: 'direct', filter: 'tcp port', folder, fileName: 'bad.pcap', names: new Map([['10.0.1.2', 'a name']]) }).run();
    assert.equal(bad.state, 'failed');
    assert.match(bad.message!, /tcpdump rejected the capture in swarm00 \/ schemaregistry\.1 \/ sandbox: .*syntax error/);
    assert.ok(!fs.existsSync(path.join(folder, 'bad.pcap')));
    assert.ok(!fs.existsSync(path.join(folder, 'bad.pcap.names.json')), 'nor its names file');
    const nowhere = await new CaptureSession(runner, { target: server, via: 'direct', folder: '/etc/passwd/captures' }).run();
    assert.equal(nowhere.state, 'failed');
    assert.match(nowhere.message!, /Cannot create the capture folder \/etc\/passwd\/captures: ENOTDIR/);
  });

  it('a full disk stops the capture on the node and keeps a valid file', async () => {
    const small = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-doctor-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12k', 'tmpfs', small]);
    try {
      const session = new CaptureSession(runner, { target: server, via: 'direct', filter: 'tcp port 8081', durationSeconds: 60, folder: small, fileName: 'full.pcap' });
      const running = session.run();
      await eventually('the capture to run', async () => (session.status.state === 'running' ? true : undefined), 30_000, 100);
      await new Promise((r) => setTimeout(r, 1500));
      for (let i = 0; i < 20 && session.status.state === 'running'; i++) await connect(fromSwarm01);
      const status = await running;
      assert.equal(status.state, 'failed');
      assert.match(status.message!, /The disk holding .*full\.pcap is full: the capture was stopped/);
      assert.ok(status.packets > 0);
      assert.equal(tsharkRows(status.file).length, status.packets, 'every packet written before is readable');
    } finally {
      execFileSync('umount', [small]);
      fs.rmSync(small, { recursive: true, force: true });
    }
  });

  it('after the captures, no helper is left on any node', async () => {
    assert.deepEqual(await manager.listLabeled('service', HELPER_LABEL), []);
    for (const node of labInfo().nodes) {
      const engine = engineOf(node.name);
      try {
        await eventually(`no helper container on ${node.name}`, async () => ((await engine.listLabeled('container', HELPER_LABEL)).length === 0 ? true : undefined), 30_000);
      } finally {
        engine.dispose();
      }
    }
  });
});
