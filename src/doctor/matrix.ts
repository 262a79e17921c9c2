// The connectivity matrix: from a task on every node to every task of a service (by address),
// to its VIP (where there is one) and to its name, on each of its ports. Each cell is a probe run
// in the client's namespace; cells run in parallel with a bound.
import type { NetworkRecord, ServiceRecord, TaskRecord } from '../engine/types';
import type { CommandRunner } from '../netns/runner';
import { describeTarget, sandboxTarget, targetNode, type Target } from '../netns/target';
import { compareNames, isRunningTask, splitCidr, taskName, type SwarmSnapshot } from '../swarm/snapshot';
import { commandEvidence, type Evidence } from './findings';
import { mapLimit } from './concurrency';
import { probeCommand, type ProbeOutcome, type ProbeState } from './probe';

export interface MatrixRequest {
  /** Service name or id. */
  service: string;
  /** TCP ports; default: the service's published target ports. */
  ports?: number[];
  /** Probe from this service's tasks; default: any task on the network on each node. */
  clientService?: string;
  /** Network name or id; default: the first overlay network the service is on. */
  network?: string;
  timeoutSeconds?: number;
  concurrency?: number;
}

export interface MatrixSource {
  node: string;
  nodeId: string;
  /** The task probing, or "probe task" for one of ours. */
  label: string;
  /** Service of the client task, if any. */
  service?: string;
  address?: string;
  target?: Target;
  /** Why this node cannot probe (down, no task and no way to start one). */
  problem?: string;
}

export interface MatrixDestination {
  kind: 'task' | 'vip' | 'name';
  /** e.g. "schemaregistry.1", "VIP", "name schemaregistry". */
  label: string;
  address?: string;
  name?: string;
  node?: string;
  port: number;
}

export interface MatrixCell {
  source: MatrixSource;
  destination: MatrixDestination;
  state: ProbeState | 'not-run';
  summary: string;
  outcome?: ProbeOutcome;
  evidence: Evidence[];
  durationMs: number;
}

export interface Matrix {
  service: string;
  network: string;
  ports: number[];
  sources: MatrixSource[];
  destinations: MatrixDestination[];
  /** Failing cells first, then by source node and destination. */
  cells: MatrixCell[];
  startedAt: string;
  durationMs: number;
  notes: string[];
}

export const FAILING_STATES: ReadonlySet<MatrixCell['state']> = new Set(['refused', 'timeout', 'unreachable', 'lookup-failed', 'error', 'not-run']);

export function findService(snapshot: SwarmSnapshot, nameOrId: string): ServiceRecord {
  const found = snapshot.services.find((s) => s.name === nameOrId || s.id === nameOrId) ?? snapshot.services.find((s) => nameOrId.length >= 6 && s.id.startsWith(nameOrId));
  if (!found) throw new Error(`No service "${nameOrId}". Services: ${snapshot.services.map((s) => s.name).sort(compareNames).join(', ') || 'none'}.`);
  return found;
}

/** The overlay network to probe on: the one asked for, else the first (non-ingress) one the service is on. */
export function chooseNetwork(snapshot: SwarmSnapshot, service: ServiceRecord, nameOrId?: string): NetworkRecord {
  const onService = service.networks.map((n) => snapshot.networkById.get(n.networkId)).filter((n): n is NetworkRecord => n !== undefined && !n.ingress);
  if (nameOrId) {
    const network = onService.find((n) => n.name === nameOrId || n.id === nameOrId || n.id.startsWith(nameOrId));
    if (!network) throw new Error(`The service ${service.name} is not on a network "${nameOrId}" (it is on: ${onService.map((n) => n.name).join(', ') || 'none'}).`);
    return network;
  }
  if (!onService.length) throw new Error(`The service ${service.name} is on no overlay network, so no other task reaches it over one.`);
  return [...onService].sort((a, b) => compareNames(a.name, b.name))[0];
}

export function addressOn(task: TaskRecord, networkId: string): string | undefined {
  const cidr = task.addresses.find((a) => a.networkId === networkId)?.addresses[0];
  return cidr ? splitCidr(cidr).address : undefined;
}


