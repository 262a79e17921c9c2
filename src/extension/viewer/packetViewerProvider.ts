import * as fs from 'node:fs';
// The packet viewer: a read-only custom editor for .pcap/.pcapng files and for captures still
// being written. Strict CSP with a nonce; scripts and styles only from dist/webview and media/viewer.
import { spawn, spawnSync } from 'node:child_process';
import * as vscode from 'vscode';
import { writeCaptureNames } from '../../capture/captureNames';
import { exportPackets } from '../../capture/pcapWriter';
import { CaptureFile } from '../../capture/packetIndex';
import type { CaptureManager } from '../../recorder/captureManager';
import type { SwarmStore } from '../../explorer/swarmStore';
import { describeOwner, lookupAddress } from '../../swarm/snapshot';
import type { HostToViewer, ViewerToHost } from '../../webview/packetViewer/protocol';
import { webviewPage } from '../webviewPage';
import { CaptureDocument } from './captureDocument';
import { CaptureView } from './captureView';
import { packetPredicate } from '../../capture/packetFilter';
import { captureVxlanPorts } from '../settings';

export const VIEWER_TYPE = 'swarmDoctor.packetViewer';

/** The Wireshark program: the setting, else `wireshark` on PATH. */
function wiresharkProgram(): string {
  return vscode.workspace.getConfiguration('swarmDoctor').get<string>('capture.wiresharkPath', '').trim() || 'wireshark';
}

