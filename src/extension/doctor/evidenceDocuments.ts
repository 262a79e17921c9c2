// Opens the doctor's evidence: command output (and notes) as read-only documents headed by where,
// how and what ran; captures in the packet viewer.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { Evidence } from '../../doctor/findings';
import { VIEWER_TYPE } from '../viewer/packetViewerProvider';

export const EVIDENCE_SCHEME = 'swarm-doctor-evidence';

/** The document text: a header saying what ran where, then the output as it was collected. */
function evidenceText(evidence: Exclude<Evidence, { kind: 'capture' }>): string {
  if (evidence.kind === 'note') return `# ${evidence.title}\n\n${evidence.text}${evidence.text.endsWith('\n') ? '' : '\n'}`;
  const header = [
    `# ${evidence.title}`,
    `# where:    ${evidence.where}`,
    `# command:  ${evidence.command}`,
    ...(evidence.how ? [`# how:      ${evidence.how}`] : []),
    ...(evidence.exitCode !== undefined ? [`# exit:     ${evidence.exitCode}`] : []),
    '# ' + '-'.repeat(70),
  ];
  return `${header.join('\n')}\n${evidence.text}${evidence.text.endsWith('\n') || !evidence.text ? '' : '\n'}`;
}

export class EvidenceDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly entries = new Map<string, string>();
  private readonly keys = new WeakMap<Evidence, string>();
  private counter = 0;
  private readonly subscription: vscode.Disposable;

  constructor() {
    // An evidence document lives as long as its editor: its text goes when the document is closed.
    this.subscription = vscode.workspace.onDidCloseTextDocument((document) => {
      if (document.uri.scheme === EVIDENCE_SCHEME) this.entries.delete(document.uri.query);
    });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.entries.get(uri.query) ?? '# This evidence is gone (its report was closed or VS Code was reloaded). Run the doctor again.\n';
  }

  async open(evidence: Evidence): Promise<void> {
    if (evidence.kind === 'capture') {
      if (!fs.existsSync(evidence.path)) {
        void vscode.window.showErrorMessage(`The capture ${evidence.path} is no longer there.`);
        return;
      }
      // Beside the report, which stays in view.
      await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(evidence.path), VIEWER_TYPE, vscode.ViewColumn.Beside);
      return;
    }
    // The same evidence opens the same document (its editor comes to the front), also after a close.
    let key = this.keys.get(evidence);
    if (!key) {
      key = String(++this.counter);
      this.keys.set(evidence, key);
    }
    this.entries.set(key, evidenceText(evidence));
    const where = evidence.kind === 'command' ? `${evidence.where} / ` : '';
    const title = `${where}${evidence.title}`.replace(/[\\/?#%*:|"<>]/g, (c) => (c === '/' ? ' ∕ ' : '_'));
    const uri = vscode.Uri.from({ scheme: EVIDENCE_SCHEME, path: `/${title}`, query: key });
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document, { preview: false, viewColumn: vscode.ViewColumn.Beside });
  }

  dispose(): void {
    this.subscription.dispose();
    this.entries.clear();
  }
}
