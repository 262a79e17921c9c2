// "Diagnose this connection": probe from the client task while capturing at both ends, read the
// firewall counters before and after, and say where the SYN was seen and where the RST came from.
import { CaptureFile, indexCaptureFile } from '../capture/packetIndex';
import type { ConversationSummary } from '../capture/conversations';
import type { TaskRecord } from '../engine/types';
import { resolveTargets } from '../netns/resolveTarget';
import { describeTarget, type Target } from '../netns/target';
import { CaptureSession, sanitiseFileName, type CaptureStatus } from '../recorder/captureSession';
import { addressNames, splitCidr, type SwarmSnapshot } from '../swarm/snapshot';
import { blockingRules, describeRule, readFirewall, sameRule, type FirewallReading, type FirewallRule } from './firewall';
import { commandEvidence, type Evidence, type Finding } from './findings';
import { probeCommand } from './probe';
import type { Diagnosis, DiagnosisEnd, DiagnosisStep, DoctorContext } from './report';

export interface DiagnoseRequest {
  /** Client and server task: name ("service.slot"), id or id prefix. */
  client: string;
  server: string;
  port: number;
  /** Folder for the two capture files. */
  captureDir: string;
  /** Probe timeout, seconds. */
  timeoutSeconds?: number;
}

function oneTask(snapshot: SwarmSnapshot, name: string, role: string): { target: Target & { ns: 'sandbox' }; task: TaskRecord } {
  const targets = resolveTargets(snapshot, name);
  if (targets.length !== 1 || targets[0].ns !== 'sandbox') throw new Error(`The ${role} "${name}" names ${targets.length} tasks: name one task (e.g. ${name}.1).`);
  const target = targets[0];
  return { target, task: snapshot.tasks.find((t) => t.id === target.task.id)! };
}

/** A network both tasks are on, and their addresses there. */
function sharedNetwork(snapshot: SwarmSnapshot, a: TaskRecord, b: TaskRecord): { name: string; a: string; b: string } {
  for (const na of a.addresses) {
    const nb = b.addresses.find((x) => x.networkId === na.networkId);
    const network = snapshot.networkById.get(na.networkId);
    if (nb && na.addresses[0] && nb.addresses[0] && !network?.ingress) return { name: na.networkName, a: splitCidr(na.addresses[0]).address, b: splitCidr(nb.addresses[0]).address };
  }
  throw new Error('The two tasks share no network, so they cannot talk directly: attach the client service to one of the server\'s networks.');
}

interface EndView {
  status?: CaptureStatus;
  conversation?: ConversationSummary;
  /** Rows of the flow, as the viewer shows them. */
  rows: string[];
  error?: string;
}

