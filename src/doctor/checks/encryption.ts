// Encrypted overlay networks (`--opt encrypted`): swarm carries their VXLAN packets in IPsec ESP
// (transport mode) between every two nodes that host their tasks. In each node's host namespace,
// per peer: an outbound policy (udp to the data-path port, marked) whose template names an ESP SPI,
// the ESP state of that SPI for sending, and the peer's state of the same SPI for receiving. Swarm
// also drops, on INPUT, VXLAN of an encrypted network that arrives unencrypted.
//
// A ping across the network proves the path, and the kernel's xfrm counters, read before and
// after, say which end dropped the packets: the sender with no state for its policy
// (XfrmOutNoStates), the receiver that could not match (XfrmIn*), or neither (ESP, IP protocol 50,
// lost between the nodes: a firewall or security group that passes udp but not ESP).
import type { NetworkRecord, NodeRecord, TaskRecord } from '../../engine/types';
import { NET_CAPABILITIES, type NetCommand } from '../../netns/command';
import type { CommandResult } from '../../netns/runner';
import { describeTarget, hostTarget, sandboxTarget } from '../../netns/target';
import { compareNames, isRunningTask, taskName, type SwarmSnapshot } from '../../swarm/snapshot';
import { mapLimit } from '../concurrency';
import { commandEvidence, type Evidence, type Finding } from '../findings';
import { addressOn } from '../matrix';
import { pingCommand, type PingOutcome } from '../probe';
import type { DoctorContext } from '../report';

export interface XfrmPolicy {
  src: string;
  dst: string;
  protocol?: string;
  dport?: number;
  dir?: string;
  mark?: string;
  /** The template's ESP SPI (what a state must carry), as 0x… text. */
  spi?: string;
}

export interface XfrmState {
  src: string;
  dst: string;
  protocol: string;
  spi: string;
  /** The AEAD or cipher named (never its key). */
  algorithm?: string;
}

export interface XfrmSnapshot {
  policies: XfrmPolicy[];
  states: XfrmState[];
  /** /proc/net/xfrm_stat of the namespace: counter name → value. */
  counters: Map<string, number>;
  /** Whether /proc/crypto lists the AEAD swarm uses (rfc4106(gcm(aes))). */
  gcm?: boolean;
}

// Key material never leaves the node: every hex run on an aead/enc/auth line is hidden.
const XFRM_SCRIPT = [
  'echo "### policy"; ip xfrm policy 2>&1',
  `echo "### state"; ip xfrm state 2>&1 | sed -E '/^[[:space:]]*(aead|enc|auth|auth-trunc|comp) /s/0x[0-9a-fA-F]+/(key hidden)/g'`,
  'echo "### stat"; cat /proc/net/xfrm_stat 2>&1',
  // grep -c says 0 with exit status 1: the script's status is the reading's, not grep's.
  'echo "### crypto"; grep -c "rfc4106(gcm(aes))" /proc/crypto 2>&1; exit 0',
].join('\n');

export function xfrmCommand(): NetCommand<XfrmSnapshot> {
  return { id: 'xfrm-state', title: 'ip xfrm policy; ip xfrm state (keys hidden); /proc/net/xfrm_stat', argv: ['sh', '-c', XFRM_SCRIPT], capabilities: NET_CAPABILITIES, parse: parseXfrmOutput };
}

const section = (stdout: string, name: string) => {
  const start = stdout.indexOf(`### ${name}\n`);
  if (start < 0) return '';
  const rest = stdout.slice(start + name.length + 5);
  const end = rest.indexOf('\n### ');
  return end < 0 ? rest : rest.slice(0, end + 1);
};

/** Blocks of `ip xfrm` output: a line at the margin, then its indented lines. */
function blocks(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (/^\S/.test(line)) out.push(line);
    else if (out.length) out[out.length - 1] += `\n${line}`;
  }
  return out;
}

const strip = (prefix: string) => prefix.replace(/\/(32|128)$/, '');

export function parseXfrmPolicies(text: string): XfrmPolicy[] {
  const policies: XfrmPolicy[] = [];
  for (const block of blocks(text)) {
    const head = /^src (\S+) dst (\S+)(?: proto (\S+))?(?:.*? dport (\d+))?/.exec(block);
    if (!head) continue;
    policies.push({
      src: strip(head[1]),
      dst: strip(head[2]),
      protocol: head[3],
      dport: head[4] ? Number(head[4]) : undefined,
      dir: /\bdir (\S+)/.exec(block)?.[1],
      mark: /\bmark (\S+)/.exec(block)?.[1],
      spi: /proto esp spi (0x[0-9a-f]+)/i.exec(block)?.[1]?.toLowerCase(),
    });
  }
  return policies;
}

