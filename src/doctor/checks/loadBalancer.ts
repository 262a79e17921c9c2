// The swarm load balancer: VIP services and the ingress routing mesh need IPVS in the kernel.
// Where it is present: IPVS services in each lb_<net> namespace against the VIP services' tasks,
// and the IPVS idle timeout against the TCP keepalive in the tasks. Where it is absent: a clear
// "not available", and an error when a service depends on it.
import type { ServiceRecord } from '../../engine/types';
import { NET_CAPABILITIES, type NetCommand } from '../../netns/command';
import { parseIpvsadmList } from '../../netns/parsers';
import { describeTarget, networkTarget, sandboxTarget } from '../../netns/target';
import { compareNames } from '../../swarm/snapshot';
import { commandEvidence, type Finding } from '../findings';
import type { DoctorContext } from '../report';

const LB_STATE = ['echo "### list"; ipvsadm -Ln 2>&1', 'echo "### timeout"; ipvsadm -Ln --timeout 2>&1'].join('\n');

function lbCommand(): NetCommand<{ services: ReturnType<typeof parseIpvsadmList>['services']; tcpTimeout?: number }> {
  return {
    id: 'ipvs-state',
    title: 'ipvsadm -Ln; ipvsadm -Ln --timeout',
    argv: ['sh', '-c', LB_STATE],
    capabilities: NET_CAPABILITIES,
    parse: (stdout) => {
      const list = stdout.split('### timeout')[0].replace('### list\n', '');
      const timeout = /Timeout \(tcp tcpfin udp\): (\d+)/.exec(stdout);
      return { services: parseIpvsadmList(list).services, tcpTimeout: timeout ? Number(timeout[1]) : undefined };
    },
  };
}

const KEEPALIVE: NetCommand<number | undefined> = { id: 'tcp-keepalive', title: 'cat /proc/sys/net/ipv4/tcp_keepalive_time', argv: ['cat', '/proc/sys/net/ipv4/tcp_keepalive_time'], capabilities: [], parse: (s) => (/^\d+/.test(s.trim()) ? Number(s.trim()) : undefined) };

const usesVip = (s: ServiceRecord) => s.endpointMode === 'vip' && s.virtualIps.length > 0;
const usesMesh = (s: ServiceRecord) => s.ports.some((p) => p.publishMode === 'ingress');

