// Failing matrix cells explained: for each source node and destination task that fails, the
// firewall rules in the client's and the server's namespaces that match the flow (with their
// counters) and, for a refusal, whether anything listens on the port in the server task.
import { parseSs } from '../../netns/parsers';
import { NET_CAPABILITIES, type NetCommand } from '../../netns/command';
import { describeTarget, networkTarget, sandboxTarget, type Target } from '../../netns/target';
import type { CommandRunner } from '../../netns/runner';
import { isRunningTask, type SwarmSnapshot } from '../../swarm/snapshot';
import { blockingRules, describeRule, readFirewall, type FirewallReading, type FirewallRule } from '../firewall';
import { commandEvidence, type Evidence, type Finding } from '../findings';
import { FAILING_STATES, type Matrix, type MatrixCell } from '../matrix';

const LISTENING: NetCommand<ReturnType<typeof parseSs>> = { id: 'ss-listening', title: 'ss -ltn', argv: ['ss', '-ltn'], capabilities: NET_CAPABILITIES, parse: (s) => parseSs(s, { netid: 'tcp' }) };

function taskOf(snapshot: SwarmSnapshot, address: string) {
  return snapshot.tasks.find((t) => isRunningTask(t) && t.addresses.some((a) => a.addresses.some((c) => c.split('/')[0] === address)));
}

