// A snapshot of the swarm: who runs where, every task's addresses per network, and a lookup from
// an IP address to the task, service and node behind it. Pure: built from engine records.
import type { NetworkRecord, NodeRecord, ServiceRecord, TaskRecord } from '../engine/types';

export interface AddressOwner {
  address: string;
  /** Prefix length of the address on its network, when known. */
  prefixLength?: number;
  network?: NetworkRecord;
  kind: 'task' | 'vip' | 'node';
  task?: TaskRecord;
  service?: ServiceRecord;
  node?: NodeRecord;
}

export interface ServiceHealth {
  running: number;
  /** Desired running tasks: replicas for replicated services, the tasks meant to run for global ones. */
  desired: number;
  /** Tasks whose latest attempt failed or was rejected, among the current slots. */
  failing: number;
}

export interface SwarmSnapshot {
  readonly takenAt: Date;
  readonly nodes: readonly NodeRecord[];
  readonly services: readonly ServiceRecord[];
  readonly tasks: readonly TaskRecord[];
  readonly networks: readonly NetworkRecord[];
  readonly nodeById: ReadonlyMap<string, NodeRecord>;
  readonly serviceById: ReadonlyMap<string, ServiceRecord>;
  readonly networkById: ReadonlyMap<string, NetworkRecord>;
  /** Current tasks (see isCurrentTask) per node id, sorted by service name then slot. */
  readonly tasksByNode: ReadonlyMap<string, readonly TaskRecord[]>;
  /** Current tasks per service id, sorted by slot then node. */
  readonly tasksByService: ReadonlyMap<string, readonly TaskRecord[]>;
  /** Every task (including history) per service id, newest first. */
  readonly taskHistoryByService: ReadonlyMap<string, readonly TaskRecord[]>;
  readonly servicesByNetwork: ReadonlyMap<string, readonly ServiceRecord[]>;
  readonly tasksByNetwork: ReadonlyMap<string, readonly TaskRecord[]>;
  readonly health: ReadonlyMap<string, ServiceHealth>;
  /** Address (without prefix) to owners; more than one owner means a duplicate. */
  readonly addressIndex: ReadonlyMap<string, readonly AddressOwner[]>;
}

/** Splits "10.0.1.5/24" into its address and prefix length. */
export function splitCidr(cidr: string): { address: string; prefixLength?: number } {
  const slash = cidr.indexOf('/');
  if (slash < 0) return { address: cidr };
  return { address: cidr.slice(0, slash), prefixLength: Number(cidr.slice(slash + 1)) };
}

const TERMINAL_STATES = new Set(['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove']);
const FAILED_STATES = new Set(['failed', 'rejected', 'orphaned']);

export function isFailedState(state: string): boolean {
  return FAILED_STATES.has(state);
}

/**
 * A task is current when the orchestrator still wants it (desired state running, ready or
 * accepted), or when it is the newest task of a slot that failed and has not been replaced yet.
 * Old shut-down tasks stay in the history, as `docker service ps` shows them below the current one.
 */
export function isCurrentTask(task: TaskRecord): boolean {
  return !TERMINAL_STATES.has(task.desiredState) || (task.desiredState === 'complete' && task.state !== 'complete');
}

/** A task whose container runs now: one a command can run in. */
export function isRunningTask(task: TaskRecord): boolean {
  return task.state === 'running' && !!task.containerId;
}

