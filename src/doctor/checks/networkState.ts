// Network state agreement: each node's own view of every overlay network (verbose network
// inspect: peers and, per service, tasks with endpoint and host IP) against the manager's tasks;
// then the kernel's VXLAN state in each node's overlay namespace (neighbours and forwarding
// entries on vxlan0) against the same tasks.
import type { NetworkRecord, NodeRecord } from '../../engine/types';
import { NET_CAPABILITIES, type NetCommand } from '../../netns/command';
import { parseBridgeFdbJson, parseIpNeighJson } from '../../netns/parsers';
import { describeTarget, networkTarget } from '../../netns/target';
import { compareNames, lookupAddress, describeOwner, taskName, type SwarmSnapshot } from '../../swarm/snapshot';
import { mapLimit } from '../concurrency';
import { commandEvidence, type Evidence, type Finding } from '../findings';
import { addressOn } from '../matrix';
import type { DoctorContext } from '../report';

interface NodeView {
  peers: { name: string; ip: string }[];
  tasks: { service: string; name: string; endpointIp: string; hostIp?: string }[];
}

function readView(raw: unknown): NodeView {
  const o = (raw ?? {}) as { Peers?: { Name?: string; IP?: string }[] | null; Services?: Record<string, { Tasks?: { Name?: string; EndpointIP?: string; Info?: Record<string, string> }[] | null }> | null };
  const peers = (o.Peers ?? []).map((p) => ({ name: p.Name ?? '', ip: p.IP ?? '' }));
  const tasks = Object.entries(o.Services ?? {}).flatMap(([service, s]) => (s.Tasks ?? []).map((t) => ({ service, name: t.Name ?? '', endpointIp: t.EndpointIP ?? '', hostIp: t.Info?.['Host IP'] })));
  return { peers, tasks };
}

/** The tasks the manager says run on the network: address → node. */
function expectedTasks(snapshot: SwarmSnapshot, network: NetworkRecord): { address: string; node: NodeRecord; label: string }[] {
  return (snapshot.tasksByNetwork.get(network.id) ?? [])
    .filter((t) => t.state === 'running' && t.nodeId)
    .map((t) => ({ address: addressOn(t, network.id)!, node: snapshot.nodeById.get(t.nodeId!)!, label: taskName(t, snapshot.serviceById.get(t.serviceId)) }))
    .filter((t) => t.address && t.node);
}