export async function connectionFindings(snapshot: SwarmSnapshot, runner: CommandRunner, matrix: Matrix, signal?: AbortSignal): Promise<Finding[]> {
  const failing = matrix.cells.filter((c) => FAILING_STATES.has(c.state) && c.state !== 'not-run');
  const readings = new Map<string, Promise<FirewallReading>>();
  const read = (target: Target) => {
    const key = target.ns === 'sandbox' ? target.task.id : describeTarget(target);
    if (!readings.has(key)) readings.set(key, readFirewall(runner, target, signal));
    return readings.get(key)!;
  };
  // One finding per source node and destination task (its name and VIP cells ride along).
  const groups = new Map<string, MatrixCell[]>();
  for (const cell of failing) {
    const key = `${cell.source.label}|${cell.source.node}|${cell.destination.address ?? cell.outcome?.address ?? cell.destination.label}|${cell.destination.port}`;
    groups.set(key, [...(groups.get(key) ?? []), cell]);
  }
  const findings: Finding[] = [];
  const network = snapshot.networks.find((n) => n.name === matrix.network);
  for (const cells of groups.values()) {
    const cell = cells.find((c) => c.destination.kind === 'task') ?? cells[0];
    const { source, destination } = cell;
    const serverAddress = destination.address ?? cell.outcome?.address;
    const serverTask = serverAddress ? taskOf(snapshot, serverAddress) : undefined;
    const serverNode = serverTask?.nodeId ? snapshot.nodeById.get(serverTask.nodeId) : undefined;
    const serverTarget = serverTask ? sandboxTarget(snapshot, serverTask) : undefined;
    const serverName = serverTarget?.ns === 'sandbox' ? serverTarget.task.name : destination.label;
    const evidence: Evidence[] = cells.flatMap((c) => c.evidence);
    const rules: { where: string; rule: FirewallRule }[] = [];
    const notes: string[] = [];
    if (source.address && serverAddress && source.target && serverTarget) {
      const flow = { src: source.address, dst: serverAddress, proto: 'tcp', dport: destination.port };
      // The two tasks, then swarm's own overlay namespace of the network on both nodes (its bridge
      // forwards the flow between vxlan0 and the tasks' veths).
      const overlayOn = (nodeId: string | undefined) => {
        const node = nodeId ? snapshot.nodeById.get(nodeId) : undefined;
        return node && network ? networkTarget('overlay', node, network) : undefined;
      };
      const overlays = [...new Map([overlayOn(serverTask?.nodeId), overlayOn(source.nodeId)].filter((t): t is Target => t !== undefined).map((t) => [t.node.id, t])).values()];
      const [serverFw, clientFw, ...overlayFw] = await Promise.all([read(serverTarget), read(source.target), ...overlays.map(read)]);
      const places: [FirewallReading, string[], string][] = [
        [serverFw, ['INPUT'], `the server task ${serverName}`],
        [clientFw, ['OUTPUT'], `the client task ${source.label}`],
        ...overlayFw.map((r): [FirewallReading, string[], string] => [r, ['FORWARD', 'INPUT', 'OUTPUT'], `swarm's overlay namespace of ${matrix.network}`]),
      ];
      for (const [reading, chains, label] of places) {
        const matched = blockingRules(reading, flow, chains);
        for (const rule of matched) rules.push({ where: `${label} on ${reading.target.node.hostname}`, rule });
        if (matched.length) evidence.push(reading.evidence);
        if (reading.problem) notes.push(`The firewall of ${label} could not be read: ${reading.problem}`);
      }
      if (cell.state === 'refused' && !rules.length) {
        try {
          const result = await runner.run({ target: serverTarget, command: LISTENING, signal });
          const sockets = LISTENING.parse!(result.stdout);
          const listening = sockets.sockets.some((s) => s.state === "LISTEN" && s.local.port === destination.port);
          evidence.push(commandEvidence(result, describeTarget(serverTarget), `listening sockets in ${serverName}`));
          notes.push(listening ? `Something listens on ${destination.port} in ${serverName}, yet it refused: the application closes connections from this client.` : `Nothing listens on port ${destination.port} in ${serverName}: the kernel answers every SYN with an RST.`);
        } catch (error) {
          notes.push(`Could not list the listening sockets in ${serverName}: ${(error as Error).message}`);
        }
      }
    }
    const blame = rules[0];
    const where = `${source.node} → ${destination.kind === 'task' ? `${serverName.replace(/\.\d+$/, '')} on ${destination.node ?? serverNode?.hostname ?? '?'}` : destination.label} (port ${destination.port})`;
    let title: string;
    let explanation: string;
    let fix: string | undefined;
    const from = `${source.label} on ${source.node}`;
    switch (cell.state) {
      case 'refused': {
        const byServer = cell.outcome?.rstFrom?.startsWith(`${serverAddress}:`);
        title = `${where}: refused by an RST from ${byServer ? `the server task ${serverName}` : cell.outcome?.rstFrom ?? 'the server'}`;
        explanation = `${from} sent a SYN to ${serverName} (${serverAddress}:${destination.port}) and got an RST back${cell.outcome?.rstFrom ? ` from ${cell.outcome.rstFrom}` : ''}.${blame ? ` The rule that sends it, in ${blame.where}: ${describeRule(blame.rule)}.` : ''}`;
        fix = blame ? `Remove or narrow that rule (iptables -D ${blame.rule.chain} ${blame.rule.num ?? ''} in the task's namespace), and find what adds it (an entrypoint script, a sidecar, a firewall agent).` : 'Make the service listen on the port, or fix the application\'s access control.';
        break;
      }
      case 'timeout':
        title = `${where}: no answer (SYN sent ${cell.outcome?.synCount ?? '?'} times)`;
        explanation = `${from} sent SYNs to ${serverName} (${serverAddress ?? '?'}:${destination.port}) and nothing came back.${blame ? ` A rule drops it, in ${blame.where}: ${describeRule(blame.rule)}.` : ' No firewall rule in either task matches: look at the data path between the nodes (see the data-path findings).'}`;
        fix = blame ? `Remove or narrow that rule.` : 'Check udp 4789 and the MTU between the two nodes.';
        break;
      case 'unreachable':
        title = `${where}: unreachable`;
        explanation = `${from}: ${cell.summary}.${blame ? ` Rule in ${blame.where}: ${describeRule(blame.rule)}.` : ''}`;
        fix = blame ? 'Remove or narrow that rule.' : 'Check that the task still runs and that the network\'s peers and VXLAN entries are current (see the network-state findings).';
        break;
      case 'lookup-failed':
        title = `${where}: the name does not resolve`;
        explanation = `${from} could not resolve ${destination.name ?? destination.label} through Docker's embedded DNS (127.0.0.11): ${cell.summary}.`;
        fix = 'Check that the client is on the same network as the service, and that the service has running tasks.';
        break;
      default:
        title = `${where}: ${cell.summary}`;
        explanation = `${from}: ${cell.summary}.`;
    }
    if (notes.length) explanation += ` ${notes.join(' ')}`;
    if (cells.length > 1) explanation += ` Also failing from ${source.node}: ${cells.filter((c) => c !== cell).map((c) => `${c.destination.label} — ${c.summary}`).join('; ')}.`;
    findings.push({ check: 'connectivity', severity: 'error', title, nodes: [...new Set([destination.node ?? serverNode?.hostname, source.node].filter((n): n is string => !!n))], explanation, fix, evidence });
  }
  const ok = matrix.cells.filter((c) => !FAILING_STATES.has(c.state)).length;
  if (!findings.length) {
    findings.push({ check: 'connectivity', severity: 'ok', title: `${matrix.service}: every probe connected (${ok} cells)`, nodes: [...new Set(matrix.sources.map((s) => s.node))], explanation: `From a task on each node to each task of ${matrix.service} on ${matrix.network}, port${matrix.ports.length > 1 ? 's' : ''} ${matrix.ports.join(', ')}, by address and by name.`, evidence: [] });
  }
  for (const source of matrix.sources.filter((s) => s.problem)) {
    findings.push({ check: 'connectivity', severity: 'unavailable', title: `${matrix.service}: not probed from ${source.node}`, nodes: [source.node], explanation: source.problem!, evidence: [] });
  }
  return findings;
}
