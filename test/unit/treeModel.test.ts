import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineError } from '../../src/engine/errors';
import { networkFromApi, nodeFromApi, serviceFromApi, taskFromApi } from '../../src/engine/records';
import { errorEntries, expandAll, rootEntries, type TreeEntry } from '../../src/explorer/treeModel';
import { buildSnapshot } from '../../src/swarm/snapshot';
import { syntheticSwarm } from '../support/syntheticSwarm';

const raw = syntheticSwarm({ nodes: 50, services: 40, tasks: 400 });
const snapshot = buildSnapshot({ nodes: raw.nodes.map(nodeFromApi), services: raw.services.map(serviceFromApi), tasks: raw.tasks.map(taskFromApi), networks: raw.networks.map(networkFromApi) });

describe('tree entries', () => {
  it('Nodes → tasks → networks with addresses; ids unique per view', () => {
    for (const view of ['nodes', 'services', 'networks'] as const) {
      const ids = new Set<string>();
      const count = expandAll(rootEntries(snapshot, view), (e) => {
        assert.ok(!ids.has(e.id), `duplicate id ${e.id} in ${view}`);
        ids.add(e.id);
      });
      assert.equal(count, ids.size);
    }
    const depths: number[] = [];
    const nodes = rootEntries(snapshot, 'nodes');
    expandAll(nodes, (_, depth) => depths.push(depth));
    assert.equal(Math.max(...depths), 2, 'node → task → network');
    const first = nodes[0];
    const task = first.children!()[0];
    const network = task.children!()[0];
    assert.match(task.contextValue, /kind:task/);
    assert.match(network.description!, /^10\.\d+\.\d+\.\d+\/24$/);
  });

  it('shows health with colours: down and drained nodes, failing services', () => {
    const nodes = rootEntries(snapshot, 'nodes');
    const down = nodes.find((n) => n.label === 'node007')!;
    assert.deepEqual(down.icon, { id: 'server', color: 'error' });
    assert.match(down.description!, /down/);
    const drained = nodes.find((n) => n.label === 'node005')!;
    assert.equal(drained.icon.color, 'warning');
    assert.equal(nodes.find((n) => n.label === 'node000')!.icon.id, 'server-environment');
    assert.match(nodes[0].description!, /^leader · ready/);
    const services = rootEntries(snapshot, 'services');
    assert.equal(services.find((s) => s.label === 'svc3')!.icon.color, 'warning', 'a failed replica');
    assert.equal(services.find((s) => s.label === 'svc1')!.icon.color, 'ok');
    const failedTask = services.find((s) => s.label === 'svc3')!.children!().find((t) => /failed/.test(t.description ?? ''))!;
    assert.deepEqual(failedTask.icon, { id: 'error', color: 'error' });
    assert.match(failedTask.description!, /non-zero exit/);
  });

  it('Services show tasks with their node; Networks show services then tasks', () => {
    const service = rootEntries(snapshot, 'services').find((s) => s.label === 'svc1')!;
    assert.match(service.description!, /^10\/10 · registry\.example\/app1:1\.1$/);
    assert.match(service.children!()[0].description!, /^running on node\d{3} · 10\./);
    const network = rootEntries(snapshot, 'networks')[0];
    assert.match(network.description!, /^overlay · 10\.0\.0\.0\/24 · attachable$/);
    const services = network.children!();
    assert.ok(services.length > 0 && services.every((s) => s.contextValue.startsWith('kind:service')));
    assert.ok(services[0].children!().length > 0);
  });

  it('every entry but fixes can be inspected, and tooltips escape markdown', () => {
    expandAll(rootEntries(snapshot, 'services'), (e: TreeEntry) => {
      assert.ok(e.inspect, `${e.id} has no inspect target`);
      assert.match(e.contextValue, /inspectable/);
    });
    const nodeTip = rootEntries(snapshot, 'nodes')[0].tooltip!();
    assert.match(nodeTip, /192\\\.168\\\.0\\\.0/);
  });

  it('an engine error becomes entries that offer the fix', () => {
    const entries = errorEntries(new EngineError('notManager', 'The engine at unix:///x is a swarm worker, not a manager.', 'Connect to a manager node.'), 'unix:///x', 'nodes');
    assert.equal(entries[0].icon.color, 'error');
    assert.equal(entries[1].label, 'Connect to a manager node.');
    assert.deepEqual(entries.filter((e) => e.command).map((e) => e.command!.id), ['swarmDoctor.selectEngine', 'swarmDoctor.refresh']);
  });
});