export async function networkAgreementFindings(ctx: DoctorContext): Promise<Finding[]> {
  const { snapshot, runner, signal } = ctx;
  const findings: Finding[] = [];
  const overlays = snapshot.networks.filter((n) => n.driver === 'overlay' && !n.ingress).sort((a, b) => compareNames(a.name, b.name));
  const ready = snapshot.nodes.filter((n) => n.state === 'ready').sort((a, b) => compareNames(a.hostname, b.hostname));
  let compared = 0;
  const noEngine = new Set<string>();
  for (const network of overlays) {
    const expected = expectedTasks(snapshot, network);
    const nodesWithTasks = ready.filter((n) => expected.some((t) => t.node.id === n.id));
    for (const node of nodesWithTasks) {
      const engine = runner.engines.engineFor({ id: node.id, hostname: node.hostname, address: node.address });
      if (!engine) {
        noEngine.add(node.hostname);
        continue;
      }
      let view: NodeView;
      let text: string;
      try {
        const raw = await engine.inspectRaw('network', network.id, { signal, timeoutMs: 10_000 });
        view = readView(raw);
        text = JSON.stringify({ Peers: (raw as { Peers?: unknown }).Peers, Services: (raw as { Services?: unknown }).Services }, null, 2);
      } catch (error) {
        if (signal?.aborted) throw error;
        findings.push({ check: 'network-state', severity: 'unavailable', title: `${node.hostname}: could not read its view of ${network.name}`, nodes: [node.hostname], explanation: (error as Error).message, evidence: [] });
        continue;
      }
      compared++;
      const evidence: Evidence[] = [{ kind: 'command', title: `${node.hostname}'s view of ${network.name}`, where: `${node.hostname} (its own engine ${engine.endpoint.url})`, command: `docker network inspect --verbose ${network.name}`, text }];
      const peerIps = new Set(view.peers.map((p) => p.ip));
      const missingPeers = nodesWithTasks.filter((n) => n.id !== node.id && !peerIps.has(n.address));
      if (missingPeers.length) {
        findings.push({ check: 'network-state', severity: 'error', title: `${node.hostname} does not list ${missingPeers.map((n) => n.hostname).join(', ')} as ${network.name} peer${missingPeers.length > 1 ? 's' : ''}`, nodes: [node.hostname, ...missingPeers.map((n) => n.hostname)], explanation: `${missingPeers.map((n) => `${n.hostname} (${n.address})`).join(', ')} run${missingPeers.length > 1 ? '' : 's'} tasks on ${network.name}, but ${node.hostname}'s network database has no peer entry for ${missingPeers.length > 1 ? 'them' : 'it'}: traffic from ${node.hostname} to their tasks has nowhere to go. Usually gossip between the nodes is broken (7946 tcp/udp).`, fix: 'Fix gossip between the nodes (see the ports findings); restarting dockerd on the node makes it rejoin the network database.', evidence });
      }
      const seen = new Map(view.tasks.map((t) => [t.endpointIp, t]));
      for (const task of expected) {
        const entry = seen.get(task.address);
        if (!entry) {
          findings.push({ check: 'network-state', severity: 'error', title: `${node.hostname} does not know ${task.label} (${task.address}) on ${network.name}`, nodes: [node.hostname, task.node.hostname], explanation: `The manager says ${task.label} runs on ${task.node.hostname} with ${task.address}, but ${node.hostname}'s view of ${network.name} lacks it: DNS from ${node.hostname} does not return it and its packets are not forwarded there.`, fix: `Check gossip between ${node.hostname} and ${task.node.hostname}; \`docker service update --force\` re-announces the task.`, evidence });
        } else if (entry.hostIp && entry.hostIp !== task.node.address) {
          findings.push({ check: 'network-state', severity: 'error', title: `${node.hostname} places ${task.label} (${task.address}) on ${entry.hostIp}, not ${task.node.hostname}`, nodes: [node.hostname, task.node.hostname], explanation: `${node.hostname} sends ${task.address}'s traffic to ${entry.hostIp}, but the task runs on ${task.node.hostname} (${task.node.address}). A stale entry from an earlier task with the same address.`, fix: 'Restart the task (docker service update --force); if it persists, restart dockerd on the node with the stale entry.', evidence });
        }
      }
      const counts = new Map<string, number>();
      for (const t of view.tasks) if (t.endpointIp) counts.set(t.endpointIp, (counts.get(t.endpointIp) ?? 0) + 1);
      for (const [ip, count] of counts) {
        if (count > 1) findings.push({ check: 'network-state', severity: 'error', title: `${node.hostname}: ${ip} is the endpoint of ${count} tasks on ${network.name}`, nodes: [node.hostname], explanation: `${view.tasks.filter((t) => t.endpointIp === ip).map((t) => t.name).join(', ')} share ${ip}: traffic to it reaches only one of them.`, fix: 'Remove the stale task or service; if none is stale, restart dockerd on the node.', evidence });
      }
    }
  }
  if (noEngine.size) {
    findings.push({ check: 'network-state', severity: 'unavailable', title: `network views of ${[...noEngine].join(', ')} not compared`, nodes: [...noEngine], explanation: 'A node\'s own view of a network (docker network inspect --verbose) is only available from its own engine, and these nodes have none configured.', fix: 'Set swarmDoctor.nodeEndpoints (or --node-endpoint) for them.', evidence: [] });
  }
  if (!findings.some((f) => f.severity === 'error')) findings.push({ check: 'network-state', severity: 'ok', title: `nodes agree on the ${overlays.length} overlay network${overlays.length === 1 ? "'s" : "s'"} peers and tasks`, nodes: ready.map((n) => n.hostname), explanation: `${compared} node views compared with the manager's tasks: every peer and task present, on the right node, no duplicate address.`, evidence: [] });
  return findings;
}

const VXLAN_STATE = ['echo "### neigh"; ip -j neigh show dev vxlan0', 'echo "### fdb"; bridge -j fdb show dev vxlan0'].join('\n');