async function readEnd(status: CaptureStatus | undefined, client: string, server: string, port: number, error?: string): Promise<EndView> {
  if (!status) return { rows: [], error };
  try {
    const index = await indexCaptureFile(status.file);
    const file = new CaptureFile(status.file);
    try {
      const conversations = index.conversationSummaries(file).filter((c) => c.protocol === 'TCP' || c.ipProtocol === 6);
      const matches = (c: ConversationSummary) => (c.addressA === client && c.addressB === server && c.portB === port) || (c.addressB === client && c.addressA === server && c.portA === port);
      const flow = conversations.filter(matches);
      const conversation = flow[flow.length - 1];
      const rows: string[] = [];
      for (let i = 0; i < index.count && rows.length < 40; i++) {
        const row = file.row(index, i);
        if ((row.source.startsWith(client) || row.destination.startsWith(client)) && (row.source.startsWith(server) || row.destination.startsWith(server))) rows.push(`${row.number}  ${row.relativeTime.toFixed(6)}  ${row.source} → ${row.destination}  ${row.protocol}  ${row.info}`);
        else if (row.protocol.startsWith('ICMP')) rows.push(`${row.number}  ${row.relativeTime.toFixed(6)}  ${row.source} → ${row.destination}  ${row.protocol}  ${row.info}`);
      }
      return { status, conversation, rows, error: index.error ? `the capture stops at byte ${index.error.offset}: ${index.error.message}` : undefined };
    } finally {
      file.close();
    }
  } catch (e) {
    return { status, rows: [], error: (e as Error).message };
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a capture and resolves once tcpdump is running (or the capture ended). */
function startCapture(ctx: DoctorContext, target: Target, filter: string, folder: string, fileName: string, names: ReadonlyMap<string, string>): { session: CaptureSession; running: Promise<void>; done: Promise<CaptureStatus> } {
  const session = new CaptureSession(ctx.runner, { target, filter, count: 500, durationSeconds: 60, maxBytes: 4 << 20, folder, fileName, names });
  let sub: { dispose(): void } | undefined;
  const running = new Promise<void>((resolve) => {
    sub = session.onDidChange((s) => s.state !== 'checking' && resolve());
  });
  const done = session.run().finally(() => sub?.dispose());
  return { session, running: Promise.race([running, done.then(() => undefined, () => undefined)]), done };
}

export async function diagnoseConnection(ctx: DoctorContext, request: DiagnoseRequest): Promise<Diagnosis> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const { snapshot, runner, signal } = ctx;
  if (!Number.isInteger(request.port) || request.port < 1 || request.port > 65535) throw new Error(`${request.port} is not a TCP port.`);
  const client = oneTask(snapshot, request.client, 'client');
  const server = oneTask(snapshot, request.server, 'server');
  const network = sharedNetwork(snapshot, client.task, server.task);
  const end = (role: 'client' | 'server', t: { target: Target & { ns: 'sandbox' }; task: TaskRecord }, address: string): DiagnosisEnd => ({ role, task: t.target.task.name, service: snapshot.serviceById.get(t.task.serviceId)?.name ?? '', node: t.target.node.hostname, address });
  const clientEnd = end('client', client, network.a);
  const serverEnd = end('server', server, network.b);
  const flow = { src: network.a, dst: network.b, proto: 'tcp', dport: request.port };
  const hosts: Target[] = [{ ns: 'host', node: client.target.node }];
  if (server.target.node.id !== client.target.node.id) hosts.push({ ns: 'host', node: server.target.node });
  const firewallTargets: Target[] = [client.target, server.target, ...hosts];

  // 1. Firewall counters before.
  ctx.progress?.('reading firewall counters before the probe');
  const before = await Promise.all(firewallTargets.map((t) => readFirewall(runner, t, signal)));

  // 2. Capture at both ends; 3. the probe; 4. stop.
  ctx.progress?.(`capturing in ${clientEnd.task} and ${serverEnd.task}`);
  const stamp = startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const filter = `(host ${network.a} and host ${network.b}) or icmp`;
  // The swarm's names now, kept beside both captures.
  const names = addressNames(ctx.snapshot);
  const captures = [
    startCapture(ctx, client.target, filter, request.captureDir, sanitiseFileName(`diagnose-${stamp}-client-${clientEnd.task}.pcap`), names),
    startCapture(ctx, server.target, filter, request.captureDir, sanitiseFileName(`diagnose-${stamp}-server-${serverEnd.task}.pcap`), names),
  ];
  const onAbort = () => captures.forEach((c) => c.session.stop());
  signal?.addEventListener('abort', onAbort);
  let probeEvidence: Evidence | undefined;
  let probe;
  try {
    await Promise.race([Promise.all(captures.map((c) => c.running)), delay(30_000)]);
    await delay(700); // tcpdump says "running" a moment before its socket sees packets
    ctx.progress?.(`probing ${serverEnd.address}:${request.port} from ${clientEnd.task}`);
    const command = probeCommand({ address: network.b, port: request.port }, request.timeoutSeconds ?? 3);
    const result = await runner.run({ target: client.target, command, signal });
    probe = command.parse!(result.stdout);
    probeEvidence = commandEvidence(result, describeTarget(client.target), `probe from ${clientEnd.task} to ${serverEnd.address}:${request.port}`);
    await delay(500);
  } finally {
    captures.forEach((c) => c.session.stop());
    signal?.removeEventListener('abort', onAbort);
  }
  const statuses = await Promise.all(captures.map((c) => c.done.then((s) => ({ status: s, error: undefined }), (e: Error) => ({ status: c.session.status, error: e.message }))));
  signal?.throwIfAborted();

  // 5. Counters after; 6. both captures read with the analysis.
  ctx.progress?.('reading firewall counters after the probe, and both captures');
  const after = await Promise.all(firewallTargets.map((t) => readFirewall(runner, t, signal)));
  const [clientView, serverView] = await Promise.all([readEnd(statuses[0].status, network.a, network.b, request.port, statuses[0].error), readEnd(statuses[1].status, network.a, network.b, request.port, statuses[1].error)]);

  // Rules matching the flow (or its VXLAN carrier between the nodes) whose counters moved.
  const vxlan = { src: client.target.node.address, dst: server.target.node.address, proto: 'udp', dport: ctx.dataPathPort ?? 4789 };
  const chainsFor = (t: Target) => (t === client.target ? ['OUTPUT'] : t === server.target ? ['INPUT'] : t.node.id === client.target.node.id ? ['OUTPUT', 'FORWARD'] : ['INPUT', 'FORWARD']);
  const moved: { where: string; target: Target; rule: FirewallRule; delta: number; reading: FirewallReading }[] = [];
  const matching: { where: string; rule: FirewallRule }[] = [];
  after.forEach((reading, i) => {
    const t = firewallTargets[i];
    const rules = blockingRules(reading, t.ns === 'host' ? vxlan : flow, chainsFor(t));
    for (const rule of rules) {
      const was = sameRule(blockingRules(before[i], t.ns === 'host' ? vxlan : flow, chainsFor(t)), rule);
      const delta = (rule.packets ?? 0) - (was?.packets ?? 0);
      matching.push({ where: describeTarget(t), rule });
      if (delta > 0) moved.push({ where: describeTarget(t), target: t, rule, delta, reading });
    }
  });

  // What each end saw.
  const cc = clientView.conversation?.tcp;
  const sc = serverView.conversation?.tcp;
  const side = (c: ConversationSummary | undefined, address: string) => (c ? (c.addressA === address ? 'A' : 'B') : undefined);
  const serverSide = side(serverView.conversation, network.b);
  const clientSide = side(clientView.conversation, network.a);
  const steps: DiagnosisStep[] = [];
  const clientCap: Evidence[] = statuses[0].status ? [{ kind: 'capture', title: `capture in ${clientEnd.task} (${clientEnd.node})`, where: describeTarget(client.target), path: statuses[0].status.file, packets: statuses[0].status.packets }] : [];
  const serverCap: Evidence[] = statuses[1].status ? [{ kind: 'capture', title: `capture in ${serverEnd.task} (${serverEnd.node})`, where: describeTarget(server.target), path: statuses[1].status.file, packets: statuses[1].status.packets }] : [];
  const rowsNote = (view: EndView, who: string): Evidence => ({ kind: 'note', title: `packets of the flow seen in ${who}`, text: view.rows.length ? view.rows.join('\n') : view.error ?? 'none' });

  const synLeft = (cc?.synCount ?? 0) > 0 || (probe?.synCount ?? 0) > 0;
  steps.push({ title: `SYN left the client ${clientEnd.task} on ${clientEnd.node}`, verdict: synLeft ? 'ok' : 'fault', text: synLeft ? `${Math.max(cc?.synCount ?? 0, probe?.synCount ?? 0)} SYN(s) from ${network.a} to ${network.b}:${request.port} in the client's capture.` : `The client's capture holds no SYN to ${network.b}:${request.port}: it never left the client's namespace.`, evidence: [...clientCap, rowsNote(clientView, clientEnd.task)] });
  const synArrived = (sc?.synCount ?? 0) > 0;
  steps.push({ title: `SYN arrived in the server task ${serverEnd.task} on ${serverEnd.node}`, verdict: synArrived ? 'ok' : synLeft ? 'fault' : 'unknown', text: serverView.status ? (synArrived ? `${sc!.synCount} SYN(s) in the server's capture.` : `The server's capture holds no SYN from ${network.a}.${serverView.error ? ` (${serverView.error})` : ''}`) : `No capture in the server task: ${serverView.error ?? 'it did not start'}.`, evidence: [...serverCap, rowsNote(serverView, serverEnd.task)] });
  const serverRst = sc?.firstRst && sc.firstRst.side === serverSide;
  const serverSynAck = (sc?.synAckCount ?? 0) > 0;
  if (synArrived) {
    steps.push({
      title: serverRst ? `the server's namespace answered with an RST` : serverSynAck ? 'the server answered with a SYN-ACK' : 'the server did not answer',
      verdict: serverRst || !serverSynAck ? 'fault' : 'ok',
      text: serverRst ? `RST from ${sc!.firstRst!.endpoint} (packet ${sc!.firstRst!.packet + 1} of the server's capture): ${sc!.verdictText}.` : serverSynAck ? `${sc!.synAckCount} SYN-ACK(s) sent: ${sc!.verdictText}.` : `The SYN arrived and nothing went back: ${sc?.verdictText ?? ''}.`,
      evidence: serverCap,
    });
  }
  const clientGotRst = cc?.firstRst && cc.firstRst.side !== clientSide;
  const clientGotSynAck = (cc?.synAckCount ?? 0) > 0;
  steps.push({ title: 'the answer reached the client', verdict: clientGotSynAck ? 'ok' : clientGotRst ? 'fault' : synLeft ? 'fault' : 'unknown', text: clientGotSynAck ? `SYN-ACK received: ${cc!.verdictText}.` : clientGotRst ? `RST received from ${cc!.firstRst!.endpoint}: ${cc!.verdictText}.` : `Nothing came back to the client${probe ? ` (${probe.summary})` : ''}.`, evidence: clientCap });
  for (const m of moved) steps.push({ title: `firewall counter moved in ${m.where}`, verdict: 'fault', text: `${describeRule(m.rule)}: +${m.delta} packet(s) during the probe.`, evidence: [m.reading.evidence] });
  if (!moved.length) steps.push({ title: 'no REJECT/DROP counter moved', verdict: matching.length ? 'info' : 'ok', text: matching.length ? `Rules match the flow but did not count a packet during the probe: ${matching.map((m) => `${m.where}: ${describeRule(m.rule)}`).join('; ')}.` : `No REJECT/DROP rule in the two tasks or on the two nodes matches the flow or its VXLAN carrier.`, evidence: after.map((r) => r.evidence) });

  // The verdict.
  let headline: string;
  let faultNode: string | undefined;
  let faultHop: string | undefined;
  const advice: string[] = [];
  const findings: Finding[] = [];
  const blame = moved.find((m) => m.target === server.target) ?? moved.find((m) => m.target === client.target) ?? moved[0];
  if (clientGotSynAck && serverSynAck) {
    headline = `${clientEnd.task} on ${clientEnd.node} connects to ${serverEnd.task} on ${serverEnd.node} port ${request.port}: the handshake completes at both ends.`;
  } else if (serverRst) {
    const rule = blame?.target === server.target ? blame : undefined;
    faultNode = serverEnd.node;
    faultHop = rule ? `${serverEnd.task}'s own namespace (iptables ${rule.rule.chain})` : `${serverEnd.task}'s namespace`;
    headline = rule
      ? `The server task ${serverEnd.task} on ${serverEnd.node} refused the connection: its firewall rule "${describeRule(rule.rule, undefined, { counters: false })}" answered the SYN from ${network.a} with an RST (counter +${rule.delta}, now ${rule.rule.packets ?? '?'}).`
      : `The server task ${serverEnd.task} on ${serverEnd.node} answered the SYN with an RST: nothing accepts connections on port ${request.port} from ${network.a} there.`;
    advice.push(rule ? `Remove the rule in ${serverEnd.task}'s namespace: iptables -D ${rule.rule.chain} ${rule.rule.num ?? '<num>'} (it is not in the image's Dockerfile; look for what adds it at start: an entrypoint, a sidecar, an agent).` : `Check that ${serverEnd.service} listens on ${request.port} (ss -ltn in its namespace) and accepts ${network.a}.`);
  } else if (clientGotRst && !serverRst && synArrived) {
    faultNode = serverEnd.node;
    faultHop = `between ${serverEnd.task} and ${clientEnd.task}: the server sent no RST, yet the client got one`;
    headline = `${clientEnd.task} got an RST that ${serverEnd.task} never sent: something between them forges it.`;
  } else if (synLeft && !synArrived) {
    const rule = blame;
    faultNode = rule ? rule.target.node.hostname : serverEnd.node;
    faultHop = rule ? `${rule.where} (iptables ${rule.rule.chain})` : `the overlay between ${clientEnd.node} and ${serverEnd.node}`;
    headline = rule
      ? `The SYN left ${clientEnd.task} but never reached ${serverEnd.task}: "${describeRule(rule.rule, undefined, { counters: false })}" in ${rule.where} dropped it (counter +${rule.delta}).`
      : `The SYN left ${clientEnd.task} on ${clientEnd.node} but never reached ${serverEnd.task} on ${serverEnd.node}: it is lost on the overlay between the two nodes.`;
    advice.push(rule ? 'Remove or narrow that rule.' : `Run the checks (swarm-doctor check): they test udp ${vxlan.dport} and the MTU between ${clientEnd.node} and ${serverEnd.node}, and each node's VXLAN table.`);
  } else if (!synLeft) {
    const rule = moved.find((m) => m.target === client.target) ?? blame;
    faultNode = clientEnd.node;
    faultHop = rule ? `${rule.where} (iptables ${rule.rule.chain})` : `${clientEnd.task}'s namespace`;
    headline = rule ? `The SYN never left ${clientEnd.task}: "${describeRule(rule.rule, undefined, { counters: false })}" in ${rule.where} stops it (counter +${rule.delta}).` : `The SYN never left ${clientEnd.task}${probe ? `: ${probe.summary}` : ''}.`;
  } else {
    faultNode = serverEnd.node;
    faultHop = `${serverEnd.task}`;
    headline = `The SYN reached ${serverEnd.task} on ${serverEnd.node} and no answer came back${sc ? ` (${sc.verdictText})` : ''}.`;
    advice.push(`Look at ${serverEnd.task}: is the process up and listening on ${request.port}? Is its answer dropped on the way back (run the checks)?`);
  }
  if (faultNode) {
    findings.push({ check: 'diagnose', severity: 'error', title: headline, nodes: [faultNode, ...[clientEnd.node, serverEnd.node].filter((n) => n !== faultNode)], explanation: steps.map((s) => `${s.title}: ${s.text}`).join(' '), fix: advice[0], evidence: [...clientCap, ...serverCap, ...moved.map((m) => m.reading.evidence)] });
  }
  const evidence: Evidence[] = [...clientCap, ...serverCap, ...(probeEvidence ? [probeEvidence] : []), ...before.map((r) => ({ ...r.evidence, title: `before: ${r.evidence.title}` })), ...after.map((r) => ({ ...r.evidence, title: `after: ${r.evidence.title}` }))];
  return { startedAt, durationMs: performance.now() - started, client: clientEnd, server: serverEnd, port: request.port, probe, headline, faultNode, faultHop, steps, advice, findings, evidence };
}