/**
 * Who probes from each node: one task of every other service on the network there (a fault often
 * hits one client's address only, as in the incident), or only the chosen client service's task, or,
 * where no task of the network runs, a probe task of ours. At most `perNode` sources per node.
 */
export function planSources(snapshot: SwarmSnapshot, network: NetworkRecord, options: { exclude?: ServiceRecord; client?: ServiceRecord; allowProbeTask?: boolean; perNode?: number }): MatrixSource[] {
  const nodes = [...snapshot.nodes].sort((a, b) => compareNames(a.hostname, b.hostname));
  return nodes.flatMap((node): MatrixSource[] => {
    const base = { node: node.hostname, nodeId: node.id };
    if (node.state !== 'ready') return [{ ...base, label: '—', problem: `${node.hostname} is ${node.state}${node.stateMessage ? ` (${node.stateMessage})` : ''}` }];
    const tasks = (snapshot.tasksByNode.get(node.id) ?? []).filter((t) => isRunningTask(t) && addressOn(t, network.id));
    const picks: TaskRecord[] = [];
    for (const task of tasks) {
      if (options.client ? task.serviceId !== options.client.id : task.serviceId === options.exclude?.id) continue;
      if (!picks.some((p) => p.serviceId === task.serviceId)) picks.push(task);
    }
    if (picks.length) {
      return picks.slice(0, options.perNode ?? 6).map((pick) => {
        const service = snapshot.serviceById.get(pick.serviceId);
        return { ...base, label: taskName(pick, service), service: service?.name, address: addressOn(pick, network.id), target: sandboxTarget(snapshot, pick) };
      });
    }
    if (options.client) return [{ ...base, label: '—', problem: `no running task of ${options.client.name} on ${node.hostname}` }];
    if (options.allowProbeTask === false || node.availability !== 'active') return [{ ...base, label: '—', problem: `no task on ${network.name} runs on ${node.hostname}` }];
    return [{ ...base, label: 'probe task', target: { ns: 'attached', node: targetNode(node), network: { id: network.id, name: network.name } } }];
  });
}

export function planDestinations(snapshot: SwarmSnapshot, service: ServiceRecord, network: NetworkRecord, ports: number[]): MatrixDestination[] {
  const destinations: MatrixDestination[] = [];
  const tasks = (snapshot.tasksByService.get(service.id) ?? []).filter(isRunningTask);
  for (const port of ports) {
    for (const task of tasks) {
      const address = addressOn(task, network.id);
      if (!address) continue;
      const node = task.nodeId ? snapshot.nodeById.get(task.nodeId)?.hostname : undefined;
      destinations.push({ kind: 'task', label: taskName(task, service), address, node, port });
    }
    const vip = service.endpointMode === 'vip' ? service.virtualIps.find((v) => v.networkId === network.id) : undefined;
    if (vip) destinations.push({ kind: 'vip', label: 'VIP', address: splitCidr(vip.address).address, port });
    destinations.push({ kind: 'name', label: `name ${service.name}`, name: service.name, port });
  }
  return destinations;
}

export function servicePorts(service: ServiceRecord): number[] {
  return [...new Set(service.ports.filter((p) => p.protocol === 'tcp').map((p) => p.targetPort))].sort((a, b) => a - b);
}

/** What a matrix will probe: decided from the snapshot alone, before any probe runs. */
export interface MatrixPlan {
  service: ServiceRecord;
  network: NetworkRecord;
  ports: number[];
  sources: MatrixSource[];
  destinations: MatrixDestination[];
  notes: string[];
}

/**
 * The sources, destinations and notes of a matrix request (what runMatrix probes, and what a view
 * shows as pending before the first answer). Throws, saying why, when the request cannot be planned.
 */