export function parseXfrmStates(text: string): XfrmState[] {
  const states: XfrmState[] = [];
  for (const block of blocks(text)) {
    const head = /^src (\S+) dst (\S+)/.exec(block);
    const proto = /\bproto (\S+) spi (0x[0-9a-f]+)/i.exec(block);
    if (head && proto) states.push({ src: head[1], dst: head[2], protocol: proto[1], spi: proto[2].toLowerCase(), algorithm: /^\s*(?:aead|enc) (\S+)/m.exec(block)?.[1] });
  }
  return states;
}

export function parseXfrmOutput(stdout: string): XfrmSnapshot {
  const counters = new Map<string, number>();
  for (const line of section(stdout, 'stat').split('\n')) {
    const m = /^(Xfrm\w+)\s+(\d+)/.exec(line.trim());
    if (m) counters.set(m[1], Number(m[2]));
  }
  const crypto = section(stdout, 'crypto').trim();
  return { policies: parseXfrmPolicies(section(stdout, 'policy')), states: parseXfrmStates(section(stdout, 'state')), counters, gcm: /^\d+$/.test(crypto) ? Number(crypto) > 0 : undefined };
}

/** Counters that grew between two readings, e.g. "XfrmOutNoStates +2". */
export function counterGrowth(before: XfrmSnapshot | undefined, after: XfrmSnapshot | undefined): Map<string, number> {
  const grown = new Map<string, number>();
  if (!before || !after) return grown;
  for (const [name, value] of after.counters) {
    const delta = value - (before.counters.get(name) ?? 0);
    if (delta > 0) grown.set(name, delta);
  }
  return grown;
}

const growthText = (grown: Map<string, number>, side: 'Out' | 'In') =>
  [...grown]
    .filter(([name]) => name.startsWith(`Xfrm${side}`))
    .map(([name, delta]) => `${name} +${delta}`)
    .join(', ');

/** Nodes hosting running tasks of the network, each with one such task. */
function tasksByNodeOn(snapshot: SwarmSnapshot, network: NetworkRecord, nodes: NodeRecord[]): Map<NodeRecord, TaskRecord> {
  const found = new Map<NodeRecord, TaskRecord>();
  for (const node of nodes) {
    const task = (snapshot.tasksByNode.get(node.id) ?? []).filter((t) => isRunningTask(t) && addressOn(t, network.id)).sort((a, b) => compareNames(a.id, b.id))[0];
    if (task) found.set(node, task);
  }
  return found;
}

interface Pair {
  from: NodeRecord;
  to: NodeRecord;
  network: NetworkRecord;
  client: TaskRecord;
  address: string;
  result?: CommandResult;
  outcome?: PingOutcome;
  error?: string;
}

/** What is missing for `from` to send ESP to `to`, in words (empty: nothing). */
export function missingForPair(from: { hostname: string; address: string }, to: { hostname: string; address: string }, sender: XfrmSnapshot, receiver: XfrmSnapshot | undefined, dataPort: number): string[] {
  const missing: string[] = [];
  const policy = sender.policies.find((p) => p.src === from.address && p.dst === to.address && (p.dir ?? 'out') === 'out' && (p.dport === undefined || p.dport === dataPort));
  if (!policy) {
    missing.push(`${from.hostname} has no IPsec policy for udp ${dataPort} to ${to.hostname} (${to.address}): its VXLAN leaves unencrypted, and ${to.hostname} drops unencrypted VXLAN of an encrypted network`);
    return missing;
  }
  const spi = policy.spi;
  if (!sender.states.some((s) => s.src === from.address && s.dst === to.address && s.protocol === 'esp' && (!spi || s.spi === spi))) {
    missing.push(`${from.hostname} holds no ESP state${spi ? ` of SPI ${spi}` : ''} for ${to.hostname}: its policy requires one, so the kernel drops the packets before they leave`);
  }
  if (receiver && !receiver.states.some((s) => s.src === from.address && s.dst === to.address && s.protocol === 'esp' && (!spi || s.spi === spi))) {
    missing.push(`${to.hostname} holds no ESP state${spi ? ` of SPI ${spi}` : ''} from ${from.hostname}: it cannot decrypt what arrives`);
  }
  return missing;
}

