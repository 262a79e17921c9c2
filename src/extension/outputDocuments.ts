// Read-only editors holding a command's output, titled node / task / namespace / command, with a
// header saying where and how it ran. "Re-run" runs it again in place.
import * as vscode from 'vscode';
import type { NetCommand } from '../netns/command';
import { formatResult } from '../netns/format';
import type { CommandResult, TransportChoice } from '../netns/runner';
import { describeTarget, type Target } from '../netns/target';
import type { CommandSession } from './commandSession';

export const OUTPUT_SCHEME = 'swarm-doctor-output';

interface OutputEntry {
  target: Target;
  command: NetCommand;
  via?: TransportChoice;
  text: string;
  result?: CommandResult;
}

export class OutputDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly entries = new Map<string, OutputEntry>();
  private counter = 0;

  constructor(private readonly session: CommandSession) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.entries.get(uri.query)?.text ?? '# This output is gone (VS Code was reloaded). Run the command again from the Swarm Doctor views.\n';
  }

  /** Runs a command with progress and cancellation, then opens its output. */
  async run(target: Target, command: NetCommand, via?: TransportChoice): Promise<CommandResult | undefined> {
    const key = String(++this.counter);
    const title = `${describeTarget(target)} / ${command.title}`.replace(/[\\/?#%*:|"<>]/g, (c) => (c === '/' ? ' ∕ ' : '_'));
    const uri = vscode.Uri.from({ scheme: OUTPUT_SCHEME, path: `/${title}`, query: key });
    const entry: OutputEntry = { target, command, via, text: '' };
    this.entries.set(key, entry);
    const result = await this.execute(entry);
    if (!result && !entry.text) {
      this.entries.delete(key);
      return undefined;
    }
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document, { preview: false });
    return result;
  }

  /** Runs the output's command again and updates the open editor. */
  async rerun(uri: vscode.Uri): Promise<void> {
    const entry = this.entries.get(uri.query);
    if (!entry) {
      void vscode.window.showWarningMessage('This output can no longer be re-run: run the command again from the Swarm Doctor views.');
      return;
    }
    await this.execute(entry);
    this.changed.fire(uri);
  }

  private async execute(entry: OutputEntry): Promise<CommandResult | undefined> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `${entry.command.title} in ${describeTarget(entry.target)}`, cancellable: true },
      async (_progress, token) => {
        const abort = new AbortController();
        const subscription = token.onCancellationRequested(() => abort.abort());
        try {
          const { runner } = this.session.current();
          const result = await runner.run({ target: entry.target, command: entry.command, via: entry.via, signal: abort.signal });
          entry.result = result;
          entry.text = formatResult(result);
          return result;
        } catch (error) {
          if (abort.signal.aborted) {
            void vscode.window.showInformationMessage(`Cancelled: ${entry.command.title} in ${describeTarget(entry.target)}. Its helper was removed.`);
            return undefined;
          }
          const message = (error as Error).message;
          entry.text = `# where:    ${describeTarget(entry.target)}\n# command:  ${entry.command.title}\n# error:    ${message}\n`;
          void vscode.window.showErrorMessage(message);
          return undefined;
        } finally {
          subscription.dispose();
        }
      },
    );
  }

  dispose(): void {
    this.changed.dispose();
    this.entries.clear();
  }
}
