// Typed access to the swarmDoctor.* settings.
import * as vscode from 'vscode';

export const SECTION = 'swarmDoctor';

export interface Settings {
  context: string;
  host: string;
  timeoutMs: number;
  pollMs: number;
  debounceMs: number;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration(SECTION);
  return {
    context: config.get<string>('context', '').trim(),
    host: config.get<string>('host', '').trim(),
    timeoutMs: Math.max(1, config.get<number>('timeoutSeconds', 15)) * 1000,
    pollMs: Math.max(2, config.get<number>('refresh.pollSeconds', 15)) * 1000,
    debounceMs: Math.max(0, config.get<number>('refresh.debounceMilliseconds', 500)),
  };
}

export function affectsConnection(event: vscode.ConfigurationChangeEvent): boolean {
  return ['context', 'host', 'timeoutSeconds', 'refresh'].some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}
