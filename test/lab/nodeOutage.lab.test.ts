// A worker's dockerd stops while the views are open, then comes back: the store stays usable,
// shows the node down, and recovers; the CLI and a store pointed at the dead engine say so clearly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/runCli';
import { connectEngine } from '../../src/engine/dockerodeEngine';
import { parseDockerHost } from '../../src/engine/endpoint';
import { SwarmStore, type StoreState } from '../../src/explorer/swarmStore';
import { rootEntries } from '../../src/explorer/treeModel';
import { EngineError } from '../../src/engine/errors';
import { freeCommand } from '../../src/netns/command';
import { NodeEngines } from '../../src/netns/nodeEngines';
import { resolveTargets } from '../../src/netns/resolveTarget';
import { CommandRunner } from '../../src/netns/runner';
import { HELPER_LABEL, removeLeftovers } from '../../src/netns/transports';
import { fetchSwarm } from '../../src/swarm/fetchSnapshot';
import { engineOf, eventually, lab, labConverged, labInfo, labNode, labNodeEndpoints, managerEngine } from '../support/lab';

function storeFor(socket: string): SwarmStore {
  return new SwarmStore({ connect: () => connectEngine(parseDockerHost(`unix://${socket}`, 'lab'), { timeoutMs: 3000 }), pollMs: 1000, debounceMs: 100, retryMs: 500 });
}

const cli = runCli;

describe('a worker node goes down and comes back', () => {
  const managerStore = storeFor(labNode('swarm00').socket);
  const workerStore = storeFor(labNode('swarm02').socket);
  let stopped = false;
  let stopped01 = false;
  before(() => labConverged());
  after(async () => {
    managerStore.dispose();
    workerStore.dispose();
    if (stopped) lab('start-node', 'swarm02');
    if (stopped01) lab('start-node', 'swarm01');
    // Leave the lab as the next test expects it: every task replaced and running again.
    await labConverged();
  });

  it('a command running when its node goes down fails with a clear message and leaves nothing once the node is back', async () => {
    const manager = managerEngine();
    const { summary, snapshot } = await fetchSwarm(manager);
    const engines = new NodeEngines({ manager, managerNodeId: summary.swarm.nodeId, endpoints: labNodeEndpoints(), timeoutMs: 10_000 });
    const runner = new CommandRunner(engines, { via: 'auto', helperImage: labInfo().toolsImage, netnsFolder: '/var/run/docker/netns', timeoutMs: 25_000 });
    try {
      const [target] = resolveTargets(snapshot, 'connect.1');
      const direct = runner.run({ target, command: freeCommand(['sleep', '60']), via: 'direct' });
      const viaManager = runner.run({ target, command: freeCommand(['sleep', '60']), via: 'manager' });
      await new Promise((r) => setTimeout(r, 3000));
      lab('stop-node', 'swarm01');
      stopped01 = true;
      await assert.rejects(direct, (e: EngineError) => ['unreachable', 'timeout'].includes(e.kind) && /swarm01 \/ connect\.1 \/ sandbox: sleep 60 via direct: /.test(e.message));
      await assert.rejects(viaManager, (e: EngineError) => (e.kind === 'timeout' && /did not finish within 25 s; the job was removed/.test(e.message)) || (e.kind === 'unreachable' && /the node went down or left the swarm while it ran/.test(e.message)));
      assert.ok(runner.pendingCleanupCount >= 1, 'the helper on the stopped node is remembered for removal');
      lab('start-node', 'swarm01');
      stopped01 = false;
      await eventually('the remembered helpers to be removed', async () => ((await runner.retryCleanup()) === 0 ? true : undefined), 30_000);
      const own = engineOf('swarm01');
      try {
        // Helpers of earlier, crashed runs (owner process gone) go too, as at the next start.
        await removeLeftovers([own]);
        await eventually('no helper container on swarm01', async () => ((await own.listLabeled('container', HELPER_LABEL)).length === 0 ? true : undefined), 60_000);
      } finally {
        own.dispose();
      }
      assert.deepEqual(await manager.listLabeled('service', HELPER_LABEL), []);
    } finally {
      engines.dispose();
      manager.dispose();
    }
  });

  it('shows swarm02 down, then ready again, without losing the manager connection', async () => {
    const states: StoreState['kind'][] = [];
    managerStore.onDidChange((s) => states.push(s.kind));
    managerStore.setVisible(true);
    workerStore.setVisible(true);
    await eventually('the manager store to be ready', async () => (managerStore.state.kind === 'ready' ? true : undefined), 20_000);
    await eventually('the worker store to report a worker', async () => (workerStore.state.kind === 'failed' && workerStore.state.error.kind === 'notManager' ? true : undefined), 20_000);

    lab('stop-node', 'swarm02');
    stopped = true;

    const nodeState = (hostname: string) => {
      const s = managerStore.state;
      return s.kind === 'ready' ? s.snapshot.nodes.find((n) => n.hostname === hostname)?.state : undefined;
    };
    await eventually('the manager to see swarm02 down', async () => (nodeState('swarm02') === 'down' ? true : undefined), 90_000);
    const entry = (() => {
      const s = managerStore.state;
      return s.kind === 'ready' ? rootEntries(s.snapshot, 'nodes').find((e) => e.label === 'swarm02') : undefined;
    })();
    assert.deepEqual(entry?.icon, { id: 'server', color: 'error' });
    assert.match(entry!.description!, /worker · down/);

    await eventually('the store on swarm02 itself to report the engine unreachable', async () => (workerStore.state.kind === 'failed' && workerStore.state.error.kind === 'unreachable' ? true : undefined), 20_000);
    const { code, err } = await cli(['ls', 'nodes', '--host', `unix://${labNode('swarm02').socket}`]);
    assert.equal(code, 1);
    assert.match(err, /Cannot reach the Docker engine at unix:\/\/.*swarm02.*(does not exist|connection refused)/);

    lab('start-node', 'swarm02');
    stopped = false;
    await eventually('the manager to see swarm02 ready again', async () => (nodeState('swarm02') === 'ready' ? true : undefined), 90_000);
    await eventually('the store on swarm02 to recover (a worker again)', async () => (workerStore.state.kind === 'failed' && workerStore.state.error.kind === 'notManager' ? true : undefined), 30_000);
    assert.ok(!states.includes('failed'), `the manager store never failed: ${states.join(',')}`);
  });

  it('the CLI lists the three nodes', async () => {
    const { code, out } = await cli(['ls', 'nodes', '--host', `unix://${labNode('swarm00').socket}`]);
    assert.equal(code, 0, out);
    const hostnames = out.trim().split('\n').slice(1).map((line) => line.split(/\s+/)[1]);
    assert.deepEqual(hostnames, ['swarm00', 'swarm01', 'swarm02']);
  });
});