export async function loadBalancerFindings(ctx: DoctorContext, ipvsByNode: Map<string, boolean | undefined>): Promise<Finding[]> {
  const { snapshot, runner, signal } = ctx;
  const findings: Finding[] = [];
  const dependent = snapshot.services.filter((s) => usesVip(s) || usesMesh(s)).sort((a, b) => compareNames(a.name, b.name));
  const without = [...ipvsByNode].filter(([, has]) => has === false).map(([node]) => node).sort(compareNames);
  const unknown = [...ipvsByNode].filter(([, has]) => has === undefined).map(([node]) => node);
  if (without.length) {
    if (dependent.length) {
      findings.push({
        check: 'load-balancer',
        severity: 'error',
        title: `${without.join(', ')}: no IPVS in the kernel, but ${dependent.map((s) => s.name).join(', ')} need${dependent.length === 1 ? 's' : ''} it`,
        nodes: without,
        explanation: `Service VIPs and the ingress routing mesh are IPVS load balancers. On ${without.join(', ')} the kernel has no ip_vs, so connections to ${dependent.map((s) => `${s.name} (${usesVip(s) ? 'VIP' : ''}${usesVip(s) && usesMesh(s) ? ', ' : ''}${usesMesh(s) ? 'published through the mesh' : ''})`).join(', ')} from there go nowhere.`,
        fix: 'Load the ip_vs module on those nodes (modprobe ip_vs), or switch the services to --endpoint-mode dnsrr and publish with mode=host.',
        evidence: [],
      });
    } else {
      findings.push({ check: 'load-balancer', severity: 'unavailable', title: `IPVS state not checked: the kernel of ${without.join(', ')} has no IPVS`, nodes: without, explanation: 'Without ip_vs there are no IPVS services to compare and no IPVS timeout to weigh against TCP keepalive. No service depends on it: every service uses DNS round robin and none publishes through the routing mesh.', evidence: [] });
    }
  }
  if (unknown.length) findings.push({ check: 'load-balancer', severity: 'unavailable', title: `IPVS presence unknown on ${unknown.join(', ')}`, nodes: unknown, explanation: 'The node could not be asked.', evidence: [] });

  // Nodes with IPVS: each VIP service's network load balancer, and keepalive against its timeout.
  const withIpvs = snapshot.nodes.filter((n) => ipvsByNode.get(n.hostname) === true);
  for (const node of withIpvs) {
    for (const service of dependent.filter(usesVip)) {
      for (const vip of service.virtualIps) {
        const network = snapshot.networkById.get(vip.networkId);
        if (!network || network.ingress) continue;
        const tasks = (snapshot.tasksByService.get(service.id) ?? []).filter((t) => t.state === 'running');
        const onNode = (snapshot.tasksByNode.get(node.id) ?? []).some((t) => t.addresses.some((a) => a.networkId === network.id));
        if (!onNode) continue;
        const target = networkTarget('lb', node, network);
        try {
          const command = lbCommand();
          const result = await runner.run({ target, command, signal });
          const evidence = commandEvidence(result, describeTarget(target), `IPVS on ${node.hostname} for ${network.name}`);
          const state = command.parse!(result.stdout);
          const fwm = state.services.filter((s) => s.fwmark !== undefined);
          const largest = Math.max(0, ...fwm.map((s) => s.realServers.length));
          if (tasks.length && largest < tasks.length) {
            findings.push({ check: 'load-balancer', severity: 'warning', title: `${node.hostname}: ${service.name}'s load balancer on ${network.name} knows fewer backends than tasks`, nodes: [node.hostname], explanation: `${service.name} runs ${tasks.length} task(s), but no firewall-mark IPVS service in lb_${network.name} has more than ${largest} real server(s).`, fix: 'docker service update --force to re-announce the tasks; check gossip.', evidence: [evidence] });
          }
          const task = tasks.find((t) => t.containerId);
          if (state.tcpTimeout && task) {
            const keepaliveResult = await runner.run({ target: sandboxTarget(snapshot, task), command: KEEPALIVE, signal });
            const keepalive = KEEPALIVE.parse!(keepaliveResult.stdout);
            if (keepalive !== undefined && keepalive >= state.tcpTimeout) {
              findings.push({ check: 'load-balancer', severity: 'warning', title: `${service.name}: TCP keepalive ${keepalive} s is longer than the IPVS idle timeout ${state.tcpTimeout} s`, nodes: [node.hostname], explanation: `IPVS forgets an idle connection after ${state.tcpTimeout} s; the tasks send their first keepalive after ${keepalive} s. Idle connections through the VIP (database pools) then die silently and the next write hangs or gets a reset.`, fix: `Set net.ipv4.tcp_keepalive_time below ${state.tcpTimeout} in the services (docker service update --sysctl-add net.ipv4.tcp_keepalive_time=600), or keep the pools' idle time shorter.`, evidence: [evidence, commandEvidence(keepaliveResult, describeTarget(sandboxTarget(snapshot, task)))] });
            }
          }
        } catch (error) {
          if (signal?.aborted) throw error;
          findings.push({ check: 'load-balancer', severity: 'unavailable', title: `${node.hostname}: could not read IPVS for ${network.name}`, nodes: [node.hostname], explanation: (error as Error).message, evidence: [] });
        }
      }
    }
  }
  if (withIpvs.length && !findings.some((f) => f.severity === 'error' || f.severity === 'warning')) {
    findings.push({ check: 'load-balancer', severity: 'ok', title: `IPVS load balancers match the VIP services on ${withIpvs.map((n) => n.hostname).join(', ')}`, nodes: withIpvs.map((n) => n.hostname), explanation: 'Every VIP service has its backends, and TCP keepalive fires before the IPVS idle timeout.', evidence: [] });
  }
  return findings;
}
