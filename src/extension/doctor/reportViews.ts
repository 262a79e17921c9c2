// Turns the doctor's results (matrix, check report, diagnosis) into the plain views the report
// webview renders. No vscode import: evidence goes through a registry that hands out keys, so the
// content (command output, capture paths) stays in the extension host.
import type { Evidence, Finding } from '../../doctor/findings';
import { FAILING_STATES, planMatrix, type Matrix, type MatrixPlan, type MatrixCell, type MatrixDestination, type MatrixRequest, type MatrixSource } from '../../doctor/matrix';
import type { ProbeOutcome } from '../../doctor/probe';
import type { CheckReport, Diagnosis } from '../../doctor/report';
import { describeOwner, lookupAddress, type SwarmSnapshot } from '../../swarm/snapshot';
import type { CellView, ChecksView, DestinationView, DiagnosisView, EvidenceLink, FindingView, MatrixView, SourceView } from '../../webview/doctor/protocol';

export interface EvidenceRegistry {
  /** The link for a piece of evidence (the same object gives the same key). */
  link(evidence: Evidence): EvidenceLink;
}

/** Keys for evidence, kept until the report is closed. */
export class EvidenceKeys implements EvidenceRegistry {
  private readonly keys = new Map<Evidence, string>();
  private readonly byKey = new Map<string, Evidence>();

  constructor(private readonly prefix: string) {}

  link(evidence: Evidence): EvidenceLink {
    let key = this.keys.get(evidence);
    if (!key) {
      key = `${this.prefix}e${this.keys.size + 1}`;
      this.keys.set(evidence, key);
      this.byKey.set(key, evidence);
    }
    return { key, kind: evidence.kind, title: evidence.title, where: evidence.kind === 'note' ? undefined : evidence.where };
  }

  get(key: string): Evidence | undefined {
    return this.byKey.get(key);
  }

  clear(): void {
    this.keys.clear();
    this.byKey.clear();
  }
}

/** One row per probing task: a node can probe from several (one per service on the network). */
const sourceKey = (source: MatrixSource): string => `${source.node}/${source.label}`;
const destinationKey = (destination: MatrixDestination): string => `${destination.kind}:${destination.label}:${destination.port}`;
export const cellKey = (matrixId: string, source: MatrixSource, destination: MatrixDestination): string => `${matrixId}|${sourceKey(source)}|${destinationKey(destination)}`;

export function sourceView(source: MatrixSource): SourceView {
  return { key: sourceKey(source), node: source.node, label: source.label, service: source.service, address: source.address, problem: source.problem };
}

export function destinationView(destination: MatrixDestination): DestinationView {
  return { key: destinationKey(destination), kind: destination.kind, label: destination.label, address: destination.address, name: destination.name, node: destination.node, port: destination.port };
}

