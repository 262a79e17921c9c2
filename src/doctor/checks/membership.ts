// Node membership and availability, from the manager's node list alone.
import { compareNames, type SwarmSnapshot } from '../../swarm/snapshot';
import type { Finding } from '../findings';

export function membershipFindings(snapshot: SwarmSnapshot): Finding[] {
  const findings: Finding[] = [];
  const nodes = [...snapshot.nodes].sort((a, b) => compareNames(a.hostname, b.hostname));
  const table = nodes.map((n) => `${n.hostname.padEnd(16)} ${n.role.padEnd(8)} ${n.state.padEnd(12)} ${n.availability.padEnd(8)} ${n.address}${n.managerReachability ? `  manager: ${n.managerReachability}${n.leader ? ' (leader)' : ''}` : ''}`).join('\n');
  const evidence = [{ kind: 'note' as const, title: 'docker node ls (from the manager)', text: `HOSTNAME         ROLE     STATE        AVAIL    ADDRESS\n${table}\n` }];
  for (const node of nodes) {
    if (node.state !== 'ready') {
      const tasks = (snapshot.tasksByNode.get(node.id) ?? []).length;
      findings.push({
        check: 'membership',
        severity: 'error',
        title: `${node.hostname} is ${node.state}`,
        nodes: [node.hostname],
        explanation: `The manager has lost contact with ${node.hostname} (${node.address})${node.stateMessage ? `: "${node.stateMessage}"` : ''}. Its tasks${tasks ? ` (${tasks} still listed there)` : ''} are rescheduled elsewhere where possible, and other nodes drop its overlay peers, so connections to and from it fail.`,
        fix: `Check that dockerd runs on ${node.hostname} (systemctl status docker, journalctl -u docker) and that it reaches the managers on 2377/tcp; then \`docker node ls\` should show it Ready again.`,
        evidence,
      });
    } else if (node.availability !== 'active') {
      findings.push({
        check: 'membership',
        severity: node.availability === 'drain' ? 'warning' : 'info',
        title: `${node.hostname} is ${node.availability === 'drain' ? 'drained' : 'paused'}`,
        nodes: [node.hostname],
        explanation: node.availability === 'drain' ? `${node.hostname} runs no tasks: the scheduler moved them away. Global services have no task there.` : `${node.hostname} gets no new tasks; the ones it has keep running.`,
        fix: `docker node update --availability active ${node.hostname}`,
        evidence,
      });
    }
    if (node.role === 'manager' && node.managerReachability && node.managerReachability !== 'reachable') {
      findings.push({
        check: 'membership',
        severity: 'error',
        title: `manager ${node.hostname} is ${node.managerReachability}`,
        nodes: [node.hostname],
        explanation: `The raft peers cannot reach the manager on ${node.hostname}. With too few reachable managers the swarm loses its quorum and cannot change services.`,
        fix: `Make ${node.hostname}'s 2377/tcp reachable from the other managers, or demote it and promote a healthy node.`,
        evidence,
      });
    }
  }
  if (!findings.length) {
    findings.push({ check: 'membership', severity: 'ok', title: `all ${nodes.length} nodes are ready and active`, nodes: nodes.map((n) => n.hostname), explanation: 'Every node is Ready and Active; every manager is reachable.', evidence });
  }
  return findings;
}
