// One provider per view (Nodes, Services, Networks); it only turns the explorer's TreeEntries into
// TreeItems and fires changes for the roots whose content changed, so expansion and scroll stay put.
import * as vscode from 'vscode';
import type { SwarmStore, StoreState } from '../../explorer/swarmStore';
import { errorEntries, expandAll, rootEntries, type IconColor, type TreeEntry, type ViewKind } from '../../explorer/treeModel';

const COLORS: Record<IconColor, string> = {
  ok: 'testing.iconPassed',
  warning: 'problemsWarningIcon.foreground',
  error: 'problemsErrorIcon.foreground',
  muted: 'disabledForeground',
  info: 'charts.blue',
};

const COLLAPSIBLE = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
} as const;

function fingerprint(entry: TreeEntry): string {
  const parts: string[] = [];
  expandAll([entry], (e) => parts.push(`${e.id}|${e.label}|${e.description ?? ''}|${e.icon.id}|${e.icon.color ?? ''}|${e.contextValue}`));
  return parts.join('\n');
}

export class SwarmTreeProvider implements vscode.TreeDataProvider<TreeEntry>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeEntry | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: TreeEntry[] = [];
  private prints = new Map<string, string>();
  private readonly subscription: { dispose(): void };

  constructor(private readonly store: SwarmStore, private readonly view: ViewKind) {
    this.roots = this.build(store.state);
    this.subscription = store.onDidChange((state) => this.update(state));
  }

  private build(state: StoreState): TreeEntry[] {
    switch (state.kind) {
      case 'ready':
        return rootEntries(state.snapshot, this.view);
      case 'failed':
        return errorEntries(state.error, this.store.endpointText, this.view);
      case 'connecting':
        return [
          {
            id: `${this.view}/connecting`,
            label: `Connecting to ${this.store.endpointText ?? 'the Docker engine'}…`,
            icon: { id: 'loading~spin' },
            contextValue: 'kind:connecting',
            collapsible: 'none',
          },
        ];
    }
  }

  private update(state: StoreState): void {
    const roots = this.build(state);
    const prints = new Map(roots.map((r) => [r.id, fingerprint(r)]));
    const sameShape = roots.length === this.roots.length && roots.every((r, i) => r.id === this.roots[i].id);
    const changedRoots = roots.filter((r) => this.prints.get(r.id) !== prints.get(r.id));
    this.roots = roots;
    this.prints = prints;
    if (!sameShape) this.changed.fire(undefined);
    else for (const root of changedRoots) this.changed.fire(root);
  }

  getTreeItem(entry: TreeEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(entry.label, COLLAPSIBLE[entry.collapsible]);
    item.id = entry.id;
    item.description = entry.description;
    item.iconPath = new vscode.ThemeIcon(entry.icon.id, entry.icon.color ? new vscode.ThemeColor(COLORS[entry.icon.color]) : undefined);
    item.contextValue = entry.contextValue;
    if (entry.command) item.command = { command: entry.command.id, title: entry.command.title, arguments: entry.command.args };
    return item;
  }

  resolveTreeItem(item: vscode.TreeItem, entry: TreeEntry): vscode.TreeItem {
    if (entry.tooltip) item.tooltip = new vscode.MarkdownString(entry.tooltip());
    return item;
  }

  getChildren(entry?: TreeEntry): TreeEntry[] {
    // Never throws: failures are already entries (see errorEntries).
    if (!entry) return this.roots;
    try {
      return entry.children?.() ?? [];
    } catch (error) {
      return [{ id: `${entry.id}/error`, label: `Cannot show this: ${(error as Error).message}`, icon: { id: 'error', color: 'error' }, contextValue: 'kind:error', collapsible: 'none' }];
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
