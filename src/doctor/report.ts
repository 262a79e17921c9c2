// The doctor's results as plain data: what `swarm-doctor check` prints, the webviews render and
// the tests read.
import type { Evidence, Finding } from './findings';
import type { Matrix } from './matrix';
import type { ProbeOutcome } from './probe';
import type { CommandRunner } from '../netns/runner';
import type { SwarmSnapshot } from '../swarm/snapshot';

/** What every check gets: the swarm as the manager sees it and a way to run commands on nodes. */
export interface DoctorContext {
  snapshot: SwarmSnapshot;
  runner: CommandRunner;
  signal?: AbortSignal;
  /** Progress in words, e.g. "ports between nodes: listening on swarm01". */
  progress?: (message: string) => void;
  /** VXLAN data-path port of the swarm (docker swarm init --data-path-port); 4789 by default. */
  dataPathPort?: number;
}

export interface CheckReport {
  startedAt: string;
  durationMs: number;
  /** Sorted: errors first. */
  findings: Finding[];
  /** The connectivity matrices the run probed (services with TCP ports). */
  matrices: Matrix[];
  /** Checks that ran, with how long each took. */
  checks: { name: string; durationMs: number }[];
}

export interface DiagnosisEnd {
  role: 'client' | 'server';
  task: string;
  service: string;
  node: string;
  address: string;
}

export interface DiagnosisStep {
  /** e.g. "SYN left the client", "RST sent by the server task". */
  title: string;
  verdict: 'ok' | 'fault' | 'info' | 'unknown';
  text: string;
  evidence: Evidence[];
}

export interface Diagnosis {
  startedAt: string;
  durationMs: number;
  client: DiagnosisEnd;
  server: DiagnosisEnd;
  port: number;
  probe?: ProbeOutcome;
  /** One sentence: what happened and where. */
  headline: string;
  /** The node and hop at fault, when found. */
  faultNode?: string;
  faultHop?: string;
  steps: DiagnosisStep[];
  /** What to do, in order. */
  advice: string[];
  /** Rules whose counters moved, and other faults as findings. */
  findings: Finding[];
  /** Everything collected: both captures, firewall before/after, probe output. */
  evidence: Evidence[];
}
