// Messages between the doctor's report webview (matrix, checks, diagnosis) and the extension host,
// typed both ways. Views are plain data made for display: the evidence itself (command output,
// capture paths) stays in the host, the webview only names it by key. The core's types come in
// as types only (erased from the browser bundle), from modules that import nothing node-only.
import type { Evidence, Finding, Severity } from '../../doctor/findings';
import type { ProbeState } from '../../doctor/probe';

export type { Severity };

export type CellState = ProbeState | 'not-run' | 'pending';

/** A piece of evidence the user can open; the host keeps the content. */
export interface EvidenceLink {
  key: string;
  kind: Evidence['kind'];
  title: string;
  where?: string;
}

export interface SourceView {
  /** Node and probing task: a node can probe from several tasks (one per service). */
  key: string;
  node: string;
  /** The probing task, "probe task", or "—" when the node cannot probe. */
  label: string;
  service?: string;
  address?: string;
  problem?: string;
}

export interface DestinationView {
  key: string;
  kind: 'task' | 'vip' | 'name';
  label: string;
  address?: string;
  name?: string;
  node?: string;
  port: number;
}

export interface CellView {
  key: string;
  source: string;
  destination: string;
  state: CellState;
  failing: boolean;
  summary: string;
  durationMs: number;
  /** What the probe saw, as label/value pairs (address, SYNs sent, RST from...). */
  facts: [string, string][];
  /** The packets tcpdump printed during the probe. */
  trace: string[];
  evidence: EvidenceLink[];
  /** Why "Diagnose this connection" cannot run from this cell; undefined when it can. */
  diagnoseBlocked?: string;
}

export interface MatrixView {
  /** Unique within the page (a checks report holds several matrices). */
  id: string;
  service: string;
  network: string;
  ports: number[];
  sources: SourceView[];
  destinations: DestinationView[];
  /** Failing first (as the core sorts them) once complete. */
  cells: CellView[];
  notes: string[];
  complete: boolean;
  startedAt?: string;
  durationMs?: number;
}

/** A finding as the webview shows it: its evidence named by key. */
export interface FindingView extends Omit<Finding, 'evidence'> {
  key: string;
  evidence: EvidenceLink[];
}

export interface ChecksView {
  startedAt: string;
  durationMs: number;
  findings: FindingView[];
  matrices: MatrixView[];
  checks: { name: string; durationMs: number }[];
}

export interface DiagnosisEndView {
  role: 'client' | 'server';
  task: string;
  service: string;
  node: string;
  address: string;
}

export interface DiagnosisView {
  startedAt: string;
  durationMs: number;
  client: DiagnosisEndView;
  server: DiagnosisEndView;
  port: number;
  probe?: { state: CellState; summary: string; trace: string[] };
  headline: string;
  faultNode?: string;
  faultHop?: string;
  steps: { title: string; verdict: 'ok' | 'fault' | 'info' | 'unknown'; text: string; evidence: EvidenceLink[] }[];
  advice: string[];
  findings: FindingView[];
  evidence: EvidenceLink[];
}

export type ReportView =
  | { kind: 'matrix'; matrix?: MatrixView; request: { service: string; ports?: number[]; clientService?: string } }
  | { kind: 'checks'; report?: ChecksView }
  | { kind: 'diagnosis'; diagnosis?: DiagnosisView; request: { client: string; server: string; port: number } };

export interface RunStatus {
  state: 'running' | 'done' | 'failed' | 'cancelled';
  /** The latest progress messages, oldest first. */
  progress: string[];
  error?: string;
}

export type HostToDoctor =
  /** The whole page: on "ready", when a run starts and when it ends. */
  | { type: 'show'; title: string; report: ReportView; status: RunStatus }
  /** One matrix cell as it arrives (with its row and column, which may be new). */
  | { type: 'cell'; matrix: string; cell: CellView; source: SourceView; destination: DestinationView }
  | { type: 'status'; status: RunStatus };

export type DoctorToHost =
  | { type: 'ready' }
  | { type: 'openEvidence'; key: string }
  | { type: 'diagnose'; cell: string }
  | { type: 'cancel' }
  | { type: 'rerun' };
