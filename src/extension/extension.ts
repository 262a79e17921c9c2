// Activation: wires the store, the three tree views and the commands. Thin over the layers below.
import * as vscode from 'vscode';
import { connectEngine } from '../engine/dockerodeEngine';
import { describeEndpoint, resolveEndpoint } from '../engine/endpoint';
import { SwarmStore } from '../explorer/swarmStore';
import type { ViewKind } from '../explorer/treeModel';
import { CaptureManager } from '../recorder/captureManager';
import { CapturesView } from './captures/capturesView';
import { CommandSession } from './commandSession';
import { captureConversation, openCapture, revealCapture, startCapture, stopCapture } from './commands/captures';
import { inspect } from './commands/inspect';
import { compareAcrossNodes, runCommand } from './commands/runCommand';
import { registerDoctor } from './doctor/doctorCommands';
import { ComparePanels } from './compare/comparePanels';
import { OutputDocuments, OUTPUT_SCHEME } from './outputDocuments';
import { PacketViewerProvider, VIEWER_TYPE } from './viewer/packetViewerProvider';
import { selectEngine } from './commands/selectEngine';
import { InspectDocumentProvider, INSPECT_SCHEME } from './inspectDocuments';
import { affectsCommands, affectsConnection, readSettings } from './settings';
import { SwarmTreeProvider } from './tree/swarmTreeProvider';

const VIEWS: Record<ViewKind, string> = {
  nodes: 'swarmDoctor.nodes',
  services: 'swarmDoctor.services',
  networks: 'swarmDoctor.networks',
};

export interface SwarmDoctorApi {
  /** For the extension-host tests: the store behind the views. */
  readonly store: SwarmStore;
}

export function activate(context: vscode.ExtensionContext): SwarmDoctorApi {
  const store = new SwarmStore({
    connect: () => {
      const settings = readSettings();
      return connectEngine(resolveEndpoint({ host: settings.host, context: settings.context }), { timeoutMs: settings.timeoutMs });
    },
    get debounceMs() {
      return readSettings().debounceMs;
    },
    get pollMs() {
      return readSettings().pollMs;
    },
    get timeoutMs() {
      return readSettings().timeoutMs;
    },
  });
  context.subscriptions.push({ dispose: () => store.dispose() });

  const views: vscode.TreeView<unknown>[] = [];
  for (const [kind, viewId] of Object.entries(VIEWS) as [ViewKind, string][]) {
    const provider = new SwarmTreeProvider(store, kind);
    const view = vscode.window.createTreeView(viewId, { treeDataProvider: provider, canSelectMany: true, showCollapseAll: true });
    views.push(view as vscode.TreeView<unknown>);
    context.subscriptions.push(provider, view, view.onDidChangeVisibility(() => store.setVisible(views.some((v) => v.visible))));
  }
  const describeViews = () => {
    const state = store.state;
    const text = state.endpoint ? describeEndpoint(state.endpoint) : undefined;
    const where = state.kind === 'ready' ? `${state.summary.name} · ${text}` : text;
    for (const view of views) view.description = where;
  };
  context.subscriptions.push(store.onDidChange(describeViews));
  store.setVisible(views.some((v) => v.visible));

  const session = new CommandSession(store);
  const outputs = new OutputDocuments(session);
  const panels = new ComparePanels(context.extensionUri);
  const captures = new CaptureManager();
  const capturesView = new CapturesView(captures);
  shutdownCaptures = () => captures.shutdown(4000);
  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(VIEWER_TYPE, new PacketViewerProvider(context.extensionUri, captures, store), {
      webviewOptions: { retainContextWhenHidden: false },
      supportsMultipleEditorsPerDocument: true,
    }),
  );
  registerDoctor(context, session);
  context.subscriptions.push(session, outputs, panels, capturesView, vscode.window.createTreeView('swarmDoctor.captures', { treeDataProvider: capturesView, canSelectMany: true }));

  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(INSPECT_SCHEME, new InspectDocumentProvider(store)),
    vscode.workspace.registerTextDocumentContentProvider(OUTPUT_SCHEME, outputs),
    vscode.commands.registerCommand('swarmDoctor.runCommand', runCommand(session, outputs)),
    vscode.commands.registerCommand('swarmDoctor.runFreeCommand', runCommand(session, outputs, true)),
    vscode.commands.registerCommand('swarmDoctor.compareAcrossNodes', compareAcrossNodes(session, panels)),
    vscode.commands.registerCommand('swarmDoctor.capture', startCapture(session, captures, context.globalState)),
    vscode.commands.registerCommand('swarmDoctor.captureConversation', captureConversation(session, captures)),
    vscode.commands.registerCommand('swarmDoctor.stopCapture', stopCapture(captures)),
    vscode.commands.registerCommand('swarmDoctor.stopAllCaptures', () => captures.stopAll()),
    vscode.commands.registerCommand('swarmDoctor.clearFinishedCaptures', () => captures.clearFinished()),
    vscode.commands.registerCommand('swarmDoctor.openCapture', openCapture),
    vscode.commands.registerCommand('swarmDoctor.revealCapture', revealCapture),
    vscode.commands.registerCommand('swarmDoctor.rerunOutput', (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (target?.scheme === OUTPUT_SCHEME) return outputs.rerun(target);
    }),
    vscode.commands.registerCommand('swarmDoctor.refresh', () => store.refresh()),
    vscode.commands.registerCommand('swarmDoctor.inspect', inspect),
    vscode.commands.registerCommand('swarmDoctor.selectEngine', selectEngine),
    vscode.commands.registerCommand('swarmDoctor.openSettings', () => vscode.commands.executeCommand('workbench.action.openSettings', `@ext:swarm-doctor.swarm-network-doctor`)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (affectsConnection(event)) void store.reconnect();
      if (affectsConnection(event) || affectsCommands(event)) session.reset();
    }),
  );
  return { store };
}

let shutdownCaptures: (() => Promise<void>) | undefined;

/** Running captures are stopped and their helpers removed before VS Code goes (it waits for this). */
export function deactivate(): Promise<void> | undefined {
  return shutdownCaptures?.();
}
