import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TreeEntry } from '../../explorer/treeModel';
import { sandboxTarget, type Target } from '../../netns/target';
import type { CaptureManager } from '../../recorder/captureManager';
import type { CaptureStatus } from '../../recorder/captureSession';
import type { CommandSession } from '../commandSession';
import { SECTION } from '../settings';
import { pickTarget } from './pickTarget';
import { addressNames } from '../../swarm/snapshot';

const RECENT_FILTERS = 'swarmDoctor.recentFilters';

interface StopChoice extends vscode.QuickPickItem {
  count?: number;
  durationSeconds?: number;
  maxBytes: number;
}

function captureFolder(): string {
  const configured = vscode.workspace.getConfiguration(SECTION).get<string>('capture.folder', '').trim();
  if (configured) return configured.replace(/^~(?=$|\/)/, os.homedir());
  const workspace = vscode.workspace.workspaceFolders?.[0]?.uri;
  return workspace?.scheme === 'file' ? path.join(workspace.fsPath, '.swarm-doctor', 'captures') : path.join(os.homedir(), 'swarm-doctor-captures');
}

async function askFilter(memento: vscode.Memento, suggestion: string): Promise<string | undefined> {
  const recent = memento.get<string[]>(RECENT_FILTERS, []);
  const picks: vscode.QuickPickItem[] = [
    { label: '$(edit) New filter…', description: suggestion ? `e.g. ${suggestion}` : 'a tcpdump (BPF) expression' },
    { label: '$(circle-slash) No filter', description: 'every packet' },
    ...recent.map((f) => ({ label: f, description: 'recent' })),
  ];
  const pick = await vscode.window.showQuickPick(picks, { title: 'Capture filter (BPF, checked by tcpdump in the target before the capture starts)' });
  if (!pick) return undefined;
  let filter = pick.label;
  if (pick.label.startsWith('$(circle-slash)')) filter = '';
  if (pick.label.startsWith('$(edit)')) {
    const typed = await vscode.window.showInputBox({ title: 'Capture filter', value: suggestion, placeHolder: 'tcp port 8081 and host 10.0.1.5', prompt: 'Passed to tcpdump as one argument, never through a shell.' });
    if (typed === undefined) return undefined;
    filter = typed.trim();
  }
  if (filter) await memento.update(RECENT_FILTERS, [filter, ...recent.filter((f) => f !== filter)].slice(0, 10));
  return filter;
}

async function askStop(): Promise<StopChoice | undefined> {
  const mb = 1024 * 1024;
  return vscode.window.showQuickPick<StopChoice>(
    [
      { label: '1,000 packets or 60 s', count: 1000, durationSeconds: 60, maxBytes: 50 * mb },
      { label: '10,000 packets or 5 minutes', count: 10_000, durationSeconds: 300, maxBytes: 200 * mb },
      { label: 'Until I stop it', description: 'at most 1 hour or 500 MiB', durationSeconds: 3600, maxBytes: 500 * mb },
    ],
    { title: 'Stop the capture after' },
  );
}

/** swarmDoctor.capture: tcpdump in the entry's namespace, into a file, shown in the Captures view. */
export function startCapture(session: CommandSession, captures: CaptureManager, memento: vscode.Memento) {
  return async (entry?: TreeEntry): Promise<void> => {
    try {
      if (!entry?.ref) {
        void vscode.window.showInformationMessage('Pick a task, node or network in the Swarm Doctor views to capture there.');
        return;
      }
      const { runner, snapshot } = session.current();
      const target = await pickTarget(snapshot, entry);
      if (!target) return;
      const iface = await vscode.window.showInputBox({ title: 'Interface', value: 'any', prompt: '"any" captures every interface of the namespace (Linux cooked v2 frames).' });
      if (iface === undefined) return;
      const filter = await askFilter(memento, target.ns === 'sandbox' && target.task.addresses[0] ? `host ${target.task.addresses[0]}` : '');
      if (filter === undefined) return;
      const stop = await askStop();
      if (!stop) return;
      await launch(captures, runner, [{ target, filter }], { iface: iface.trim() || 'any', ...stop, names: addressNames(snapshot) });
    } catch (error) {
      void vscode.window.showErrorMessage((error as Error).message);
    }
  };
}

/** swarmDoctor.captureConversation: both ends of a conversation at once, two files kept together. */
export function captureConversation(session: CommandSession, captures: CaptureManager) {
  return async (entry?: TreeEntry, selection?: TreeEntry[]): Promise<void> => {
    try {
      const { runner, snapshot } = session.current();
      const running = snapshot.tasks.filter((t) => t.state === 'running' && t.containerId);
      const chosen = (selection?.length ? selection : entry ? [entry] : []).filter((e) => e.ref?.kind === 'task').map((e) => running.find((t) => t.id === e.ref!.id)).filter((t) => t !== undefined);
      const ends = chosen.slice(0, 2).map((t) => sandboxTarget(snapshot, t));
      while (ends.length < 2) {
        const taken = new Set(ends.map((t) => (t.ns === 'sandbox' ? t.task.id : '')));
        const pick = await vscode.window.showQuickPick(
          running.filter((t) => !taken.has(t.id)).map((t) => sandboxTarget(snapshot, t)).map((target) => ({ label: target.ns === 'sandbox' ? target.task.name : '', description: `on ${target.node.hostname} · ${target.ns === 'sandbox' ? target.task.addresses.join(', ') : ''}`, target })),
          { title: ends.length ? 'The other end of the conversation' : 'One end of the conversation' },
        );
        if (!pick) return;
        ends.push(pick.target);
      }
      const [a, b] = ends as [Extract<Target, { ns: 'sandbox' }>, Extract<Target, { ns: 'sandbox' }>];
      const pair = (x: typeof a) => x.task.addresses.map((addr) => `host ${addr}`).join(' or ');
      const filter = `(${pair(a)}) and (${pair(b)})`;
      const stop = await askStop();
      if (!stop) return;
      await launch(captures, runner, [{ target: a, filter }, { target: b, filter }], { iface: 'any', ...stop, group: `${a.task.name} ⇄ ${b.task.name}`, names: addressNames(snapshot) });
    } catch (error) {
      void vscode.window.showErrorMessage((error as Error).message);
    }
  };
}

async function launch(captures: CaptureManager, runner: Parameters<CaptureManager['start']>[0], ends: { target: Target; filter: string }[], stop: { iface: string; count?: number; durationSeconds?: number; maxBytes: number; group?: string; names?: ReadonlyMap<string, string> }): Promise<void> {
  const folder = captureFolder();
  for (const end of ends) {
    const { done } = captures.start(runner, { target: end.target, filter: end.filter, interface: stop.iface, count: stop.count, durationSeconds: stop.durationSeconds, maxBytes: stop.maxBytes, folder, group: stop.group, names: stop.names });
    void done.then((status) => {
      if (status.state === 'failed') void vscode.window.showErrorMessage(`Capture failed: ${status.message}`);
    });
  }
  await vscode.commands.executeCommand('swarmDoctor.captures.focus');
}

export function stopCapture(captures: CaptureManager) {
  return (status?: CaptureStatus, selection?: CaptureStatus[]) => {
    const targets = selection?.length ? selection : status ? [status] : captures.running;
    for (const s of targets) captures.stop(s.id);
  };
}

export async function openCapture(status?: CaptureStatus): Promise<void> {
  if (!status) return;
  // The packet viewer follows a capture that is still running.
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(status.file), 'swarmDoctor.packetViewer');
}

export async function revealCapture(status?: CaptureStatus): Promise<void> {
  if (status) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(status.file));
}
