// The doctor's results as terminal text (swarm-doctor check / matrix / diagnose).
import type { Finding } from './findings';
import { FAILING_STATES, type Matrix } from './matrix';
import type { CheckReport, Diagnosis } from './report';

const LABEL: Record<Finding['severity'], string> = { error: 'ERROR', warning: 'WARNING', unavailable: 'N/A', info: 'INFO', ok: 'OK' };

function wrap(text: string, indent: string, width = 100): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && line.length + word.length + 1 > width - indent.length) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

export function formatFinding(finding: Finding, options: { details?: boolean } = {}): string {
  const head = `${LABEL[finding.severity].padEnd(8)} ${finding.check.padEnd(14)} ${finding.title}`;
  if (options.details === false) return head;
  const body = [
    finding.nodes.length ? `${' '.repeat(9)}nodes: ${finding.nodes.join(', ')}` : '',
    wrap(finding.explanation, ' '.repeat(9)),
    finding.fix ? wrap(`fix: ${finding.fix}`, ' '.repeat(9)) : '',
    finding.evidence.length ? `${' '.repeat(9)}evidence: ${finding.evidence.map((e) => e.title).join('; ')}` : '',
  ].filter(Boolean);
  return [head, ...body].join('\n');
}

export function formatCheckReport(report: CheckReport, options: { verbose?: boolean } = {}): string {
  const count = (s: Finding['severity']) => report.findings.filter((f) => f.severity === s).length;
  const lines = [`swarm-doctor check: ${count('error')} error(s), ${count('warning')} warning(s), ${count('unavailable')} not available, ${count('ok')} ok — ${(report.durationMs / 1000).toFixed(1)} s`, ''];
  for (const finding of report.findings) {
    const details = finding.severity === 'error' || finding.severity === 'warning' || finding.severity === 'unavailable' || options.verbose;
    lines.push(formatFinding(finding, { details }), ...(details ? [''] : []));
  }
  for (const matrix of report.matrices) lines.push('', formatMatrix(matrix));
  if (options.verbose) {
    for (const finding of report.findings.filter((f) => f.severity === 'error')) {
      for (const e of finding.evidence) {
        if (e.kind === 'command') lines.push('', `==== ${e.title}`, `# where: ${e.where}`, `# command: ${e.command}`, e.text.trimEnd());
      }
    }
  }
  return lines.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}

const SHORT: Record<string, string> = { connected: 'ok', refused: 'REFUSED', timeout: 'TIMEOUT', unreachable: 'UNREACH', 'lookup-failed': 'NO-DNS', error: 'ERROR', 'not-run': '-' };

export function formatMatrix(matrix: Matrix): string {
  const columns = matrix.destinations.map((d) => `${d.label}${d.node ? `@${d.node}` : ''}:${d.port}`);
  const rows = matrix.sources.map((source) => {
    const cells = matrix.destinations.map((d) => {
      const cell = matrix.cells.find((c) => c.source === source && c.destination === d);
      if (!cell) return '';
      return cell.state === 'connected' && cell.outcome?.connectMs !== undefined ? `ok ${cell.outcome.connectMs.toFixed(2)}ms` : SHORT[cell.state] ?? cell.state;
    });
    return [`${source.node} (${source.label})`, ...cells];
  });
  const widths = ['from'.length, ...columns.map((c) => c.length)].map((w, i) => Math.max(w, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const failing = matrix.cells.filter((c) => FAILING_STATES.has(c.state));
  return [
    `matrix: ${matrix.service} on ${matrix.network}, port${matrix.ports.length > 1 ? 's' : ''} ${matrix.ports.join(', ')} — ${failing.length} of ${matrix.cells.length} cells failing (${(matrix.durationMs / 1000).toFixed(1)} s)`,
    ...failing.map((c) => `  FAIL  ${c.source.node} (${c.source.label}) → ${c.destination.label}${c.destination.node ? ` on ${c.destination.node}` : ''}:${c.destination.port}: ${c.summary}`),
    '',
    line(['from', ...columns]),
    ...rows.map(line),
    ...matrix.notes.map((n) => `note: ${n}`),
  ].join('\n');
}

export function formatDiagnosis(d: Diagnosis): string {
  const verdict: Record<string, string> = { ok: 'ok   ', fault: 'FAULT', info: 'info ', unknown: '?    ' };
  const lines = [
    `diagnose: ${d.client.task} (${d.client.node}, ${d.client.address}) → ${d.server.task} (${d.server.node}, ${d.server.address}) port ${d.port}`,
    '',
    wrap(d.headline, ''),
    d.faultNode ? `fault: node ${d.faultNode}${d.faultHop ? `, hop: ${d.faultHop}` : ''}` : '',
    '',
    ...d.steps.flatMap((s) => [`${verdict[s.verdict]}  ${s.title}`, wrap(s.text, ' '.repeat(7))]),
    '',
    ...(d.advice.length ? ['what to do:', ...d.advice.map((a, i) => wrap(`${i + 1}. ${a}`, '  '))] : []),
    '',
    'evidence:',
    ...d.evidence.map((e) => `  - ${e.title}${e.kind === 'capture' ? `: ${e.path}` : e.kind === 'command' ? ` (${e.where})` : ''}`),
  ];
  return lines.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}
