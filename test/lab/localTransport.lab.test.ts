// The local transport (nsenter on this machine) against the lab: this machine sees every lab
// node's namespaces, at the folders `lab/lab.sh info` names, as a node sees its own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EngineError } from '../../src/engine/errors';
import type { EngineClient } from '../../src/engine/types';
import { freeCommand } from '../../src/netns/command';
import type { LocalNode } from '../../src/netns/localTransport';
import { NodeEngines } from '../../src/netns/nodeEngines';
import { resolveTargets } from '../../src/netns/resolveTarget';
import { CommandRunner } from '../../src/netns/runner';
import { fetchSwarm } from '../../src/swarm/fetchSnapshot';
import type { SwarmSnapshot } from '../../src/swarm/snapshot';
import { labInfo, labNodeEndpoints, managerEngine, labConverged } from '../support/lab';

describe('local transport on the lab', () => {
  let manager: EngineClient;
  let engines: NodeEngines;
  let runner: CommandRunner;
  let snapshot: SwarmSnapshot;

  before(async () => {
    await labConverged();
    manager = managerEngine();
    const fetched = await fetchSwarm(manager);
    snapshot = fetched.snapshot;
    const localNodes: Record<string, LocalNode> = Object.fromEntries(labInfo().nodes.map((n) => [n.name, { netnsFolder: n.netnsDir!, hostNetns: `/var/run/netns/${n.name}` }]));
    engines = new NodeEngines({ manager, managerNodeId: fetched.summary.swarm.nodeId, endpoints: labNodeEndpoints(), timeoutMs: 10_000 });
    runner = new CommandRunner(engines, { via: 'auto', helperImage: labInfo().toolsImage, netnsFolder: '/var/run/docker/netns', timeoutMs: 20_000, localNodes });
  });
  after(() => {
    engines.dispose();
    manager.dispose();
  });

  it('auto picks local, and ip -o addr shows the task\'s own addresses on every node', async () => {
    for (const task of ['schemaregistry.1', 'connect.1', 'sourcemysql.1']) {
      const [target] = resolveTargets(snapshot, task);
      const result = await runner.run({ target, command: freeCommand(['ip', '-o', 'addr']) });
      assert.equal(result.transport, 'local');
      assert.equal(result.exitCode, 0, result.stderr);
      assert.ok(target.ns === 'sandbox');
      for (const address of target.task.addresses) assert.match(result.stdout, new RegExp(` inet ${address.replace(/\./g, '\\.')}/`));
      assert.match(result.how, /^nsenter --net=\/run\/swarm-lab\/swarm0\d\/docker\/netns\/[0-9a-f]{12} on this machine$/);
    }
  });

  it('the host namespace and the overlay namespace of a node', async () => {
    const [host] = resolveTargets(snapshot, 'swarm02');
    const addr = await runner.run({ target: host, command: freeCommand(['ip', '-o', '-4', 'addr']) });
    assert.match(addr.stdout, /inet 10\.99\.0\.12\/24/);
    const [overlay] = resolveTargets(snapshot, 'swarm02', { ns: 'overlay', network: labInfo().network });
    const fdb = await runner.run({ target: overlay, command: freeCommand(['bridge', 'fdb', 'show', 'dev', 'vxlan0']) });
    assert.equal(fdb.exitCode, 0, fdb.stderr);
    assert.match(fdb.stdout, /dst 10\.99\.0\.1[01] /, 'vxlan0 forwards to the other nodes');
  });

  it('cancel kills the process; a missing tool is named', async () => {
    const [target] = resolveTargets(snapshot, 'connect.1');
    const abort = new AbortController();
    const running = runner.run({ target, command: freeCommand(['sleep', '30']), signal: abort.signal });
    setTimeout(() => abort.abort(), 300);
    const started = Date.now();
    await assert.rejects(running, (e: EngineError) => e.kind === 'cancelled');
    assert.ok(Date.now() - started < 5000);
    const missing = await runner.run({ target, command: freeCommand(['no-such-tool-xyz']) });
    assert.equal(missing.exitCode, 127);
    assert.equal(missing.explanation, '"no-such-tool-xyz" is not installed on this machine.');
  });

  it('a node this machine does not see cannot be forced local', async () => {
    const plain = new CommandRunner(engines, { via: 'local', helperImage: labInfo().toolsImage, netnsFolder: '/var/run/docker/netns', timeoutMs: 10_000 });
    const [target] = resolveTargets(snapshot, 'sourcemysql.1');
    await assert.rejects(plain.run({ target, command: freeCommand(['true']) }), /This machine is not swarm02, so the local transport cannot reach it/);
  });
});
