// Paths between nodes: gossip (7946 tcp/udp), managers (2377/tcp), the VXLAN data path and the
// MTU it carries. While tcpdump listens in every node's host namespace, each node dials its peers'
// gossip and manager ports, and a task on each node pings a task on every other node over the
// overlay (small and full-size). The captures say where VXLAN packets stop; the host firewalls say
// which rule stopped them.
import type { NetworkRecord, NodeRecord, TaskRecord } from '../../engine/types';
import { NET_CAPABILITIES, type NetCommand } from '../../netns/command';
import { parseIpAddrJson } from '../../netns/parsers';
import type { CommandResult } from '../../netns/runner';
import { describeTarget, hostTarget, sandboxTarget } from '../../netns/target';
import { compareNames, isRunningTask, taskName, type SwarmSnapshot } from '../../swarm/snapshot';
import { mapLimit } from '../concurrency';
import { blockingRules, describeRule, readFirewall } from '../firewall';
import { commandEvidence, type Evidence, type Finding } from '../findings';
import { addressOn } from '../matrix';
import { pingCommand, type PingOutcome } from '../probe';
import type { DoctorContext } from '../report';

const GOSSIP = 7946;
const MANAGER = 2377;
/** VXLAN adds 50 bytes (outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14). */
const VXLAN_OVERHEAD = 50;
const DEFAULT_OVERLAY_MTU = 1450;

const LISTEN_SCRIPT = [
  's=$1; shift; f=',
  'for p in "$@"; do case "$p" in ""|*[!0-9]*) echo "### error port"; exit 2;; esac; f="$f${f:+ or }port $p"; done',
  'timeout -s INT "$s" tcpdump -l -n -i any -tt -c 20000 "udp and ($f)" 2>&1',
  'exit 0',
].join('\n');

function listenCommand(seconds: number, ports: number[]): NetCommand<string> {
  return { id: 'listen-udp', title: `tcpdump -n -i any 'udp and (${ports.map((p) => `port ${p}`).join(' or ')})' for ${seconds} s`, argv: ['sh', '-c', LISTEN_SCRIPT, 'listen', String(seconds), ...ports.map(String)], capabilities: NET_CAPABILITIES, timeoutSeconds: seconds + 15 };
}

const CONNECT_SCRIPT = [
  'for ap in "$@"; do',
  '  a=${ap%:*}; p=${ap##*:}',
  '  case "$a$p" in ""|*[!0-9a-fA-F.:]*) echo "### $ap error"; continue;; esac',
  '  out=$(timeout 4 nc -w 3 "$a" "$p" </dev/null 2>&1); rc=$?',
  '  echo "### $ap $rc $(printf "%s" "$out" | tr "\\n" " ")"',
  'done',
].join('\n');

