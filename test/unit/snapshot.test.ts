import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { networkFromApi, nodeFromApi, serviceFromApi, taskFromApi } from '../../src/engine/records';
import { buildSnapshot, describeOwner, duplicateAddresses, isCurrentTask, lookupAddress, taskName } from '../../src/swarm/snapshot';
import { syntheticSwarm } from '../support/syntheticSwarm';

function snapshotOf(raw: ReturnType<typeof syntheticSwarm>) {
  return buildSnapshot({
    nodes: raw.nodes.map(nodeFromApi),
    services: raw.services.map(serviceFromApi),
    tasks: raw.tasks.map(taskFromApi),
    networks: raw.networks.map(networkFromApi),
  });
}

describe('records from Engine API JSON', () => {
  const raw = syntheticSwarm({ nodes: 5, services: 4, tasks: 12 });

  it('reads nodes: role, leader, availability, address of a manager that reports 0.0.0.0', () => {
    const node = nodeFromApi({ ...raw.nodes[0], Status: { State: 'ready', Addr: '0.0.0.0' } });
    assert.equal(node.role, 'manager');
    assert.equal(node.leader, true);
    assert.equal(node.address, '192.168.0.0', 'falls back to ManagerStatus.Addr without the port');
    assert.deepEqual(node.labels, { zone: 'z0' });
  });

  it('reads services: mode, replicas, image without digest, ports, VIPs', () => {
    const service = serviceFromApi(raw.services[0]);
    assert.equal(service.mode, 'global');
    assert.equal(service.image, 'registry.example/app0:1.0');
    assert.deepEqual(service.ports, [{ protocol: 'tcp', targetPort: 8080, publishedPort: 30000, publishMode: 'ingress' }]);
    assert.equal(service.virtualIps.length, 1);
    const replicated = serviceFromApi(raw.services[1]);
    assert.equal(replicated.mode, 'replicated');
    assert.equal(replicated.desiredReplicas, 3);
    const job = serviceFromApi({ ID: 'j', Spec: { Name: 'job', Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 4 } } } });
    assert.deepEqual([job.mode, job.desiredReplicas], ['replicated-job', 4]);
  });

  it('reads an encrypted overlay network (the option has an empty value)', () => {
    const network = networkFromApi({ ...raw.networks[0], Options: { encrypted: '' } });
    assert.equal(network.encrypted, true);
    assert.equal(networkFromApi(raw.networks[0]).encrypted, false);
  });
});

describe('swarm snapshot', () => {
  const raw = syntheticSwarm({ nodes: 10, services: 20, tasks: 200 });
  const snapshot = snapshotOf(raw);

  it('places every current task under its node and service', () => {
    const perNode = [...snapshot.tasksByNode.values()].reduce((n, list) => n + list.length, 0);
    const perService = [...snapshot.tasksByService.values()].reduce((n, list) => n + list.length, 0);
    assert.equal(perNode, perService);
    for (const [nodeId, tasks] of snapshot.tasksByNode) for (const t of tasks) assert.equal(t.nodeId, nodeId);
  });

  it('counts running against desired replicas, and keeps a failed slot visible', () => {
    // Service 3 has a failed task (i % 97 === 3) whose slot has no replacement.
    const service = snapshot.services.find((s) => s.name === 'svc3')!;
    const health = snapshot.health.get(service.id)!;
    assert.equal(health.desired, 10);
    assert.equal(health.running, 9);
    assert.equal(health.failing, 1);
    assert.ok(snapshot.tasksByService.get(service.id)!.some((t) => t.state === 'failed'));
  });

  it('hides an old failed task once its slot runs a newer one', () => {
    const base = syntheticSwarm({ nodes: 1, services: 1, tasks: 1 });
    const running = taskFromApi(base.tasks[0]);
    const oldFailed = { ...running, id: 'old', state: 'failed', desiredState: 'shutdown', timestamp: '2026-11-26T09:00:00Z' };
    const s = buildSnapshot({ nodes: base.nodes.map(nodeFromApi), services: base.services.map(serviceFromApi), networks: base.networks.map(networkFromApi), tasks: [oldFailed, running] });
    assert.deepEqual(s.tasksByService.get(running.serviceId)!.map((t) => t.id), [running.id]);
    assert.equal(s.health.get(running.serviceId)!.failing, 0);
    assert.equal(s.taskHistoryByService.get(running.serviceId)!.length, 2);
    assert.equal(isCurrentTask(oldFailed), false);
  });

  it('looks up an address: task, VIP, node', () => {
    const task = snapshot.tasksByService.get(snapshot.services[1].id)!.find((t) => t.state === 'running')!;
    const cidr = task.addresses[0].addresses[0];
    const owner = lookupAddress(snapshot, cidr)!;
    assert.equal(owner.kind, 'task');
    assert.equal(owner.task?.id, task.id);
    assert.equal(owner.service?.name, 'svc1');
    assert.equal(owner.node?.id, task.nodeId);
    assert.match(describeOwner(owner), new RegExp(`^svc1\\.\\d+ on node\\d{3}$`));
    const vip = lookupAddress(snapshot, snapshot.services[1].virtualIps[0].address)!;
    assert.equal(vip.kind, 'vip');
    assert.equal(describeOwner(vip), 'VIP of svc1');
    assert.equal(lookupAddress(snapshot, '192.168.0.4')?.node?.hostname, 'node004');
    assert.equal(lookupAddress(snapshot, '203.0.113.1'), undefined);
  });

  it('reports an address that two live tasks claim', () => {
    const base = syntheticSwarm({ nodes: 2, services: 1, tasks: 2 });
    const tasks = base.tasks.map(taskFromApi);
    tasks[1] = { ...tasks[1], addresses: tasks[0].addresses };
    const s = buildSnapshot({ nodes: base.nodes.map(nodeFromApi), services: base.services.map(serviceFromApi), networks: base.networks.map(networkFromApi), tasks });
    const dups = duplicateAddresses(s);
    assert.equal(dups.length, 1);
    assert.deepEqual(dups[0].map((o) => o.task?.id).sort(), [tasks[0].id, tasks[1].id].sort());
  });

  it('names tasks as docker service ps does', () => {
    const service = snapshot.services.find((s) => s.mode === 'global')!;
    const task = snapshot.tasksByService.get(service.id)![0];
    assert.equal(taskName(task, service), `${service.name}.${task.nodeId!.slice(0, 12)}`);
  });

  it('leaves out our helper services and the tasks of removed services', () => {
    const base = syntheticSwarm({ nodes: 2, services: 2, tasks: 4 });
    const services = base.services.map(serviceFromApi);
    services[1] = { ...services[1], labels: { 'swarm-doctor.helper': 'job' } };
    const tasks = base.tasks.map(taskFromApi);
    tasks.push({ ...tasks[0], id: 'orphan', serviceId: 'removed-service' });
    const s = buildSnapshot({ nodes: base.nodes.map(nodeFromApi), services, networks: base.networks.map(networkFromApi), tasks });
    assert.deepEqual(s.services.map((x) => x.name), ['svc0']);
    assert.ok(s.tasks.every((t) => t.serviceId === services[0].id));
    assert.equal([...s.tasksByNode.values()].flat().length, 2);
  });
});