function wiresharkInstalled(): boolean {
  const program = wiresharkProgram();
  if (program.includes('/')) {
    try {
      fs.accessSync(program, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  return spawnSync('which', [program], { encoding: 'utf8' }).status === 0;
}

export class PacketViewerProvider implements vscode.CustomReadonlyEditorProvider<CaptureDocument> {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly captures: CaptureManager,
    private readonly store: SwarmStore,
  ) {}

  async openCustomDocument(uri: vscode.Uri): Promise<CaptureDocument> {
    const growing = this.captures.running.some((c) => c.file === uri.fsPath);
    // Swarm names need the swarm: read it now if no view has (a capture opened before the views).
    if (this.store.state.kind !== 'ready') void this.store.refresh();
    const document = await CaptureDocument.open(uri, growing);
    if (growing) {
      // Once the capture has ended (its file closed), read what it left to the end and stop.
      const ended = () => !this.captures.running.some((c) => c.file === uri.fsPath);
      const watch = this.captures.onDidChange(() => {
        if (!ended()) return;
        watch.dispose();
        void document.finishFollowing();
      });
      document.onDispose = () => watch.dispose();
      // It may have ended while the document opened.
      if (ended()) {
        watch.dispose();
        void document.finishFollowing();
      }
    }
    document.swarmNameOf = (address) => {
      const state = this.store.state;
      if (state.kind !== 'ready') return undefined;
      const owner = lookupAddress(state.snapshot, address);
      return owner ? describeOwner(owner) : undefined;
    };
    return document;
  }

  async resolveCustomEditor(document: CaptureDocument, panel: vscode.WebviewPanel): Promise<void> {
    const roots = [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media', 'viewer')];
    panel.webview.options = { enableScripts: true, localResourceRoots: roots };
    panel.webview.html = this.html(panel.webview);
    const post = (message: HostToViewer) => void panel.webview.postMessage(message);
    // This panel's filter and time format (another panel on the same capture has its own).
    const view = new CaptureView(document);
    let lastCount = -1;
    // A growing capture: tell the webview when there are more packets (only while it is visible).
    const ticker = setInterval(() => {
      if (!panel.visible) return;
      const count = view.shownCount;
      if (count !== lastCount || !document.growing) {
        lastCount = count;
        post({ type: 'count', count, growing: document.growing, error: document.index.error?.message, generation: view.generation });
      }
      if (!document.growing && count === lastCount) clearInterval(ticker);
    }, 500);
    panel.onDidDispose(() => clearInterval(ticker));
    panel.webview.onDidReceiveMessage(async (message: ViewerToHost) => {
      try {
        switch (message.type) {
          case 'ready':
            lastCount = view.shownCount;
            post({ type: 'init', fileName: document.uri.path.split('/').pop() ?? '', count: lastCount, growing: document.growing, error: document.index.error?.message, wireshark: wiresharkInstalled(), names: document.namesSource(this.store.state.kind === 'ready') });
            break;
          case 'rows':
            if (message.generation === view.generation) post({ type: 'rows', start: message.start, rows: view.rows(message.start, Math.min(message.count, 500)), generation: view.generation });
            break;
          case 'select':
            post({ type: 'details', number: message.number, ...document.details(message.number) });
            break;
          case 'place':
            // An older list's question is left unanswered: the webview asks again for the new one.
            if (message.generation === view.generation) post({ type: 'place', place: view.place(message.number), generation: view.generation });
            break;
          case 'filter': {
            const compiled = packetPredicate(message.expression, document.captureFile);
            if (!compiled.ok) {
              post({ type: 'filterResult', expression: message.expression, ok: false, error: compiled.error, count: view.shownCount, generation: view.generation });
              break;
            }
            view.setFilter(compiled.predicate);
            lastCount = view.shownCount;
            post({ type: 'filterResult', expression: message.expression, ok: true, count: lastCount, generation: view.generation });
            break;
          }
          case 'timeFormat':
            view.timeFormat = message.format;
            post({ type: 'count', count: view.shownCount, growing: document.growing, generation: view.generation });
            break;
          case 'conversations':
            post({ type: 'conversations', list: document.conversations() });
            break;
          case 'follow':
            post({ type: 'stream', conversation: message.conversation, title: `${document.index.conversations.protocolOf(message.conversation) === 6 ? 'TCP' : 'UDP'} stream`, segments: document.stream(message.conversation) });
            break;
          case 'export': {
            const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(document.uri.fsPath.replace(/\.(pcapng|pcap|cap)$/i, '') + '-filtered.pcapng'), filters: { 'Capture (pcapng, with swarm names)': ['pcapng'], 'Capture (pcap)': ['pcap'] } });
            if (!target) break;
            const file = new CaptureFile(document.uri.fsPath, { vxlanPorts: captureVxlanPorts() });
            try {
              const pcapng = !/\.pcap$/i.test(target.fsPath);
              const kept = new Map<string, string>();
              for (const address of document.addresses()) {
                const name = document.nameOf(address);
                if (name) kept.set(address, name);
              }
              // pcapng: in a name resolution block, for Wireshark (which shows a name up to its first space).
              const block = new Map(pcapng ? [...kept].map(([address, name]) => [address, [name.replace(/\s+/g, '_')]]) : []);
              exportPackets(document.index, file, view.shownIndices(), target.fsPath, block, pcapng ? 'pcapng' : 'pcap');
              // Either way, beside the file as well, as a capture keeps them: opened later, here or by the CLI, it is named as now.
              if (kept.size) writeCaptureNames(target.fsPath, kept, document.namesTakenAt);
            } finally {
              file.close();
            }
            void vscode.window.showInformationMessage(`Exported ${view.shownCount} packets to ${target.fsPath}${/\.pcap$/i.test(target.fsPath) ? ' (pcap; the swarm names beside it)' : ' (pcapng, with the swarm names in a name resolution block)'}.`);
            break;
          }
          case 'wireshark':
            spawn(wiresharkProgram(), [document.uri.fsPath], { detached: true, stdio: 'ignore' }).unref();
            break;
        }
      } catch (error) {
        void vscode.window.showErrorMessage(`Packet viewer: ${(error as Error).message}`);
      }
    });
  }

  private html(webview: vscode.Webview): string {
    return webviewPage(webview, {
      title: 'Packet viewer',
      style: vscode.Uri.joinPath(this.extensionUri, 'media', 'viewer', 'viewer.css'),
      script: vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'packetViewer.js'),
      module: true,
      body: '<div id="app"></div>',
    });
  }
}
