// Typed access to the swarmDoctor.* settings.
import * as vscode from 'vscode';
import { DEFAULT_HELPER_IMAGE, DEFAULT_NETNS_FOLDER } from '../netns/format';
import type { LocalNode } from '../netns/localTransport';

export const SECTION = 'swarmDoctor';

export interface Settings {
  context: string;
  host: string;
  timeoutMs: number;
  pollMs: number;
  debounceMs: number;
  helperImage: string;
  nodeEndpoints: Record<string, string>;
  netnsFolder: string;
  transport: 'auto' | 'direct' | 'manager' | 'local';
  commandTimeoutMs: number;
  localNodes: Record<string, LocalNode>;
}

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration(SECTION);
  return {
    context: config.get<string>('context', '').trim(),
    host: config.get<string>('host', '').trim(),
    timeoutMs: Math.max(1, config.get<number>('timeoutSeconds', 15)) * 1000,
    pollMs: Math.max(2, config.get<number>('refresh.pollSeconds', 15)) * 1000,
    debounceMs: Math.max(0, config.get<number>('refresh.debounceMilliseconds', 500)),
    helperImage: config.get<string>('helperImage', DEFAULT_HELPER_IMAGE).trim() || DEFAULT_HELPER_IMAGE,
    nodeEndpoints: { ...config.get<Record<string, string>>('nodeEndpoints', {}) },
    netnsFolder: config.get<string>('netnsFolder', DEFAULT_NETNS_FOLDER).trim() || DEFAULT_NETNS_FOLDER,
    transport: config.get<Settings['transport']>('transport', 'auto'),
    commandTimeoutMs: Math.max(1, config.get<number>('commandTimeoutSeconds', 30)) * 1000,
    localNodes: { ...config.get<Record<string, LocalNode>>('localNodes', {}) },
  };
}

/** UDP ports besides 4789 whose payload the packet viewer decodes as VXLAN (a swarm's --data-path-port). */
export function captureVxlanPorts(): number[] {
  const ports = vscode.workspace.getConfiguration(SECTION).get<unknown[]>('capture.vxlanPorts', []);
  return Array.isArray(ports) ? ports.map(Number).filter((p) => Number.isInteger(p) && p > 0 && p < 65536) : [];
}

export function affectsCommands(event: vscode.ConfigurationChangeEvent): boolean {
  return ['helperImage', 'nodeEndpoints', 'netnsFolder', 'transport', 'commandTimeoutSeconds', 'localNodes'].some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}

export function affectsConnection(event: vscode.ConfigurationChangeEvent): boolean {
  return ['context', 'host', 'timeoutSeconds', 'refresh'].some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}