function connectCommand(endpoints: string[]): NetCommand<Map<string, { rc: number; text: string }>> {
  return {
    id: 'connect-tcp',
    title: `nc -w 3 to ${endpoints.join(', ')}`,
    argv: ['sh', '-c', CONNECT_SCRIPT, 'connect', ...endpoints],
    capabilities: NET_CAPABILITIES,
    timeoutSeconds: 5 * endpoints.length + 10,
    parse: (stdout) => {
      const results = new Map<string, { rc: number; text: string }>();
      for (const m of stdout.matchAll(/^### (\S+) (\d+) ?(.*)$/gm)) results.set(m[1], { rc: Number(m[2]), text: m[3].trim() });
      return results;
    },
  };
}

const FACTS_SCRIPT = ['echo "### ipvs"; if [ -d /proc/sys/net/ipv4/vs ]; then echo yes; else echo no; fi', 'echo "### addr"; ip -j addr show'].join('\n');

function factsCommand(): NetCommand<{ ipvs: boolean; interfaces: ReturnType<typeof parseIpAddrJson>['interfaces'] }> {
  return {
    id: 'node-facts',
    title: 'ip -j addr show; test -d /proc/sys/net/ipv4/vs',
    argv: ['sh', '-c', FACTS_SCRIPT],
    capabilities: [],
    parse: (stdout) => ({ ipvs: /### ipvs\nyes/.test(stdout), interfaces: parseIpAddrJson(stdout.split('### addr\n')[1] ?? '[]').interfaces }),
  };
}

interface Arrivals {
  /** "src>dstport" → packets received (direction In) */
  inbound: Map<string, number>;
  /** "dst>dstport" → packets sent (direction Out) */
  outbound: Map<string, number>;
}

function parseArrivals(text: string): Arrivals {
  const inbound = new Map<string, number>();
  const outbound = new Map<string, number>();
  const line = /^\d+\.\d+\s+\S+\s+(In|Out)\s+IP\s+(\S+)\s+>\s+(\S+?):/gm;
  for (const m of text.matchAll(line)) {
    const src = m[2].replace(/\.\d+$/, '');
    const dstPort = /\.(\d+)$/.exec(m[3])?.[1];
    const dst = m[3].replace(/\.\d+$/, '');
    if (!dstPort) continue;
    const map = m[1] === 'In' ? inbound : outbound;
    const key = m[1] === 'In' ? `${src}>${dstPort}` : `${dst}>${dstPort}`;
    map.set(key, (map.get(key) ?? 0) + 1);
  }
  return { inbound, outbound };
}

interface OverlayPair {
  from: NodeRecord;
  to: NodeRecord;
  network: NetworkRecord;
  client: TaskRecord;
  server: TaskRecord;
  address: string;
  mtu: number;
  result?: CommandResult;
  outcome?: PingOutcome;
  error?: string;
}

/** For each ordered pair of ready nodes, a task on each end sharing an overlay network. */
function overlayPairs(snapshot: SwarmSnapshot, nodes: NodeRecord[]): OverlayPair[] {
  const pairs: OverlayPair[] = [];
  const overlays = snapshot.networks.filter((n) => n.driver === 'overlay' && !n.ingress).sort((a, b) => compareNames(a.name, b.name));
  for (const from of nodes) {
    for (const to of nodes) {
      if (from === to) continue;
      for (const network of overlays) {
        const onNode = (node: NodeRecord) => (snapshot.tasksByNode.get(node.id) ?? []).find((t) => isRunningTask(t) && addressOn(t, network.id));
        const client = onNode(from);
        const server = onNode(to);
        if (!client || !server) continue;
        const mtu = Number(network.options['com.docker.network.driver.mtu']) || DEFAULT_OVERLAY_MTU;
        pairs.push({ from, to, network, client, server, address: addressOn(server, network.id)!, mtu });
        break;
      }
    }
  }
  return pairs;
}

export interface NodePathsResult {
  findings: Finding[];
  /** Per node: whether its kernel has IPVS, for the IPVS check. */
  ipvs: Map<string, boolean | undefined>;
}

export async function nodePathFindings(ctx: DoctorContext): Promise<NodePathsResult> {
  const { snapshot, runner, signal } = ctx;
  const dataPort = ctx.dataPathPort ?? 4789;
  const nodes = snapshot.nodes.filter((n) => n.state === 'ready').sort((a, b) => compareNames(a.hostname, b.hostname));
  const findings: Finding[] = [];
  const ipvs = new Map<string, boolean | undefined>();
  if (nodes.length < 2) return { findings: [{ check: 'node-paths', severity: 'info', title: 'fewer than two ready nodes: no path between nodes to test', nodes: nodes.map((n) => n.hostname), explanation: 'Gossip and the VXLAN data path run between nodes.', evidence: [] }], ipvs };

  // 1. Listen on every node, and wait until each tcpdump says it listens (or gave up).
  ctx.progress?.(`ports between nodes: listening for udp ${GOSSIP} and ${dataPort} on ${nodes.length} nodes`);
  const stopListening = new AbortController();
  const onAbort = () => stopListening.abort();
  signal?.addEventListener('abort', onAbort);
  const listens = nodes.map((node) => {
    let text = '';
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const done = runner
      .run({ target: hostTarget(node), command: listenCommand(60, [GOSSIP, dataPort]), signal: stopListening.signal, onStdout: (chunk) => { text += chunk.toString('utf8'); if (/listening on|### error/.test(text)) markReady(); } })
      .then((result) => ({ result, error: undefined as string | undefined }), (error: Error) => ({ result: undefined, error: error.message }))
      .finally(markReady);
    return { node, done, ready, text: () => text };
  });
  await Promise.race([Promise.all(listens.map((l) => l.ready)), delay(20_000)]);
  const listenStart = Date.now();

  // 2. Dial and ping while they listen; read the host facts and firewalls meanwhile.
  ctx.progress?.('ports between nodes: dialling gossip and manager ports, pinging across the overlay');
  const managers = snapshot.nodes.filter((n) => n.role === 'manager' && n.state === 'ready');
  const connects = Promise.all(
    nodes.map(async (node) => {
      const endpoints = [...nodes.filter((p) => p !== node).map((p) => `${p.address}:${GOSSIP}`), ...managers.filter((m) => m !== node).map((m) => `${m.address}:${MANAGER}`)];
      const command = connectCommand(endpoints);
      try {
        const result = await runner.run({ target: hostTarget(node), command, signal });
        return { node, result, parsed: command.parse!(result.stdout), error: undefined };
      } catch (error) {
        return { node, result: undefined, parsed: new Map<string, { rc: number; text: string }>(), error: (error as Error).message };
      }
    }),
  );
  const pairs = overlayPairs(snapshot, nodes);
  const pings = mapLimit(pairs, 3, async (pair) => {
    const command = pingCommand(pair.address, [56, pair.mtu - 28]);
    try {
      pair.result = await runner.run({ target: sandboxTarget(snapshot, pair.client), command, signal });
      pair.outcome = command.parse!(pair.result.stdout);
    } catch (error) {
      pair.error = (error as Error).message;
    }
    return pair;
  });
  const facts = Promise.all(
    nodes.map(async (node) => {
      const command = factsCommand();
      try {
        const result = await runner.run({ target: hostTarget(node), command, signal });
        return { node, parsed: command.parse!(result.stdout), evidence: commandEvidence(result, describeTarget(hostTarget(node)), `addresses and IPVS on ${node.hostname}`) };
      } catch (error) {
        return { node, parsed: undefined, evidence: { kind: 'note' as const, title: `facts of ${node.hostname}`, text: (error as Error).message } };
      }
    }),
  );
  const firewalls = Promise.all(nodes.map((node) => readFirewall(runner, hostTarget(node), signal)));
  const [connected, pinged, nodeFacts, hostFirewalls] = await Promise.all([connects, pings, facts, firewalls]);
  // Gossip goes out every second or so; give every pair a few seconds to show it.
  const waited = Date.now() - listenStart;
  if (waited < 6000) await delay(6000 - waited);
  stopListening.abort();
  signal?.removeEventListener('abort', onAbort);
  const heard = await Promise.all(listens.map(async (l) => ({ node: l.node, ...(await l.done), text: l.text() })));
  signal?.throwIfAborted();

  const captureOf = new Map(heard.map((h) => [h.node.id, h]));
  const arrivalsOf = new Map(heard.map((h) => [h.node.id, parseArrivals(h.text)]));
  const listenEvidence = (node: NodeRecord): Evidence => ({ kind: 'command', title: `udp ${GOSSIP}/${dataPort} seen on ${node.hostname}`, where: describeTarget(hostTarget(node)), command: listenCommand(0, [GOSSIP, dataPort]).title.replace(/ for 0 s$/, ''), text: captureOf.get(node.id)?.text || captureOf.get(node.id)?.error || '' });
  const firewallOf = new Map(hostFirewalls.map((f) => [f.target.node.id, f]));

  for (const n of nodeFacts) ipvs.set(n.node.hostname, n.parsed?.ipvs);
  for (const h of heard) {
    if (!/listening on/.test(h.text)) {
      findings.push({ check: 'node-paths', severity: 'unavailable', title: `could not listen on ${h.node.hostname}`, nodes: [h.node.hostname], explanation: `tcpdump did not start in ${h.node.hostname}'s host namespace, so arrivals there are unknown. ${h.error ?? h.text.trim().split('\n').slice(-2).join(' ')}`, fix: 'The helper image needs tcpdump and the NET_RAW/NET_ADMIN capabilities.', evidence: [listenEvidence(h.node)] });
    }
  }

  // Gossip and manager ports over TCP.
  for (const c of connected) {
    if (c.error) {
      findings.push({ check: 'node-paths', severity: 'unavailable', title: `could not dial from ${c.node.hostname}`, nodes: [c.node.hostname], explanation: c.error, evidence: [] });
      continue;
    }
    for (const [endpoint, r] of c.parsed) {
      const [address, port] = [endpoint.replace(/:\d+$/, ''), Number(endpoint.replace(/^.*:/, ''))];
      const peer = nodes.find((n) => n.address === address);
      if (r.rc === 0 || !peer) continue;
      const what = port === GOSSIP ? 'gossip (7946/tcp)' : 'the manager port (2377/tcp)';
      const refused = /refused/i.test(r.text);
      const rules = blockingRules(firewallOf.get(peer.id)!, { src: c.node.address, dst: peer.address, proto: 'tcp', dport: port }, ['INPUT']).concat(blockingRules(firewallOf.get(c.node.id)!, { src: c.node.address, dst: peer.address, proto: 'tcp', dport: port }, ['OUTPUT']));
      findings.push({
        check: 'node-paths',
        severity: 'error',
        title: `${c.node.hostname} → ${peer.hostname}: ${what} ${refused ? 'refused' : 'does not answer'}`,
        nodes: [peer.hostname, c.node.hostname],
        explanation: `${c.node.hostname} cannot open ${what} on ${peer.hostname} (${peer.address}): ${r.text || `exit ${r.rc}`}. ${port === GOSSIP ? 'Without gossip, nodes do not learn where the other nodes\' tasks are, so overlay traffic and service discovery break.' : 'A node that cannot reach the managers is marked down.'}${rules.length ? ` A firewall rule matches: ${rules.map((r2) => describeRule(r2)).join('; ')}.` : ''}`,
        fix: `Allow ${port}/tcp between the swarm nodes (${nodes.map((n) => n.address).join(', ')}) in host firewalls and cloud security groups.`,
        evidence: [commandEvidence(c.result!, describeTarget(hostTarget(c.node)), `dial peers from ${c.node.hostname}`), ...(rules.length ? [firewallOf.get(peer.id)!.evidence] : [])],
      });
    }
  }

  // Gossip over UDP: heard from every peer?
  for (const to of nodes) {
    const arrivals = arrivalsOf.get(to.id)!;
    if (!/listening on/.test(captureOf.get(to.id)?.text ?? '')) continue;
    for (const from of nodes) {
      if (from === to) continue;
      if ((arrivals.inbound.get(`${from.address}>${GOSSIP}`) ?? 0) > 0) continue;
      const rules = blockingRules(firewallOf.get(to.id)!, { src: from.address, dst: to.address, proto: 'udp', dport: GOSSIP }, ['INPUT']);
      findings.push({
        check: 'node-paths',
        severity: 'warning',
        title: `${from.hostname} → ${to.hostname}: no gossip (7946/udp) arrived`,
        nodes: [to.hostname, from.hostname],
        explanation: `In ${Math.round((Date.now() - listenStart) / 1000)} s of listening, ${to.hostname} received no UDP on 7946 from ${from.hostname}. Gossip normally flows every second; without it, nodes mark each other suspect and overlay peers go stale.`,
        fix: 'Allow 7946/udp between the swarm nodes in host firewalls and cloud security groups.',
        evidence: [listenEvidence(to), listenEvidence(from), ...(rules.length ? [firewallOf.get(to.id)!.evidence] : [])],
      });
    }
  }

  // The VXLAN data path, and the MTU it carries.
  for (const pair of pinged) {
    const pairName = `${pair.from.hostname} → ${pair.to.hostname}`;
    const pingEvidence = pair.result ? commandEvidence(pair.result, describeTarget(sandboxTarget(snapshot, pair.client)), `ping from ${taskName(pair.client, snapshot.serviceById.get(pair.client.serviceId))} (${pair.from.hostname}) to ${taskName(pair.server, snapshot.serviceById.get(pair.server.serviceId))} (${pair.to.hostname}) over ${pair.network.name}`) : { kind: 'note' as const, title: `ping ${pairName}`, text: pair.error ?? '' };
    if (!pair.outcome) {
      findings.push({ check: 'data-path', severity: 'unavailable', title: `${pairName}: could not ping over ${pair.network.name}`, nodes: [pair.from.hostname, pair.to.hostname], explanation: pair.error ?? 'The ping did not run.', evidence: [pingEvidence] });
      continue;
    }
    const [small, big] = pair.outcome.sizes;
    const sentOut = arrivalsOf.get(pair.from.id)!.outbound.get(`${pair.to.address}>${dataPort}`) ?? 0;
    const arrivedIn = arrivalsOf.get(pair.to.id)!.inbound.get(`${pair.from.address}>${dataPort}`) ?? 0;
    const returned = arrivalsOf.get(pair.from.id)!.inbound.get(`${pair.to.address}>${dataPort}`) ?? 0;
    const evidence = [pingEvidence, listenEvidence(pair.from), listenEvidence(pair.to)];
    if (!small || small.received === 0) {
      const flowOut = { src: pair.from.address, dst: pair.to.address, proto: 'udp', dport: dataPort };
      const senderRules = blockingRules(firewallOf.get(pair.from.id)!, flowOut, ['OUTPUT']);
      const receiverRules = blockingRules(firewallOf.get(pair.to.id)!, flowOut, ['INPUT']);
      let where: string;
      let faulty: NodeRecord[];
      if (sentOut === 0) {
        where = `${pair.from.hostname} never sent VXLAN (udp ${dataPort}) to ${pair.to.hostname}: the packets are stopped inside ${pair.from.hostname} (host firewall OUTPUT, or no forwarding entry for the remote task)`;
        faulty = [pair.from, pair.to];
      } else if (arrivedIn === 0) {
        where = `${pair.from.hostname} sent ${sentOut} VXLAN packet(s) to ${pair.to.hostname}:${dataPort}, and none arrived there: the underlay between the two drops udp ${dataPort} (a firewall or security group between them)`;
        faulty = [pair.to, pair.from];
      } else if (returned === 0) {
        where = `${sentOut} VXLAN packet(s) from ${pair.from.hostname} arrived at ${pair.to.hostname} (${arrivedIn} seen there), but no answer came back: ${pair.to.hostname} drops them (host firewall INPUT) or its answers to ${pair.from.hostname} are lost`;
        faulty = [pair.to, pair.from];
      } else {
        where = `VXLAN packets went both ways (${sentOut} out, ${returned} back), yet the tasks did not answer each other: look inside the tasks (firewall in the task, wrong neighbour entries)`;
        faulty = [pair.to];
      }
      const rules = [...senderRules.map((r) => `${pair.from.hostname}: ${describeRule(r)}`), ...receiverRules.map((r) => `${pair.to.hostname}: ${describeRule(r)}`)];
      if (receiverRules.length) faulty = [pair.to, pair.from];
      else if (senderRules.length) faulty = [pair.from, pair.to];
      findings.push({
        check: 'data-path',
        severity: 'error',
        title: `${pairName}: the VXLAN data path (udp ${dataPort}) is broken`,
        nodes: faulty.map((n) => n.hostname),
        explanation: `A task on ${pair.from.hostname} cannot ping a task on ${pair.to.hostname} over ${pair.network.name}. ${where}.${rules.length ? ` Matching firewall rules: ${rules.join('; ')}.` : ''} Every overlay connection between these nodes fails the same way.`,
        fix: `Allow udp ${dataPort} between ${pair.from.address} and ${pair.to.address} both ways (host firewalls, cloud security groups, any firewall between the nodes).`,
        evidence: [...evidence, ...(senderRules.length ? [firewallOf.get(pair.from.id)!.evidence] : []), ...(receiverRules.length ? [firewallOf.get(pair.to.id)!.evidence] : [])],
      });
      continue;
    }
    if (big && big.received === 0) {
      const underlay = (node: NodeRecord) => nodeFacts.find((f) => f.node === node)?.parsed?.interfaces.find((i) => i.addresses.some((a) => a.local === node.address));
      const fromIf = underlay(pair.from);
      const toIf = underlay(pair.to);
      const need = pair.mtu + VXLAN_OVERHEAD;
      const tooSmall = [fromIf && fromIf.mtu !== undefined && fromIf.mtu < need ? `${pair.from.hostname}'s ${fromIf.name} has MTU ${fromIf.mtu}` : '', toIf && toIf.mtu !== undefined && toIf.mtu < need ? `${pair.to.hostname}'s ${toIf.name} has MTU ${toIf.mtu}` : ''].filter(Boolean);
      findings.push({
        check: 'mtu',
        severity: 'error',
        title: `${pairName}: full-size overlay packets (MTU ${pair.mtu}) do not get through`,
        nodes: [pair.from.hostname, pair.to.hostname],
        explanation: `Small pings cross ${pair.network.name} from ${pair.from.hostname} to ${pair.to.hostname}, but a ping that fills the overlay MTU (${pair.mtu} bytes, ${need} on the underlay with VXLAN's ${VXLAN_OVERHEAD}) gets no answer. ${tooSmall.length ? `${tooSmall.join(' and ')}, less than ${need}.` : `Both nodes' own interfaces carry ${need} bytes (${fromIf?.name ?? '?'} ${fromIf?.mtu ?? '?'} / ${toIf?.name ?? '?'} ${toIf?.mtu ?? '?'}), so something between them (a tunnel, a cloud network, a bridge or veth with a smaller MTU) cannot carry it.`} Connections open (small handshake packets) and then hang as soon as a full-size segment is sent.`,
        fix: `Create the overlay with a smaller MTU (docker network create --opt com.docker.network.driver.mtu=${Math.max(1280, (Math.min(fromIf?.mtu ?? 1500, toIf?.mtu ?? 1500) || 1500) - VXLAN_OVERHEAD - 100)} …) or raise the underlay MTU between ${pair.from.hostname} and ${pair.to.hostname} to at least ${need}.`,
        evidence: [pingEvidence, ...nodeFacts.filter((f) => f.node === pair.from || f.node === pair.to).map((f) => f.evidence)],
      });
    }
  }
  // Underlay MTU against each overlay's, even where no pair could be pinged.
  for (const f of nodeFacts) {
    const iface = f.parsed?.interfaces.find((i) => i.addresses.some((a) => a.local === f.node.address));
    if (!iface?.mtu) continue;
    for (const network of snapshot.networks.filter((n) => n.driver === 'overlay' && !n.ingress)) {
      const mtu = Number(network.options['com.docker.network.driver.mtu']) || DEFAULT_OVERLAY_MTU;
      if (mtu + VXLAN_OVERHEAD > iface.mtu && !findings.some((x) => x.check === 'mtu' && x.nodes.includes(f.node.hostname))) {
        findings.push({ check: 'mtu', severity: 'error', title: `${f.node.hostname}: overlay ${network.name} (MTU ${mtu}) does not fit ${iface.name} (MTU ${iface.mtu})`, nodes: [f.node.hostname], explanation: `VXLAN adds ${VXLAN_OVERHEAD} bytes, so ${network.name} needs ${mtu + VXLAN_OVERHEAD} bytes on ${f.node.hostname}'s underlay interface ${iface.name}.`, fix: `Recreate ${network.name} with --opt com.docker.network.driver.mtu=${iface.mtu - VXLAN_OVERHEAD}, or raise ${iface.name}'s MTU.`, evidence: [f.evidence] });
      }
    }
  }

  const failedPaths = findings.filter((f) => f.severity === 'error').length;
  if (!failedPaths) {
    const tested = pinged.filter((p) => p.outcome?.sizes[0]?.received).length;
    findings.push({
      check: 'node-paths',
      severity: 'ok',
      title: `gossip, manager and data-path ports answer between all ${nodes.length} nodes`,
      nodes: nodes.map((n) => n.hostname),
      explanation: `Every node opened 7946/tcp on every other node${managers.length ? ` and 2377/tcp on the managers` : ''}; ${tested} of ${pairs.length} node pairs pinged each other over the overlay with full-size packets.${pairs.length < nodes.length * (nodes.length - 1) ? ` ${nodes.length * (nodes.length - 1) - pairs.length} ordered pairs have no overlay network with tasks on both ends, so their data path was not tested.` : ''}`,
      evidence: heard.map((h) => listenEvidence(h.node)),
    });
  }
  return { findings, ipvs };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

