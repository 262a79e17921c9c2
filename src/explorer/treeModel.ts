// What the three trees show, as plain data: labels, descriptions, tooltips, icons, menu context.
// No vscode import, so it is unit-tested and benchmarked in plain Node; the extension maps each
// TreeEntry to a TreeItem one to one.
import type { EngineError } from '../engine/errors';
import type { InspectKind, NetworkRecord, NodeRecord, ServiceRecord, TaskRecord } from '../engine/types';
import { compareNames, isFailedState, taskName, type SwarmSnapshot } from '../swarm/snapshot';

export type IconColor = 'ok' | 'warning' | 'error' | 'muted' | 'info';

export interface TreeEntry {
  /** Unique within its view and stable across refreshes. */
  id: string;
  label: string;
  description?: string;
  /** Markdown, built on hover (resolveTreeItem): tooltips are most of the cost of a big tree. */
  tooltip?: () => string;
  icon: { id: string; color?: IconColor };
  /** Space-separated tokens for menus' when-clauses, e.g. "kind:node role:manager inspectable". */
  contextValue: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  /** What "Inspect" opens for this entry. */
  inspect?: { kind: InspectKind; id: string; title: string };
  /** The swarm object behind the entry, for commands run on it. */
  ref?: { kind: 'node' | 'task' | 'service' | 'network'; id: string };
  /** A command run on click (used by entries that offer a fix). */
  command?: { id: string; title: string; args?: unknown[] };
  children?: () => TreeEntry[];
}

export type ViewKind = 'nodes' | 'services' | 'networks';