function slotKey(task: TaskRecord): string {
  return task.slot !== undefined ? `slot:${task.slot}` : `node:${task.nodeId ?? ''}`;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Plain code-unit order, for ids and ISO timestamps. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** Names as people sort them (swarm2 before swarm10); one collator, far cheaper than localeCompare per call. */
export const compareNames: (a: string, b: string) => number = new Intl.Collator('en', { numeric: true }).compare;

const byTime = (a: TaskRecord, b: TaskRecord) => compareText(b.timestamp ?? '', a.timestamp ?? '');

/** The label on our own helper containers and one-shot services: plumbing, not the user's swarm. */
export const HELPER_LABEL = 'swarm-doctor.helper';

export function buildSnapshot(input: {
  nodes: readonly NodeRecord[];
  services: readonly ServiceRecord[];
  tasks: readonly TaskRecord[];
  networks: readonly NetworkRecord[];
  takenAt?: Date;
}): SwarmSnapshot {
  const nodes = [...input.nodes].sort((a, b) => compareNames(a.hostname, b.hostname) || compareText(a.id, b.id));
  // Our own short-lived helper services are not part of the user's swarm.
  const services = input.services.filter((s) => !(HELPER_LABEL in s.labels)).sort((a, b) => compareNames(a.name, b.name));
  const networks = [...input.networks].sort((a, b) => compareNames(a.name, b.name));
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const serviceById = new Map(services.map((s) => [s.id, s]));
  const networkById = new Map(networks.map((n) => [n.id, n]));
  // Positions in the name-sorted lists: sorting tasks by these integers is much cheaper than by names.
  const nodeOrder = new Map(nodes.map((n, i) => [n.id, i]));
  const serviceOrder = new Map(services.map((s, i) => [s.id, i]));

  // Tasks of services that no longer exist (removed, or our helpers) linger a while: leave them out.
  const tasks = input.tasks.filter((t) => serviceById.has(t.serviceId));
  const taskHistoryByService = new Map<string, TaskRecord[]>();
  for (const task of tasks) pushTo(taskHistoryByService, task.serviceId, task);

  const tasksByService = new Map<string, TaskRecord[]>();
  const tasksByNode = new Map<string, TaskRecord[]>();
  const tasksByNetwork = new Map<string, TaskRecord[]>();
  const health = new Map<string, ServiceHealth>();
  const currentTasks: TaskRecord[] = [];

  for (const [serviceId, history] of taskHistoryByService) {
    history.sort(byTime);
    // Per slot (or per node for global services): the current task, or the newest failed one
    // when the slot has no current task, so a failing slot stays visible.
    const seenSlots = new Set<string>();
    const current: TaskRecord[] = [];
    for (const task of history) {
      if (isCurrentTask(task)) {
        current.push(task);
        seenSlots.add(slotKey(task));
      }
    }
    let failing = 0;
    for (const task of history) {
      const key = slotKey(task);
      if (seenSlots.has(key)) continue;
      seenSlots.add(key);
      if (isFailedState(task.state)) {
        current.push(task);
        failing++;
      }
    }
    for (const task of current) {
      if (isFailedState(task.state) && isCurrentTask(task)) failing++;
    }
    current.sort((a, b) => (a.slot ?? 0) - (b.slot ?? 0) || (nodeOrder.get(a.nodeId ?? '') ?? -1) - (nodeOrder.get(b.nodeId ?? '') ?? -1));
    tasksByService.set(serviceId, current);
    currentTasks.push(...current);

    const service = serviceById.get(serviceId);
    const running = current.filter((t) => t.state === 'running').length;
    const wanted = current.filter((t) => t.desiredState === 'running').length;
    const desired =
      service && (service.mode === 'replicated' || service.mode === 'replicated-job') && service.desiredReplicas !== undefined
        ? service.desiredReplicas
        : wanted;
    health.set(serviceId, { running, desired, failing });
  }
  for (const service of services) {
    if (!health.has(service.id)) {
      health.set(service.id, { running: 0, desired: service.mode === 'replicated' ? service.desiredReplicas ?? 0 : 0, failing: 0 });
      tasksByService.set(service.id, []);
    }
  }

  for (const task of currentTasks) {
    if (task.nodeId) pushTo(tasksByNode, task.nodeId, task);
    for (const attachment of task.addresses) pushTo(tasksByNetwork, attachment.networkId, task);
  }
  for (const list of [...tasksByNode.values(), ...tasksByNetwork.values()]) {
    list.sort((a, b) => (serviceOrder.get(a.serviceId) ?? -1) - (serviceOrder.get(b.serviceId) ?? -1) || (a.slot ?? 0) - (b.slot ?? 0));
  }

  const servicesByNetwork = new Map<string, ServiceRecord[]>();
  for (const service of services) {
    const ids = new Set([...service.networks.map((n) => n.networkId), ...service.virtualIps.map((v) => v.networkId)]);
    for (const id of ids) pushTo(servicesByNetwork, id, service);
  }

  const addressIndex = new Map<string, AddressOwner[]>();
  for (const task of currentTasks) {
    if (isFailedState(task.state) || task.state === 'shutdown' || task.state === 'complete') continue;
    const service = serviceById.get(task.serviceId);
    const node = task.nodeId ? nodeById.get(task.nodeId) : undefined;
    for (const attachment of task.addresses) {
      for (const cidr of attachment.addresses) {
        const { address, prefixLength } = splitCidr(cidr);
        pushTo(addressIndex, address, { address, prefixLength, network: networkById.get(attachment.networkId), kind: 'task', task, service, node });
      }
    }
  }
  for (const service of services) {
    for (const vip of service.virtualIps) {
      const { address, prefixLength } = splitCidr(vip.address);
      if (!address) continue;
      pushTo(addressIndex, address, { address, prefixLength, network: networkById.get(vip.networkId), kind: 'vip', service });
    }
  }
  for (const node of nodes) {
    if (node.address) pushTo(addressIndex, node.address, { address: node.address, kind: 'node', node });
  }

  return {
    takenAt: input.takenAt ?? new Date(),
    nodes,
    services,
    tasks,
    networks,
    nodeById,
    serviceById,
    networkById,
    tasksByNode,
    tasksByService,
    taskHistoryByService,
    servicesByNetwork,
    tasksByNetwork,
    health,
    addressIndex,
  };
}

/** Who owns an address ("10.0.1.7" or "10.0.1.7/24"); the first owner, or undefined. */
export function lookupAddress(snapshot: SwarmSnapshot, address: string): AddressOwner | undefined {
  return snapshot.addressIndex.get(splitCidr(address).address)?.[0];
}

/** "task schemaregistry.1 on swarm00", "VIP of web", "node swarm01": for packet lists and findings. */
export function describeOwner(owner: AddressOwner): string {
  switch (owner.kind) {
    case 'task':
      return `${taskName(owner.task!, owner.service)} on ${owner.node?.hostname ?? 'an unknown node'}`;
    case 'vip':
      return `VIP of ${owner.service?.name ?? 'an unknown service'}`;
    case 'node':
      return `node ${owner.node?.hostname}`;
  }
}

/** Every address the swarm knows, with its owner in words (describeOwner): what a capture taken
 *  now should be read with, even after its tasks have moved on. */
export function addressNames(snapshot: SwarmSnapshot): Map<string, string> {
  const names = new Map<string, string>();
  for (const [address, owners] of snapshot.addressIndex) if (owners.length) names.set(address, describeOwner(owners[0]));
  return names;
}

/** The name `docker service ps` shows: service.slot, or service.nodeId for global tasks. */
export function taskName(task: TaskRecord, service?: ServiceRecord): string {
  const base = service?.name ?? task.serviceId.slice(0, 12);
  return task.slot !== undefined ? `${base}.${task.slot}` : `${base}.${(task.nodeId ?? task.id).slice(0, 12)}`;
}

/** Addresses that more than one live task (or VIP) claims. */
export function duplicateAddresses(snapshot: SwarmSnapshot): (readonly AddressOwner[])[] {
  return [...snapshot.addressIndex.values()].filter((owners) => owners.filter((o) => o.kind !== 'node').length > 1);
}
