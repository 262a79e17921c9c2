// The Captures view and the status bar item: running captures with their counters and a stop
// button; finished ones with their files.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatBytes, formatElapsed, type CaptureManager } from '../../recorder/captureManager';
import type { CaptureStatus } from '../../recorder/captureSession';
import { describeTarget } from '../../netns/target';

const STATE_ICON: Record<CaptureStatus['state'], [string, string | undefined]> = {
  checking: ['loading~spin', undefined],
  running: ['record', 'testing.iconFailed'],
  completed: ['pass', 'testing.iconPassed'],
  stopped: ['debug-stop', undefined],
  failed: ['error', 'problemsErrorIcon.foreground'],
};

export class CapturesView implements vscode.TreeDataProvider<CaptureStatus>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<CaptureStatus | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly statusBar = vscode.window.createStatusBarItem('swarmDoctor.captures', vscode.StatusBarAlignment.Left, 50);
  private readonly subscription: { dispose(): void };
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly captures: CaptureManager) {
    this.statusBar.name = 'Swarm Doctor captures';
    this.statusBar.command = 'swarmDoctor.captures.focus';
    this.subscription = captures.onDidChange(() => this.refresh());
    // Elapsed time moves even when no packet arrives.
    this.ticker = setInterval(() => captures.running.length && this.refresh(), 1000);
    this.refresh();
  }

  private refresh(): void {
    this.changed.fire(undefined);
    const running = this.captures.running;
    if (!running.length) {
      this.statusBar.hide();
      return;
    }
    const packets = running.reduce((n, c) => n + c.packets, 0);
    this.statusBar.text = `$(record) ${running.length} capture${running.length > 1 ? 's' : ''} · ${packets} pkts`;
    this.statusBar.tooltip = running.map((c) => `${describeTarget(c.target)}: ${c.packets} packets, ${formatBytes(c.bytes)}`).join('\n');
    this.statusBar.show();
  }

  getTreeItem(status: CaptureStatus): vscode.TreeItem {
    const target = status.target;
    const what = target.ns === 'sandbox' ? target.task.name : target.ns === 'lb' || target.ns === 'overlay' ? `${target.ns} ${target.network.name}` : target.ns;
    const item = new vscode.TreeItem(what, vscode.TreeItemCollapsibleState.None);
    item.id = status.id;
    const elapsed = formatElapsed((status.endedAt ?? new Date()).getTime() - status.startedAt.getTime());
    item.description = `${target.node.hostname} · ${status.state} · ${status.packets} pkts · ${formatBytes(status.bytes)} · ${elapsed}${status.transport ? ` · ${status.transport}` : ''}${status.group ? ` · ${status.group}` : ''}`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown(`**${describeTarget(status.target)}**\n\n`);
    tooltip.appendText(`File: ${status.file}\nInterface: ${status.interface}\nFilter: ${status.filter || '(none)'}\nStarted: ${status.startedAt.toISOString()}\n`);
    if (status.verified !== undefined) tooltip.appendText(`SHA-256 against the node: ${status.verified ? 'equal' : 'DIFFERENT'}\n`);
    if (status.message) tooltip.appendText(`\n${status.message}`);
    item.tooltip = tooltip;
    const [icon, color] = STATE_ICON[status.state];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = `kind:capture state:${status.state}${status.state === 'running' || status.state === 'checking' ? ' running' : ' finished'}${status.bytes > 0 ? ' hasFile' : ''}`;
    item.resourceUri = vscode.Uri.file(status.file);
    if (status.bytes > 0) item.command = { command: 'swarmDoctor.openCapture', title: 'Open', arguments: [status] };
    if (status.state === 'failed' && status.message) item.description = `${target.node.hostname} · failed · ${status.message}`;
    return item;
  }

  getChildren(status?: CaptureStatus): CaptureStatus[] {
    return status ? [] : [...this.captures.all];
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.subscription.dispose();
    this.statusBar.dispose();
    this.changed.dispose();
  }
}

export function captureFileLabel(status: CaptureStatus): string {
  return path.basename(status.file);
}
