import * as vscode from 'vscode';
import type { TreeEntry } from '../../explorer/treeModel';
import { inspectUri } from '../inspectDocuments';

/** swarmDoctor.inspect: opens the raw JSON of the clicked item (or of each selected item). */
export async function inspect(entry?: TreeEntry, selection?: TreeEntry[]): Promise<void> {
  const targets = (selection?.length ? selection : entry ? [entry] : []).filter((e) => e.inspect);
  if (!targets.length) {
    void vscode.window.showInformationMessage('Select a node, service, task or network in the Swarm Doctor views to inspect it.');
    return;
  }
  for (const target of targets) {
    const { kind, id, title } = target.inspect!;
    const document = await vscode.workspace.openTextDocument(inspectUri(kind, id, title));
    await vscode.languages.setTextDocumentLanguage(document, 'json');
    await vscode.window.showTextDocument(document, { preview: targets.length === 1 });
  }
}
