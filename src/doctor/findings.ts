// What the doctor reports: findings with a severity, the nodes concerned, the evidence behind
// them and what to do. Plain data, so the CLI prints it, the webviews render it and tests read it.

export type Severity = 'error' | 'warning' | 'info' | 'ok' | 'unavailable';

/** One piece of evidence a user can open: a command's output or a capture file. */
export type Evidence =
  | {
      kind: 'command';
      title: string;
      /** Where it ran, e.g. "swarm00 / schemaregistry.1 / sandbox". */
      where: string;
      /** The command as a person would type it. */
      command: string;
      /** How it got there (transport), when known. */
      how?: string;
      exitCode?: number;
      text: string;
    }
  | { kind: 'capture'; title: string; where: string; path: string; packets?: number }
  | { kind: 'note'; title: string; text: string };

export interface Finding {
  /** Which check produced it, e.g. "membership", "node-ports", "firewall". */
  check: string;
  severity: Severity;
  /** One line, e.g. "swarm02 → swarm00: udp/4789 (VXLAN data path) does not arrive". */
  title: string;
  /** Node hostnames concerned, the faulty one first where known. */
  nodes: string[];
  /** Why it matters, in plain words. */
  explanation: string;
  /** The usual fix. */
  fix?: string;
  evidence: Evidence[];
}

export const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, unavailable: 2, info: 3, ok: 4 };

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.check.localeCompare(b.check) || a.title.localeCompare(b.title));
}

/** The CLI's exit status: non-zero when any finding is an error. */
export function exitStatusFor(findings: readonly Finding[]): number {
  return findings.some((f) => f.severity === 'error') ? 1 : 0;
}

export function commandEvidence(result: { target: unknown; command: { title: string; argv: string[] }; how: string; exitCode: number; stdout: string; stderr: string }, where: string, title?: string, displayCommand?: string): Evidence {
  const text = result.stderr.trim() ? `${result.stdout}${result.stdout.endsWith('\n') || !result.stdout ? '' : '\n'}# ---- stderr ----\n${result.stderr}` : result.stdout;
  return { kind: 'command', title: title ?? result.command.title, where, command: displayCommand ?? result.command.title, how: result.how, exitCode: result.exitCode, text };
}
