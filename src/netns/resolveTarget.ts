// Turns what a user names (a task, a node, a service; a namespace kind) into targets.
import type { NetworkRecord, NodeRecord, TaskRecord } from '../engine/types';
import { taskName, type SwarmSnapshot } from '../swarm/snapshot';
import { networkTarget, sandboxTarget, targetNode, type NamespaceKind, type Target } from './target';

export interface NamespaceChoice {
  ns: NamespaceKind;
  /** Network name or id for lb and overlay. */
  network?: string;
}

function findNetwork(snapshot: SwarmSnapshot, nameOrId: string): NetworkRecord {
  const found = snapshot.networks.filter((n) => n.name === nameOrId || n.id === nameOrId || (nameOrId.length >= 6 && n.id.startsWith(nameOrId)));
  if (found.length !== 1) {
    throw new Error(found.length ? `"${nameOrId}" names several networks: ${found.map((n) => n.name).join(', ')}` : `No network "${nameOrId}". Networks: ${snapshot.networks.map((n) => n.name).join(', ')}`);
  }
  return found[0];
}

function onNode(snapshot: SwarmSnapshot, node: NodeRecord, choice: NamespaceChoice): Target {
  switch (choice.ns) {
    case 'host':
    case 'ingress':
      return { ns: choice.ns, node: targetNode(node) };
    case 'lb':
    case 'overlay':
      return networkTarget(choice.ns, node, findNetwork(snapshot, choice.network ?? ''));
    case 'attached':
      throw new Error('A probe task is created by the doctor, not named on the command line.');
    case 'sandbox':
      throw new Error(`A node has no sandbox of its own: name a task, or use --ns host|ingress|lb:NET|overlay:NET.`);
  }
}

/**
 * Resolves a name: a task (id, id prefix, or "service.slot" / "service.nodeid" as `docker service ps`
 * shows it), a node (hostname or id), or a service (every running task). Ambiguous names are errors.
 */
export function resolveTargets(snapshot: SwarmSnapshot, name: string, choice?: NamespaceChoice): Target[] {
  const current = snapshot.services.flatMap((s) => snapshot.tasksByService.get(s.id) ?? []);
  const tasks = current.filter((t) => t.id === name || (name.length >= 6 && t.id.startsWith(name)) || taskName(t, snapshot.serviceById.get(t.serviceId)) === name);
  const nodes = snapshot.nodes.filter((n) => n.hostname === name || n.id === name || (name.length >= 6 && n.id.startsWith(name)));
  const services = snapshot.services.filter((s) => s.name === name || s.id === name || (name.length >= 6 && s.id.startsWith(name)));
  const kinds = [tasks.length && 'task', nodes.length && 'node', services.length && 'service'].filter(Boolean);
  if (kinds.length === 0) throw new Error(`No task, node or service is named "${name}".`);
  if (kinds.length > 1 || tasks.length > 1 || nodes.length > 1 || services.length > 1) {
    throw new Error(`"${name}" is ambiguous: it matches ${[...tasks.map((t) => `task ${taskName(t, snapshot.serviceById.get(t.serviceId))}`), ...nodes.map((n) => `node ${n.hostname}`), ...services.map((s) => `service ${s.name}`)].join(', ')}.`);
  }
  if (nodes.length) return [onNode(snapshot, nodes[0], choice ?? { ns: 'host' })];
  const fromTask = (task: TaskRecord): Target => {
    if (!choice || choice.ns === 'sandbox') return sandboxTarget(snapshot, task);
    const node = snapshot.nodeById.get(task.nodeId ?? '');
    if (!node) throw new Error(`The task ${task.id.slice(0, 12)} is not on a node.`);
    return onNode(snapshot, node, choice);
  };
  if (tasks.length) return [fromTask(tasks[0])];
  const running = (snapshot.tasksByService.get(services[0].id) ?? []).filter((t) => t.state === 'running');
  if (!running.length) throw new Error(`The service ${services[0].name} has no running task.`);
  return running.map(fromTask);
}
