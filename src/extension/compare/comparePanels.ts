// The same command's output from several places, side by side, lines that differ marked.
// The table is rendered here; the webview script only sends option changes and re-run requests.
import * as vscode from 'vscode';
import type { NetCommand } from '../../netns/command';
import { compareOutputs } from '../../netns/compare';
import type { CommandResult, CommandRunner } from '../../netns/runner';
import { describeTarget, type Target } from '../../netns/target';
import { webviewPage } from '../webviewPage';
import type { CompareToHost } from './messages';

interface Column {
  target: Target;
  result?: CommandResult;
  error?: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function columnLabel(target: Target): string {
  return target.ns === 'sandbox' ? `${target.task.name} (${target.node.hostname})` : target.node.hostname;
}

export function renderCompareTable(columns: Column[], options: { ignoreNumbers: boolean; onlyDifferences: boolean }): { html: string; differing: number; total: number } {
  const rows = compareOutputs(columns.map((c) => ({ label: columnLabel(c.target), text: c.result ? c.result.stdout + (c.result.stderr ? `\n${c.result.stderr}` : '') : '' })), { ignoreNumbers: options.ignoreNumbers });
  const differing = rows.filter((r) => r.differs).length;
  const head = columns
    .map((c) => {
      const status = c.error ? `<span class="bad">${escapeHtml(c.error)}</span>` : c.result ? `exit ${c.result.exitCode} · ${(c.result.durationMs / 1000).toFixed(2)} s · ${escapeHtml(c.result.transport)}` : '';
      return `<th><div class="where">${escapeHtml(columnLabel(c.target))}</div><div class="status">${status}</div></th>`;
    })
    .join('');
  const body = rows
    .filter((r) => !options.onlyDifferences || r.differs)
    .map((r) => `<tr class="${r.missing ? 'differs missing-row' : r.differs ? 'differs changed' : 'same'}">${r.cells.map((cell) => `<td class="${cell === undefined ? 'missing' : ''}">${cell === undefined ? '' : escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  return { html: `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`, differing, total: rows.length };
}

export class ComparePanels implements vscode.Disposable {
  private readonly panels = new Set<vscode.WebviewPanel>();

  constructor(private readonly extensionUri: vscode.Uri) {}

  async run(runner: CommandRunner, targets: Target[], command: NetCommand): Promise<void> {
    const columns = await this.collect(runner, targets, command);
    if (!columns) return;
    const media = vscode.Uri.joinPath(this.extensionUri, 'media', 'compare');
    const panel = vscode.window.createWebviewPanel('swarmDoctor.compare', `${command.title} · ${targets.length} places`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [media],
    });
    this.panels.add(panel);
    let state = { ignoreNumbers: false, onlyDifferences: false };
    let current = columns;
    const render = () => {
      panel.webview.html = this.html(panel.webview, media, command, current, state);
    };
    panel.onDidDispose(() => this.panels.delete(panel));
    panel.webview.onDidReceiveMessage(async (message: CompareToHost) => {
      switch (message.type) {
        case 'options':
          state = { ignoreNumbers: message.ignoreNumbers === true, onlyDifferences: message.onlyDifferences === true };
          render();
          break;
        case 'rerun': {
          const again = await this.collect(runner, targets, command);
          if (again) {
            current = again;
            render();
          }
          break;
        }
        case 'ready':
          break;
      }
    });
    render();
  }

  private collect(runner: CommandRunner, targets: Target[], command: NetCommand): Thenable<Column[] | undefined> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `${command.title} in ${targets.length} places`, cancellable: true },
      async (_progress, token) => {
        const abort = new AbortController();
        const subscription = token.onCancellationRequested(() => abort.abort());
        try {
          const settled = await runner.runEach(targets, command, { signal: abort.signal });
          if (abort.signal.aborted) return undefined;
          return settled.map((s, i): Column => (s.status === 'fulfilled' ? { target: targets[i], result: s.value } : { target: targets[i], error: (s.reason as Error).message }));
        } finally {
          subscription.dispose();
        }
      },
    );
  }

  private html(webview: vscode.Webview, media: vscode.Uri, command: NetCommand, columns: Column[], state: { ignoreNumbers: boolean; onlyDifferences: boolean }): string {
    const { html, differing, total } = renderCompareTable(columns, state);
    const where = columns.map((c) => describeTarget(c.target)).join(' · ');
    return webviewPage(webview, {
      title: escapeHtml(command.title),
      style: vscode.Uri.joinPath(media, 'compare.css'),
      script: vscode.Uri.joinPath(media, 'compare.js'),
      body: `<header>
  <h1>${escapeHtml(command.title)}</h1>
  <p class="summary">${differing === 0 ? 'Identical everywhere' : `${differing} of ${total} lines differ`} <span class="where">${escapeHtml(where)}</span></p>
  <div class="controls">
    <label><input type="checkbox" id="onlyDifferences" ${state.onlyDifferences ? 'checked' : ''}> Only lines that differ</label>
    <label><input type="checkbox" id="ignoreNumbers" ${state.ignoreNumbers ? 'checked' : ''}> Ignore numbers (counters, timers)</label>
    <button id="rerun" type="button">Re-run</button>
  </div>
</header>
<main>${html}</main>`,
    });
  }

  dispose(): void {
    for (const panel of this.panels) panel.dispose();
  }
}
