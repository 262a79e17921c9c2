// Read-only documents holding an object's raw JSON from the engine ("Inspect").
import * as vscode from 'vscode';
import type { SwarmStore } from '../explorer/swarmStore';
import type { InspectKind } from '../engine/types';

export const INSPECT_SCHEME = 'swarm-doctor-inspect';

export function inspectUri(kind: InspectKind, id: string, title: string): vscode.Uri {
  // The path gives the tab its title; the query carries what to fetch.
  const safeTitle = title.replace(/[\\/?#]/g, '_');
  return vscode.Uri.from({ scheme: INSPECT_SCHEME, path: `/${safeTitle}.json`, query: new URLSearchParams({ kind, id }).toString() });
}

export class InspectDocumentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly store: SwarmStore) {}

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const params = new URLSearchParams(uri.query);
    const kind = params.get('kind') as InspectKind;
    const id = params.get('id') ?? '';
    const engine = this.store.engine();
    if (!engine) return `// Not connected to a Docker engine.\n`;
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    try {
      const raw = await engine.inspectRaw(kind, id, { signal: abort.signal });
      return JSON.stringify(raw, null, 2) + '\n';
    } catch (error) {
      return `// Cannot inspect ${kind} ${id}: ${(error as Error).message}\n`;
    } finally {
      cancel.dispose();
    }
  }
}