export function planMatrix(snapshot: SwarmSnapshot, request: MatrixRequest): MatrixPlan {
  const service = findService(snapshot, request.service);
  const network = chooseNetwork(snapshot, service, request.network);
  const ports = request.ports?.length ? request.ports : servicePorts(service);
  if (!ports.length) throw new Error(`The service ${service.name} publishes no TCP port: name the port(s) to probe.`);
  const client = request.clientService ? findService(snapshot, request.clientService) : undefined;
  const sources = planSources(snapshot, network, { exclude: service, client });
  const destinations = planDestinations(snapshot, service, network, ports);
  const notes: string[] = [];
  if (service.endpointMode === 'dnsrr') notes.push(`${service.name} uses DNS round robin (no VIP): clients reach its tasks by address.`);
  if (!destinations.some((d) => d.kind === 'task')) notes.push(`${service.name} has no running task with an address on ${network.name}.`);
  return { service, network, ports, sources, destinations, notes };
}

export async function runMatrix(snapshot: SwarmSnapshot, runner: CommandRunner, request: MatrixRequest, options: { signal?: AbortSignal; onCell?: (cell: MatrixCell) => void } = {}): Promise<Matrix> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const { service, network, ports, sources, destinations, notes } = planMatrix(snapshot, request);
  const timeoutSeconds = request.timeoutSeconds ?? 3;
  // Probes from one namespace run one after another: each watches its namespace with tcpdump, and a
  // neighbour's SYNs to the same address would blur its trace. Sources run in parallel, bounded.
  const perSource = await mapLimit(sources, request.concurrency ?? 4, async (source) => {
    const cells: MatrixCell[] = [];
    for (const destination of destinations) {
      const cell = await probeCell(runner, source, destination, timeoutSeconds, options.signal);
      options.onCell?.(cell);
      cells.push(cell);
    }
    return cells;
  });
  const cells = perSource.flat();
  return { service: service.name, network: network.name, ports, sources, destinations, cells: sortCells(cells), startedAt, durationMs: performance.now() - started, notes };
}

export async function probeCell(runner: CommandRunner, source: MatrixSource, destination: MatrixDestination, timeoutSeconds: number, signal?: AbortSignal): Promise<MatrixCell> {
  const started = performance.now();
  if (!source.target) return { source, destination, state: 'not-run', summary: `not run: ${source.problem}`, evidence: [], durationMs: 0 };
  const command = probeCommand(destination.address ? { address: destination.address, port: destination.port } : { name: destination.name!, port: destination.port }, timeoutSeconds);
  const title = `probe from ${source.label} (${source.node}) to ${destination.label}:${destination.port}`;
  const shown = `connect ${destination.address ?? destination.name}:${destination.port} while tcpdump watches`;
  try {
    const result = await runner.run({ target: source.target, command, signal });
    let outcome = command.parse!(result.stdout);
    const evidence = [commandEvidence(result, describeTarget(source.target), title, shown)];
    // A lost first packet (a cold VXLAN or ARP entry, a busy node) should not fail a cell on its own:
    // a timeout is tried once more, and both attempts stay in the evidence.
    if (outcome.state === 'timeout') {
      const again = await runner.run({ target: source.target, command, signal });
      const second = command.parse!(again.stdout);
      evidence.push(commandEvidence(again, describeTarget(source.target), `${title} (second attempt)`, shown));
      if (second.state !== 'timeout') second.summary += ' (the first attempt timed out)';
      outcome = second;
    }
    return { source, destination, state: outcome.state, summary: outcome.summary, outcome, evidence, durationMs: performance.now() - started };
  } catch (error) {
    if (signal?.aborted) throw error;
    const message = (error as Error).message;
    return { source, destination, state: 'error', summary: `probe failed: ${message}`, evidence: [{ kind: 'note', title: 'probe error', text: message }], durationMs: performance.now() - started };
  }
}

export function sortCells(cells: MatrixCell[]): MatrixCell[] {
  const rank = (c: MatrixCell) => (FAILING_STATES.has(c.state) ? (c.state === 'not-run' ? 1 : 0) : 2);
  return [...cells].sort((a, b) => rank(a) - rank(b) || compareNames(a.source.node, b.source.node) || a.destination.port - b.destination.port || compareNames(a.destination.label, b.destination.label));
}