const md = (text: string) => text.replace(/([\\`*_{}[\]()#+\-.!|<>])/g, '\\$1');

function table(rows: [string, string | undefined][]): string {
  return rows
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([key, value]) => `**${key}:** ${md(value!)}`)
    .join('  \n');
}

function labelsText(labels: Record<string, string>): string | undefined {
  const entries = Object.entries(labels);
  return entries.length ? entries.map(([k, v]) => (v ? `${k}=${v}` : k)).join(', ') : undefined;
}

// ---- health ------------------------------------------------------------------------------

export function nodeHealth(node: NodeRecord): { color: IconColor; text: string } {
  if (node.state !== 'ready') return { color: 'error', text: node.state };
  if (node.availability === 'drain') return { color: 'warning', text: 'drained' };
  if (node.availability === 'pause') return { color: 'warning', text: 'paused' };
  if (node.role === 'manager' && node.managerReachability && node.managerReachability !== 'reachable') {
    return { color: 'warning', text: `manager ${node.managerReachability}` };
  }
  return { color: 'ok', text: 'ready' };
}

export function taskHealth(task: TaskRecord): { icon: string; color: IconColor } {
  if (isFailedState(task.state)) return { icon: 'error', color: 'error' };
  switch (task.state) {
    case 'running':
      return { icon: 'circle-filled', color: 'ok' };
    case 'complete':
      return { icon: 'pass', color: 'muted' };
    case 'shutdown':
    case 'remove':
      return { icon: 'circle-outline', color: 'muted' };
    default:
      // new, pending, assigned, accepted, preparing, ready, starting
      return { icon: 'loading~spin', color: 'info' };
  }
}

// ---- entries -----------------------------------------------------------------------------

function nodeEntry(snapshot: SwarmSnapshot, node: NodeRecord): TreeEntry {
  const health = nodeHealth(node);
  const tasks = snapshot.tasksByNode.get(node.id) ?? [];
  const roleText = node.role === 'manager' ? (node.leader ? 'leader' : 'manager') : 'worker';
  return {
    id: `node/${node.id}`,
    label: node.hostname,
    description: `${roleText} · ${health.text} · ${node.address}`,
    tooltip: () => [
      `**${md(node.hostname)}** (${roleText})`,
      table([
        ['ID', node.id],
        ['Status', node.state + (node.stateMessage ? ` (${node.stateMessage})` : '')],
        ['Availability', node.availability],
        ['Manager reachability', node.managerReachability],
        ['Address', node.address],
        ['Engine', node.engineVersion],
        ['Platform', `${node.os}/${node.architecture}`],
        ['Labels', labelsText(node.labels)],
        ['Tasks', String(tasks.length)],
      ]),
    ].join('\n\n'),
    icon: { id: node.role === 'manager' ? 'server-environment' : 'server', color: health.color },
    contextValue: `kind:node role:${node.role} state:${node.state} availability:${node.availability}${node.leader ? ' leader' : ''}${node.state === 'ready' ? ' runnable' : ''} inspectable`,
    collapsible: tasks.length ? 'collapsed' : 'none',
    inspect: { kind: 'node', id: node.id, title: `node ${node.hostname}` },
    ref: { kind: 'node', id: node.id },
    children: () => tasks.map((task) => taskEntry(snapshot, task, `node/${node.id}`, 'nodes')),
  };
}

function addressesText(task: TaskRecord): string {
  // A plain loop: this runs for every task in every view.
  let text = '';
  for (const attachment of task.addresses) {
    for (const cidr of attachment.addresses) {
      const slash = cidr.indexOf('/');
      text += (text ? ', ' : '') + (slash < 0 ? cidr : cidr.slice(0, slash));
    }
  }
  return text;
}

function taskEntry(snapshot: SwarmSnapshot, task: TaskRecord, parentId: string, view: ViewKind): TreeEntry {
  const service = snapshot.serviceById.get(task.serviceId);
  const node = task.nodeId ? snapshot.nodeById.get(task.nodeId) : undefined;
  const health = taskHealth(task);
  const name = taskName(task, service);
  const where = view === 'nodes' ? '' : ` on ${node?.hostname ?? 'no node'}`;
  const addresses = addressesText(task);
  const problem = task.error ?? (isFailedState(task.state) ? task.message : undefined);
  const id = `${parentId}/task/${task.id}`;
  return {
    id,
    label: name,
    description: task.state + where + (addresses ? ` · ${addresses}` : '') + (problem ? ` · ${problem}` : ''),
    tooltip: () => [
      `**${md(name)}**`,
      table([
        ['Task ID', task.id],
        ['Service', service?.name],
        ['Node', node ? `${node.hostname} (${node.id})` : task.nodeId],
        ['State', `${task.state} (desired ${task.desiredState})`],
        ['Message', task.message],
        ['Error', task.error],
        ['Container', task.containerId],
        ['Image', task.image],
        ['Since', task.timestamp],
        ...task.addresses.map((a): [string, string] => [`Network ${a.networkName || a.networkId}`, a.addresses.join(', ')]),
      ]),
    ].join('\n\n'),
    icon: { id: health.icon, color: health.color },
    contextValue: `kind:task state:${task.state}${task.containerId && task.state === 'running' ? ' runnable' : ''} inspectable`,
    collapsible: task.addresses.length ? 'collapsed' : 'none',
    inspect: { kind: 'task', id: task.id, title: `task ${name}` },
    ref: { kind: 'task', id: task.id },
    children: () => task.addresses.map((attachment) => taskNetworkEntry(snapshot, attachment.networkId, attachment.networkName, attachment.addresses, id)),
  };
}

function taskNetworkEntry(snapshot: SwarmSnapshot, networkId: string, networkName: string, addresses: string[], parentId: string): TreeEntry {
  const network = snapshot.networkById.get(networkId);
  const name = network?.name ?? networkName ?? networkId.slice(0, 12);
  return {
    id: `${parentId}/net/${networkId}`,
    label: name,
    description: addresses.join(', '),
    tooltip: () => table([
      ['Network', name],
      ['ID', networkId],
      ['Driver', network?.driver],
      ['Addresses', addresses.join(', ')],
    ]),
    icon: { id: 'location' },
    contextValue: 'kind:taskNetwork inspectable',
    collapsible: 'none',
    inspect: { kind: 'network', id: networkId, title: `network ${name}` },
  };
}

function replicasText(snapshot: SwarmSnapshot, service: ServiceRecord): { text: string; color: IconColor } {
  const health = snapshot.health.get(service.id) ?? { running: 0, desired: 0, failing: 0 };
  const text = `${health.running}/${health.desired}`;
  if (service.mode.endsWith('job')) return { text, color: health.failing ? 'error' : 'ok' };
  if (health.desired > 0 && health.running === 0) return { text, color: 'error' };
  if (health.running < health.desired || health.failing) return { text, color: 'warning' };
  return { text, color: 'ok' };
}

function portsText(service: ServiceRecord): string | undefined {
  if (!service.ports.length) return undefined;
  return service.ports
    .map((p) => `${p.publishedPort ?? '*'}:${p.targetPort}/${p.protocol}${p.publishMode === 'host' ? ' (host)' : ''}`)
    .join(', ');
}

function serviceEntry(snapshot: SwarmSnapshot, service: ServiceRecord, parentId: string, view: ViewKind, networkId?: string): TreeEntry {
  const replicas = replicasText(snapshot, service);
  const allTasks = snapshot.tasksByService.get(service.id) ?? [];
  const tasks = networkId ? allTasks.filter((t) => t.addresses.some((a) => a.networkId === networkId)) : allTasks;
  const networks = service.networks.map((n) => snapshot.networkById.get(n.networkId)?.name ?? n.networkId.slice(0, 12));
  const vips = service.virtualIps.map((v) => `${v.address} (${snapshot.networkById.get(v.networkId)?.name ?? v.networkId.slice(0, 12)})`);
  const ports = portsText(service);
  const id = `${parentId}/service/${service.id}`;
  return {
    id,
    label: service.name,
    description: [replicas.text, service.mode === 'replicated' ? undefined : service.mode, service.image, ports].filter(Boolean).join(' · '),
    tooltip: () => [
      `**${md(service.name)}**`,
      table([
        ['ID', service.id],
        ['Mode', service.mode],
        ['Replicas', `${replicas.text} running`],
        ['Image', service.image],
        ['Ports', ports],
        ['Networks', networks.join(', ')],
        ['Endpoint mode', service.endpointMode],
        ['VIPs', vips.join(', ')],
        ['Constraints', service.constraints.join(', ')],
        ['Labels', labelsText(service.labels)],
        ['Update', service.updateState],
      ]),
    ].join('\n\n'),
    icon: { id: 'layers', color: replicas.color },
    contextValue: `kind:service mode:${service.mode} endpoint:${service.endpointMode}${tasks.some((t) => t.state === 'running') ? ' runnable' : ''} inspectable`,
    collapsible: tasks.length ? 'collapsed' : 'none',
    inspect: { kind: 'service', id: service.id, title: `service ${service.name}` },
    ref: { kind: 'service', id: service.id },
    children: () => tasks.map((task) => taskEntry(snapshot, task, id, view)),
  };
}

function networkEntry(snapshot: SwarmSnapshot, network: NetworkRecord): TreeEntry {
  const services = snapshot.servicesByNetwork.get(network.id) ?? [];
  const subnets = network.subnets.map((s) => s.subnet).join(', ');
  const flags = [network.ingress && 'ingress', network.attachable && 'attachable', network.internal && 'internal', network.encrypted && 'encrypted'].filter(Boolean) as string[];
  const id = `network/${network.id}`;
  return {
    id,
    label: network.name,
    description: [network.driver, subnets, ...flags].filter(Boolean).join(' · '),
    tooltip: () => [
      `**${md(network.name)}**`,
      table([
        ['ID', network.id],
        ['Driver', network.driver],
        ['Scope', network.scope],
        ['Subnets', network.subnets.map((s) => (s.gateway ? `${s.subnet} (gateway ${s.gateway})` : s.subnet)).join(', ')],
        ['Flags', flags.join(', ')],
        ['VXLAN ID', network.options['com.docker.network.driver.overlay.vxlanid_list']],
        ['Services', String(services.length)],
      ]),
    ].join('\n\n'),
    icon: { id: network.scope === 'swarm' ? 'globe' : 'plug', color: network.encrypted ? 'info' : undefined },
    contextValue: `kind:network driver:${network.driver} scope:${network.scope}${network.ingress ? ' ingress' : ''}${network.driver === 'overlay' ? ' runnable' : ''} inspectable`,
    collapsible: services.length ? 'collapsed' : 'none',
    inspect: { kind: 'network', id: network.id, title: `network ${network.name}` },
    ref: { kind: 'network', id: network.id },
    children: () => services.map((service) => serviceEntry(snapshot, service, id, 'networks', network.id)),
  };
}

/** The root entries of one view for a snapshot. */
export function rootEntries(snapshot: SwarmSnapshot, view: ViewKind): TreeEntry[] {
  switch (view) {
    case 'nodes':
      return snapshot.nodes.map((node) => nodeEntry(snapshot, node));
    case 'services':
      return snapshot.services.map((service) => serviceEntry(snapshot, service, 'services', 'services'));
    case 'networks':
      // Swarm-scoped networks are where cross-node trouble lives; local ones (bridge, host) follow.
      return [...snapshot.networks]
        .sort((a, b) => Number(b.scope === 'swarm') - Number(a.scope === 'swarm') || compareNames(a.name, b.name))
        .map((network) => networkEntry(snapshot, network));
  }
}

/** Entries shown instead of the tree when the engine cannot be used, each offering a fix. */
export function errorEntries(error: EngineError, endpointText: string | undefined, view: ViewKind): TreeEntry[] {
  const fixes: TreeEntry[] = [];
  const fix = (key: string, label: string, command: string, icon: string): TreeEntry => ({
    id: `${view}/fix/${key}`,
    label,
    icon: { id: icon },
    contextValue: 'kind:fix',
    collapsible: 'none',
    command: { id: command, title: label },
  });
  if (['unreachable', 'notManager', 'notSwarm', 'context', 'config', 'tls', 'permission', 'timeout'].includes(error.kind)) {
    fixes.push(fix('context', 'Pick another Docker context or host…', 'swarmDoctor.selectEngine', 'plug'));
  }
  if (['config', 'tls', 'context'].includes(error.kind)) {
    fixes.push(fix('settings', 'Open the Swarm Doctor settings', 'swarmDoctor.openSettings', 'settings-gear'));
  }
  fixes.push(fix('retry', 'Retry', 'swarmDoctor.refresh', 'refresh'));
  return [
    {
      id: `${view}/error`,
      label: error.message,
      description: endpointText,
      tooltip: () => md(error.fullMessage),
      icon: { id: 'error', color: 'error' },
      contextValue: `kind:error error:${error.kind}`,
      collapsible: 'none',
    },
    ...(error.hint
      ? [{ id: `${view}/hint`, label: error.hint, icon: { id: 'lightbulb' }, contextValue: 'kind:hint', collapsible: 'none' as const }]
      : []),
    ...fixes,
  ];
}

/** Every entry of a view, depth first (for benchmarks and tests). */
export function expandAll(entries: TreeEntry[], visit: (entry: TreeEntry, depth: number) => void, depth = 0): number {
  let count = 0;
  for (const entry of entries) {
    visit(entry, depth);
    count++;
    if (entry.children) count += expandAll(entry.children(), visit, depth + 1);
  }
  return count;
}
