// The header above a command's output: where and how it ran, its exit status and duration.
import type { CommandResult } from './runner';
import { describeTarget } from './target';

export const DEFAULT_HELPER_IMAGE = 'nicolaka/netshoot';
export const DEFAULT_NETNS_FOLDER = '/var/run/docker/netns';

export { displayArgv } from './command';

export function formatHeader(result: CommandResult): string {
  const lines = [
    `# where:    ${describeTarget(result.target)}`,
    `# command:  ${result.command.title}`,
    `# via:      ${result.transport}: ${result.how}`,
    `# exit:     ${result.exitCode}${result.exitCode === 0 ? ' (ok)' : ' (failed)'}    took ${(result.durationMs / 1000).toFixed(2)} s    at ${result.startedAt.toISOString()}`,
  ];
  if (result.explanation) lines.push(`# note:     ${result.explanation}`);
  return lines.join('\n') + '\n';
}

/** Header, stdout, then stderr under its own heading (never dropped). */
export function formatResult(result: CommandResult): string {
  let text = formatHeader(result) + '\n' + result.stdout;
  if (result.stdout && !result.stdout.endsWith('\n')) text += '\n';
  if (result.stderr.trim()) text += `\n# ---- stderr ----\n${result.stderr}${result.stderr.endsWith('\n') ? '' : '\n'}`;
  if (!result.stdout && !result.stderr.trim()) text += '# (no output)\n';
  return text;
}