function vxlanCommand(): NetCommand<{ neighbours: ReturnType<typeof parseIpNeighJson>['neighbours']; fdb: ReturnType<typeof parseBridgeFdbJson>['entries'] }> {
  return {
    id: 'vxlan-state',
    title: 'ip -j neigh show dev vxlan0; bridge -j fdb show dev vxlan0',
    argv: ['sh', '-c', VXLAN_STATE],
    capabilities: NET_CAPABILITIES,
    parse: (stdout) => {
      const [, neigh = '[]', fdb = '[]'] = stdout.split(/^### (?:neigh|fdb)\n/m);
      return { neighbours: parseIpNeighJson(neigh, { dev: 'vxlan0' }).neighbours, fdb: parseBridgeFdbJson(fdb, { dev: 'vxlan0' }).entries };
    },
  };
}

/** Docker derives an overlay endpoint's MAC from its IPv4 address: 02:42 + the four bytes. */
const macOf = (ip: string) => `02:42:${ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`;

export async function vxlanFindings(ctx: DoctorContext): Promise<Finding[]> {
  const { snapshot, runner, signal } = ctx;
  const findings: Finding[] = [];
  const overlays = snapshot.networks.filter((n) => n.driver === 'overlay' && !n.ingress);
  const work = overlays.flatMap((network) => {
    const expected = expectedTasks(snapshot, network);
    return snapshot.nodes.filter((n) => n.state === 'ready' && expected.some((t) => t.node.id === n.id)).map((node) => ({ network, node, expected }));
  });
  let checked = 0;
  await mapLimit(work, 3, async ({ network, node, expected }) => {
    const target = networkTarget('overlay', node, network);
    const command = vxlanCommand();
    let evidence: Evidence;
    let state;
    try {
      const result = await runner.run({ target, command, signal });
      evidence = commandEvidence(result, describeTarget(target), `VXLAN state of ${network.name} on ${node.hostname}`);
      if (result.exitCode !== 0) throw new Error(result.explanation ?? result.stderr.trim() ?? `exit ${result.exitCode}`);
      state = command.parse!(result.stdout);
    } catch (error) {
      if (signal?.aborted) throw error;
      findings.push({ check: 'vxlan', severity: 'unavailable', title: `${node.hostname}: could not read ${network.name}'s VXLAN state`, nodes: [node.hostname], explanation: (error as Error).message, evidence: [] });
      return;
    }
    checked++;
    const problems: string[] = [];
    const faultyNodes = new Set<string>([node.hostname]);
    for (const task of expected.filter((t) => t.node.id !== node.id)) {
      const mac = macOf(task.address);
      const neighbour = state.neighbours.find((n) => n.dst === task.address);
      const fdb = state.fdb.find((e) => e.mac.toLowerCase() === (neighbour?.lladdr ?? mac).toLowerCase() && e.dst);
      if (!neighbour) problems.push(`no neighbour entry for ${task.label} (${task.address} on ${task.node.hostname})`);
      if (!fdb) problems.push(`no forwarding entry for ${task.label}'s MAC ${neighbour?.lladdr ?? mac} (should point to ${task.node.address})`);
      else if (fdb.dst !== task.node.address) {
        const wrong = snapshot.nodes.find((n) => n.address === fdb.dst);
        problems.push(`${task.label} (${task.address}) is forwarded to ${fdb.dst}${wrong ? ` (${wrong.hostname})` : ''}, but runs on ${task.node.hostname} (${task.node.address})`);
        faultyNodes.add(task.node.hostname);
      }
      if (!neighbour || !fdb) faultyNodes.add(task.node.hostname);
    }
    const nodeAddresses = new Set(snapshot.nodes.map((n) => n.address));
    for (const entry of state.fdb) {
      if (entry.dst && !nodeAddresses.has(entry.dst) && entry.dst !== '0.0.0.0') problems.push(`forwarding entry ${entry.mac} points to ${entry.dst}, which is no node of the swarm (stale)`);
    }
    for (const neighbour of state.neighbours) {
      const owner = lookupAddress(snapshot, neighbour.dst);
      if (owner && owner.task && owner.node && owner.node.id === node.id) problems.push(`neighbour ${neighbour.dst} (${describeOwner(owner)}) is local to ${node.hostname} yet listed on vxlan0`);
    }
    if (problems.length) {
      findings.push({
        check: 'vxlan',
        severity: 'error',
        title: `${node.hostname}: ${network.name}'s VXLAN table disagrees with the tasks (${problems.length} problem${problems.length > 1 ? 's' : ''})`,
        nodes: [...faultyNodes],
        explanation: `In ${node.hostname}'s overlay namespace of ${network.name}: ${problems.join('; ')}. Packets to those tasks are sent nowhere or to the wrong node.`,
        fix: `Usually gossip trouble (7946) left the table stale: fix it, then restart dockerd on ${node.hostname} so it rebuilds the table.`,
        evidence: [evidence],
      });
    }
  });
  if (!findings.some((f) => f.severity === 'error')) findings.push({ check: 'vxlan', severity: 'ok', title: `VXLAN neighbour and forwarding entries match the tasks`, nodes: [], explanation: `${checked} overlay namespace${checked === 1 ? '' : 's'} checked: every remote task has a neighbour entry and a forwarding entry pointing to its node.`, evidence: [] });
  return findings;
}