export async function encryptionFindings(ctx: DoctorContext): Promise<Finding[]> {
  const { snapshot, runner, signal } = ctx;
  const dataPort = ctx.dataPathPort ?? 4789;
  const encrypted = snapshot.networks.filter((n) => n.driver === 'overlay' && n.encrypted && !n.ingress).sort((a, b) => compareNames(a.name, b.name));
  if (!encrypted.length) return [];
  const ready = snapshot.nodes.filter((n) => n.state === 'ready').sort((a, b) => compareNames(a.hostname, b.hostname));
  const findings: Finding[] = [];

  // One ordered pair per two nodes that share an encrypted network (the first such network).
  const pairs: Pair[] = [];
  const seen = new Set<string>();
  for (const network of encrypted) {
    const tasks = tasksByNodeOn(snapshot, network, ready);
    if (tasks.size < 2) {
      findings.push({ check: 'encryption', severity: 'info', title: `${network.name} (encrypted): tasks on ${tasks.size === 0 ? 'no ready node' : 'one node only'}, no IPsec between nodes to check`, nodes: [...tasks.keys()].map((n) => n.hostname), explanation: 'Swarm encrypts an overlay network between the nodes that host its tasks.', evidence: [] });
      continue;
    }
    for (const [from, client] of tasks) {
      for (const [to, server] of tasks) {
        const key = `${from.id}>${to.id}`;
        if (from === to || seen.has(key)) continue;
        seen.add(key);
        pairs.push({ from, to, network, client, address: addressOn(server, network.id)! });
      }
    }
  }
  if (!pairs.length) return findings;
  const nodes = [...new Set(pairs.flatMap((p) => [p.from, p.to]))].sort((a, b) => compareNames(a.hostname, b.hostname));
  const read = async (node: NodeRecord, when: string) => {
    const command = xfrmCommand();
    try {
      const result = await runner.run({ target: hostTarget(node), command, signal });
      return { node, xfrm: result.exitCode === 0 ? command.parse!(result.stdout) : undefined, evidence: commandEvidence(result, describeTarget(hostTarget(node)), `IPsec policies, states and counters on ${node.hostname} (${when})`) as Evidence };
    } catch (error) {
      if (signal?.aborted) throw error;
      return { node, xfrm: undefined, evidence: { kind: 'note', title: `IPsec state of ${node.hostname} (${when})`, text: (error as Error).message } as Evidence };
    }
  };

  ctx.progress?.(`encryption: IPsec state on ${nodes.length} nodes, pinging across ${[...new Set(pairs.map((p) => p.network.name))].join(', ')}`);
  const before = new Map((await Promise.all(nodes.map((n) => read(n, 'before the pings')))).map((r) => [r.node, r]));
  await mapLimit(pairs, 3, async (pair) => {
    const command = pingCommand(pair.address, [56]);
    try {
      pair.result = await runner.run({ target: sandboxTarget(snapshot, pair.client), command, signal });
      pair.outcome = command.parse!(pair.result.stdout);
    } catch (error) {
      if (signal?.aborted) throw error;
      pair.error = (error as Error).message;
    }
  });
  const after = new Map((await Promise.all(nodes.map((n) => read(n, 'after the pings')))).map((r) => [r.node, r]));

  // A node whose kernel refused every key docker gave it: one finding, which also takes the pings
  // it sent in vain (they say the same thing again, pair by pair).
  const refused = new Map<NodeRecord, { finding: Finding; silent: string[] }>();
  for (const node of nodes) {
    const x = before.get(node)?.xfrm;
    if (!x) {
      findings.push({ check: 'encryption', severity: 'unavailable', title: `IPsec state of ${node.hostname} could not be read`, nodes: [node.hostname], explanation: 'Without the node\'s policies, states and counters, its encrypted traffic cannot be judged.', evidence: [before.get(node)!.evidence] });
      continue;
    }
    if (x.policies.some((p) => p.spi) && !x.states.some((s) => s.protocol === 'esp')) {
      const finding: Finding = {
        check: 'encryption',
        severity: 'error',
        title: `${node.hostname}: IPsec policies for encrypted networks but not one ESP state`,
        nodes: [node.hostname],
        explanation: `Docker gave ${node.hostname} its keys, and the kernel kept none of them${x.gcm === false ? ' (and /proc/crypto lists no rfc4106(gcm(aes)), the AEAD swarm uses)' : ''}. That is a kernel without ESP (esp4) or without that AEAD: docker's log on the node says "Failed Adding ... SA". Every encrypted network's traffic to and from ${node.hostname} is dropped.`,
        fix: 'Give the node a kernel with ESP and AES-GCM (modprobe esp4, and gcm / aesni_intel where they are modules); docker installs the keys again when the node re-joins the network (its tasks re-scheduled, or dockerd restarted). Else use unencrypted overlays and encrypt in the application.',
        evidence: [before.get(node)!.evidence],
      };
      refused.set(node, { finding, silent: [] });
      findings.push(finding);
    }
  }

  for (const pair of pairs.sort((a, b) => compareNames(a.from.hostname, b.from.hostname) || compareNames(a.to.hostname, b.to.hostname))) {
    const { from, to, network } = pair;
    const evidence: Evidence[] = [];
    if (pair.result) evidence.push(commandEvidence(pair.result, describeTarget(sandboxTarget(snapshot, pair.client)), `ping across ${network.name} from ${from.hostname} to ${to.hostname}`));
    evidence.push(before.get(from)!.evidence, after.get(from)!.evidence, after.get(to)!.evidence);
    const replies = pair.outcome?.sizes[0];
    const ok = replies !== undefined && replies.received > 0;
    const sender = before.get(from)?.xfrm;
    const receiver = before.get(to)?.xfrm;
    const missing = sender ? missingForPair(from, to, sender, receiver, dataPort) : [];
    const outGrowth = growthText(counterGrowth(before.get(from)?.xfrm, after.get(from)?.xfrm), 'Out');
    const inGrowth = growthText(counterGrowth(before.get(to)?.xfrm, after.get(to)?.xfrm), 'In');
    if (ok && !missing.length) {
      findings.push({ check: 'encryption', severity: 'ok', title: `${from.hostname} → ${to.hostname}: ${network.name} (encrypted) carries traffic`, nodes: [from.hostname, to.hostname], explanation: `${replies!.received} of ${replies!.sent} pings answered through IPsec ESP.`, evidence });
      continue;
    }
    if (ok) {
      findings.push({ check: 'encryption', severity: 'warning', title: `${from.hostname} → ${to.hostname}: ${network.name} answers, but its IPsec state is incomplete`, nodes: [from.hostname, to.hostname], explanation: `${missing.join('; ')}.`, evidence });
      continue;
    }
    if (pair.error || !replies) {
      findings.push({ check: 'encryption', severity: 'unavailable', title: `${from.hostname} → ${to.hostname}: could not ping across ${network.name}`, nodes: [from.hostname, to.hostname], explanation: pair.error ?? 'The ping printed nothing to read.', evidence });
      continue;
    }
    const sendersFinding = refused.get(from);
    if (sendersFinding && missing.some((m) => m.startsWith(from.hostname))) {
      sendersFinding.silent.push(`to ${to.hostname} (${pair.address} on ${network.name}: ${replies.received} of ${replies.sent} answered)`);
      sendersFinding.finding.evidence.push(...evidence.filter((e) => e !== before.get(from)!.evidence && !sendersFinding.finding.evidence.includes(e)));
      if (!sendersFinding.finding.nodes.includes(to.hostname)) sendersFinding.finding.nodes.push(to.hostname);
      continue;
    }
    // No answer: say which end dropped the packets, from what is missing and what was counted.
    const faulty = outGrowth || missing.some((m) => m.startsWith(from.hostname)) ? from : inGrowth || missing.length ? to : undefined;
    const counted = [outGrowth && `${from.hostname} counted ${outGrowth}`, inGrowth && `${to.hostname} counted ${inGrowth}`].filter(Boolean).join('; ');
    // The counters are the node's, over all the pings that ran at once: they say who drops, not how many of these.
    const cause = missing.length
      ? `${missing.join('; ')}.`
      : !sender || !receiver
        ? `The IPsec state of ${!sender ? from.hostname : to.hostname} could not be read, so the dropping end is not known.`
        : counted
        ? 'Both ends hold their policies and states, yet the kernel dropped the packets.'
        : `Both ends hold their policies and states and neither kernel counted a drop: the ESP packets (IP protocol 50) are lost between ${from.hostname} and ${to.hostname}, as when a firewall or security group passes udp ${dataPort} but not ESP.`;
    findings.push({
      check: 'encryption',
      severity: 'error',
      title: `${from.hostname} → ${to.hostname}: ${network.name} (encrypted) carries nothing${faulty ? `; ${faulty.hostname} drops the packets` : ''}`,
      nodes: faulty ? [faulty.hostname, ...[from.hostname, to.hostname].filter((h) => h !== faulty.hostname)] : [from.hostname, to.hostname],
      explanation: `${replies.received} of ${replies.sent} pings from ${taskName(pair.client, snapshot.serviceById.get(pair.client.serviceId))} on ${from.hostname} to ${pair.address} on ${to.hostname} answered. ${cause}${counted ? ` While the pings ran, ${counted}.` : ''}`,
      fix: missing.length ? 'Give the node a kernel with ESP and AES-GCM (see the node\'s finding); docker installs the keys again when the node re-joins the network (its tasks re-scheduled, or dockerd restarted).' : `Allow IP protocol 50 (ESP) between the nodes (and udp ${dataPort}, tcp/udp 7946).`,
      evidence,
    });
  }
  for (const [node, { finding, silent }] of refused) {
    if (!silent.length) continue;
    const grown = growthText(counterGrowth(before.get(node)?.xfrm, after.get(node)?.xfrm), 'Out');
    finding.explanation += ` Its pings across the encrypted network got no answer: ${silent.join(', ')}${grown ? `; while they ran, ${node.hostname} counted ${grown}` : ''}.`;
  }
  return findings;
}
