// The engine layer and the swarm model against the real three-node lab swarm.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EngineError } from '../../src/engine/errors';
import { fetchSwarm } from '../../src/swarm/fetchSnapshot';
import { lookupAddress, splitCidr, taskName } from '../../src/swarm/snapshot';
import { engineOf, labConverged, labInfo, managerEngine } from '../support/lab';

const PINNED: Record<string, string> = { schemaregistry: 'swarm00', connect: 'swarm01', sourcemysql: 'swarm02' };

describe('lab swarm through the engine layer', () => {
  const manager = managerEngine();
  before(() => labConverged());
  after(() => manager.dispose());

  it('the manager reports an active swarm it controls', async () => {
    const summary = await manager.summary();
    assert.equal(summary.name, 'swarm00');
    assert.equal(summary.swarm.localNodeState, 'active');
    assert.equal(summary.swarm.controlAvailable, true);
    assert.equal(summary.swarm.nodes, 3);
    assert.match(summary.serverVersion, /^20\.10\./);
  });

  it('three nodes, all Ready and active, with their roles and addresses', async () => {
    const { snapshot } = await fetchSwarm(manager);
    assert.deepEqual(
      snapshot.nodes.map((n) => [n.hostname, n.role, n.state, n.availability, n.address]),
      labInfo().nodes.map((n) => [n.name, n.role, 'ready', 'active', n.address]),
    );
    assert.equal(snapshot.nodes.find((n) => n.hostname === 'swarm00')!.leader, true);
  });

  it('every service runs its tasks on the node it is pinned to; the global one on every node', async () => {
    const { snapshot } = await fetchSwarm(manager);
    for (const [serviceName, nodeName] of Object.entries(PINNED)) {
      const service = snapshot.services.find((s) => s.name === serviceName);
      assert.ok(service, `service ${serviceName} exists`);
      const running = snapshot.tasksByService.get(service.id)!.filter((t) => t.state === 'running');
      assert.equal(running.length, 1, `${serviceName} runs one task`);
      assert.equal(snapshot.nodeById.get(running[0].nodeId!)!.hostname, nodeName, `${serviceName} runs on ${nodeName}`);
      assert.deepEqual(snapshot.health.get(service.id), { running: 1, desired: 1, failing: 0 });
    }
    const agent = snapshot.services.find((s) => s.name === 'nodeagent')!;
    assert.equal(agent.mode, 'global');
    const hosts = snapshot.tasksByService.get(agent.id)!.filter((t) => t.state === 'running').map((t) => snapshot.nodeById.get(t.nodeId!)!.hostname).sort();
    assert.deepEqual(hosts, ['swarm00', 'swarm01', 'swarm02']);
    const registry = snapshot.services.find((s) => s.name === 'schemaregistry')!;
    assert.deepEqual(registry.ports, [{ protocol: 'tcp', targetPort: 8081, publishedPort: 8081, publishMode: 'host' }]);
    assert.equal(registry.endpointMode, 'dnsrr');
    const backend = snapshot.networks.find((n) => n.name === labInfo().network)!;
    assert.equal(backend.driver, 'overlay');
    assert.equal(backend.attachable, true);
    assert.deepEqual((snapshot.servicesByNetwork.get(backend.id) ?? []).map((s) => s.name).sort(), ['connect', 'nodeagent', 'schemaregistry', 'sourcemysql']);
  });

  it("task addresses equal what each node's own engine reports for the container", async () => {
    const { snapshot } = await fetchSwarm(manager);
    let compared = 0;
    for (const task of snapshot.tasks.filter((t) => t.state === 'running')) {
      const node = snapshot.nodeById.get(task.nodeId!)!;
      const own = engineOf(node.hostname);
      try {
        const container = (await own.inspectRaw('container', task.containerId!)) as { NetworkSettings: { Networks: Record<string, { IPAddress: string; IPPrefixLen: number; NetworkID: string }> } };
        for (const attachment of task.addresses) {
          const seen = Object.values(container.NetworkSettings.Networks).find((n) => n.NetworkID === attachment.networkId);
          assert.ok(seen, `${taskName(task, snapshot.serviceById.get(task.serviceId))}: the container on ${node.hostname} is attached to ${attachment.networkName}`);
          assert.deepEqual(attachment.addresses, [`${seen.IPAddress}/${seen.IPPrefixLen}`]);
          compared++;
        }
      } finally {
        own.dispose();
      }
    }
    assert.ok(compared >= 6, `compared ${compared} task addresses`);
  });

  it('looks up an overlay address to its task, service and node', async () => {
    const { snapshot } = await fetchSwarm(manager);
    const registry = snapshot.services.find((s) => s.name === 'schemaregistry')!;
    const task = snapshot.tasksByService.get(registry.id)!.find((t) => t.state === 'running')!;
    const address = splitCidr(task.addresses.find((a) => a.networkName === labInfo().network)!.addresses[0]).address;
    const owner = lookupAddress(snapshot, address)!;
    assert.equal(owner.service?.name, 'schemaregistry');
    assert.equal(owner.node?.hostname, 'swarm00');
    assert.equal(owner.network?.name, labInfo().network);
  });

  it('a worker engine is reported as a worker, not a manager', async () => {
    const worker = engineOf('swarm01');
    try {
      await assert.rejects(fetchSwarm(worker), (e: EngineError) => e.kind === 'notManager' && /\(swarm01\) is a swarm worker, not a manager\./.test(e.message));
      await assert.rejects(worker.listNodes(), (e: EngineError) => e.kind === 'notManager' && e.statusCode === 503);
    } finally {
      worker.dispose();
    }
  });

  it('inspects raw objects, the network verbosely', async () => {
    const { snapshot } = await fetchSwarm(manager);
    const backend = snapshot.networks.find((n) => n.name === labInfo().network)!;
    const raw = (await manager.inspectRaw('network', backend.id)) as { Name: string; Services?: Record<string, unknown> };
    assert.equal(raw.Name, labInfo().network);
    assert.ok(raw.Services && Object.keys(raw.Services).length > 0, 'verbose inspect lists services');
    await assert.rejects(manager.inspectRaw('service', 'no-such-service'), (e: EngineError) => e.kind === 'notFound');
  });
});