function formatMs(ms: number): string {
  return ms < 1 ? `${ms.toFixed(2)} ms` : ms < 10 ? `${ms.toFixed(1)} ms` : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Who owns an address in the swarm ("schemaregistry.1 on swarm00"), for the facts of a cell. */
export type AddressNamer = (address: string) => string | undefined;

export function addressNamer(snapshot: SwarmSnapshot): AddressNamer {
  return (address) => {
    const owner = lookupAddress(snapshot, address);
    return owner ? describeOwner(owner) : undefined;
  };
}

/** "10.0.1.2:8081" → "10.0.1.2:8081 (schemaregistry.1 on swarm00)" when the swarm knows the address. */
function named(endpoint: string, nameOf?: AddressNamer): string {
  const address = /^(.*?)(?::\d+)?$/.exec(endpoint)?.[1] ?? endpoint;
  const name = nameOf?.(address);
  return name ? `${endpoint} (${name})` : endpoint;
}

function outcomeFacts(outcome: ProbeOutcome | undefined, nameOf?: AddressNamer): [string, string][] {
  if (!outcome) return [];
  const facts: [string, string][] = [];
  if (outcome.address) facts.push(['Address dialled', named(`${outcome.address}:${outcome.port}`, nameOf)]);
  facts.push(['SYNs sent', String(outcome.synCount)]);
  if (outcome.connectMs !== undefined) facts.push(['SYN → SYN-ACK', formatMs(outcome.connectMs)]);
  if (outcome.rstFrom) facts.push(['RST from', named(outcome.rstFrom, nameOf)]);
  if (outcome.icmpFrom || outcome.icmpText) facts.push(['ICMP', `${outcome.icmpText ?? ''}${outcome.icmpFrom ? ` from ${named(outcome.icmpFrom, nameOf)}` : ''}`.trim()]);
  if (outcome.dialer) facts.push(['nc said', outcome.dialer]);
  if (outcome.withoutTrace) facts.push(['Packet trace', 'none: tcpdump could not watch, judged from nc alone']);
  return facts;
}

/** Why a cell cannot be diagnosed (the diagnosis needs a client task), or undefined. */
export function diagnoseBlocked(source: MatrixSource): string | undefined {
  if (!source.target) return `Nothing probed from ${source.node}${source.problem ? `: ${source.problem}` : ''}.`;
  if (source.target.ns !== 'sandbox') return `On ${source.node} the probe ran from a short-lived probe task of ours, not from a task of a service: run the matrix with a client service to diagnose from a real task.`;
  return undefined;
}

export function cellView(matrixId: string, cell: MatrixCell, evidence: EvidenceRegistry, nameOf?: AddressNamer): CellView {
  const facts = outcomeFacts(cell.outcome, nameOf);
  if (cell.source.problem) facts.unshift(['Source', cell.source.problem]);
  return {
    key: cellKey(matrixId, cell.source, cell.destination),
    source: sourceKey(cell.source),
    destination: destinationKey(cell.destination),
    state: cell.state,
    failing: FAILING_STATES.has(cell.state),
    summary: cell.summary,
    durationMs: cell.durationMs,
    facts,
    trace: cell.outcome?.trace ?? [],
    evidence: cell.evidence.map((e) => evidence.link(e)),
    diagnoseBlocked: diagnoseBlocked(cell.source),
  };
}

export function matrixView(matrixId: string, matrix: Matrix, evidence: EvidenceRegistry, nameOf?: AddressNamer): MatrixView {
  return {
    id: matrixId,
    service: matrix.service,
    network: matrix.network,
    ports: matrix.ports,
    sources: matrix.sources.map(sourceView),
    destinations: matrix.destinations.map(destinationView),
    cells: matrix.cells.map((c) => cellView(matrixId, c, evidence, nameOf)),
    notes: matrix.notes,
    complete: true,
    startedAt: matrix.startedAt,
    durationMs: matrix.durationMs,
  };
}

/**
 * The table the matrix will fill, before any probe answered: the same plan runMatrix makes, every
 * cell pending. Undefined when the request cannot be planned (runMatrix then says why).
 */
export function plannedMatrixView(matrixId: string, snapshot: SwarmSnapshot, request: MatrixRequest): MatrixView | undefined {
  let plan: MatrixPlan;
  try {
    plan = planMatrix(snapshot, request);
  } catch {
    return undefined;
  }
  const { service, network, ports, sources, destinations, notes } = plan;
  const cells: CellView[] = sources.flatMap((source) =>
    destinations.map(
      (destination): CellView => ({
        key: cellKey(matrixId, source, destination),
        source: sourceKey(source),
        destination: destinationKey(destination),
        state: 'pending',
        failing: false,
        summary: source.target ? 'probing…' : `not run: ${source.problem}`,
        durationMs: 0,
        facts: [],
        trace: [],
        evidence: [],
        diagnoseBlocked: diagnoseBlocked(source),
      }),
    ),
  );
  return { id: matrixId, service: service.name, network: network.name, ports, sources: sources.map(sourceView), destinations: destinations.map(destinationView), cells, notes, complete: false };
}

function findingView(key: string, finding: Finding, evidence: EvidenceRegistry): FindingView {
  return { key, check: finding.check, severity: finding.severity, title: finding.title, nodes: finding.nodes, explanation: finding.explanation, fix: finding.fix, evidence: finding.evidence.map((e) => evidence.link(e)) };
}

export function checksView(report: CheckReport, evidence: EvidenceRegistry, nameOf?: AddressNamer): ChecksView {
  return {
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    findings: report.findings.map((f, i) => findingView(`f${i}`, f, evidence)),
    matrices: report.matrices.map((m, i) => matrixView(`m${i}`, m, evidence, nameOf)),
    checks: report.checks,
  };
}

export function diagnosisView(diagnosis: Diagnosis, evidence: EvidenceRegistry): DiagnosisView {
  return {
    startedAt: diagnosis.startedAt,
    durationMs: diagnosis.durationMs,
    client: diagnosis.client,
    server: diagnosis.server,
    port: diagnosis.port,
    probe: diagnosis.probe ? { state: diagnosis.probe.state, summary: diagnosis.probe.summary, trace: diagnosis.probe.trace } : undefined,
    headline: diagnosis.headline,
    faultNode: diagnosis.faultNode,
    faultHop: diagnosis.faultHop,
    steps: diagnosis.steps.map((s) => ({ title: s.title, verdict: s.verdict, text: s.text, evidence: s.evidence.map((e) => evidence.link(e)) })),
    advice: diagnosis.advice,
    findings: diagnosis.findings.map((f, i) => findingView(`d${i}`, f, evidence)),
    evidence: diagnosis.evidence.map((e) => evidence.link(e)),
  };
}

/** "8081", "8081, 9092" or "8081 9092" → ports; a sentence when it is not that. */
export function parsePorts(text: string): { ports: number[] } | { error: string } {
  const words = text.split(/[\s,]+/).filter(Boolean);
  if (!words.length) return { error: 'Type at least one TCP port, e.g. 8081 (several: 8081, 9092).' };
  const ports: number[] = [];
  for (const word of words) {
    if (!/^\d{1,5}$/.test(word) || Number(word) < 1 || Number(word) > 65535) return { error: `"${word}" is not a TCP port (1 to 65535).` };
    if (!ports.includes(Number(word))) ports.push(Number(word));
  }
  if (ports.length > 16) return { error: 'At most 16 ports at once.' };
  return { ports };
}
