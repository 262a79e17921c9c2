/// <reference types="mocha" />
// Extension-host suite: runs inside a real VS Code (code-server here, desktop VS Code through
// @vscode/test-electron) with the extension installed, against the lab swarm (`npm run lab -- up`;
// the runner sets swarmDoctor.host and friends to it). Checks what VS Code got from the extension
// (views, commands, settings) and what the trees hold, through the API.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SwarmStore } from '../../../src/explorer/swarmStore';
import { expandAll, rootEntries, type TreeEntry, type ViewKind } from '../../../src/explorer/treeModel';

const EXTENSION_ID = 'swarm-doctor.swarm-network-doctor';
/** The lab's layout (lab/lab.sh). */
const LAB = {
  nodes: ['swarm00', 'swarm01', 'swarm02'],
  services: ['connect', 'nodeagent', 'schemaregistry', 'sourcemysql'],
  network: 'backend',
};

interface Api {
  readonly store: SwarmStore;
}

interface Contributes {
  viewsContainers: { activitybar: { id: string; title: string }[] };
  views: Record<string, { id: string; name: string }[]>;
  commands: { command: string; title: string }[];
  configuration: { properties: Record<string, { type: string; default: unknown; enum?: string[] }> };
  customEditors: { viewType: string; selector: { filenamePattern: string }[] }[];
}

function repoRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'swarm-network-doctor') return dir;
  }
  throw new Error(`no swarm-network-doctor package.json above ${__dirname}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(250);
  }
}

function labels(entries: TreeEntry[]): string[] {
  return entries.map((e) => e.label);
}

describe('Swarm Network Doctor in VS Code', function () {
  let extension: vscode.Extension<Api>;
  let api: Api;
  let contributes: Contributes;

  /** The store's snapshot once it shows the whole lab (a fault injected elsewhere may delay that). */
  async function labSnapshot() {
    return eventually('the store to show the lab swarm with every node ready', async () => {
      const state = api.store.state;
      if (state.kind !== 'ready') {
        if (state.kind === 'failed') await api.store.refresh();
        return undefined;
      }
      const ready = state.snapshot.nodes.filter((n) => n.state === 'ready').map((n) => n.hostname);
      if (!LAB.nodes.every((n) => ready.includes(n))) {
        await api.store.refresh();
        return undefined;
      }
      return state.snapshot;
    }, 90_000);
  }

  before(async function () {
    extension = vscode.extensions.getExtension<Api>(EXTENSION_ID)!;
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    api = await extension.activate();
    contributes = extension.packageJSON.contributes as Contributes;
  });

  it('is installed, activates and hands out its store', function () {
    assert.equal(extension.isActive, true);
    assert.equal(extension.packageJSON.publisher, 'swarm-doctor');
    assert.equal(typeof api.store.refresh, 'function', 'activate() returns { store }');
  });

  it('contributes the Swarm Doctor container with the Nodes, Services, Networks and Captures views', async function () {
    assert.deepEqual(
      contributes.viewsContainers.activitybar.map((c) => [c.id, c.title]),
      [['swarmDoctor', 'Swarm Doctor']],
    );
    const views = contributes.views.swarmDoctor.map((v) => [v.id, v.name]);
    assert.deepEqual(views, [
      ['swarmDoctor.nodes', 'Nodes'],
      ['swarmDoctor.services', 'Services'],
      ['swarmDoctor.networks', 'Networks'],
      ['swarmDoctor.captures', 'Captures'],
    ]);
    // The workbench registers a focus command for each view it knows, and one for the container.
    const all = await vscode.commands.getCommands(false);
    for (const [id] of views) assert.ok(all.includes(`${id}.focus`), `the workbench has no view ${id}`);
    assert.ok(all.includes('workbench.view.extension.swarmDoctor'), 'the workbench has no Swarm Doctor container');
    await vscode.commands.executeCommand('workbench.view.extension.swarmDoctor');
    await vscode.commands.executeCommand('swarmDoctor.nodes.focus');
  });

  it('registers every command it contributes', async function () {
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = contributes.commands.map((c) => c.command);
    assert.ok(contributed.length >= 15, `only ${contributed.length} commands contributed`);
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], 'contributed but not registered');
  });

  it('declares its settings with their defaults, and sees a changed setting at once', async function () {
    const properties = contributes.configuration.properties;
    const keys = Object.keys(properties);
    for (const key of ['swarmDoctor.host', 'swarmDoctor.context', 'swarmDoctor.timeoutSeconds', 'swarmDoctor.transport', 'swarmDoctor.helperImage', 'swarmDoctor.nodeEndpoints', 'swarmDoctor.capture.folder']) {
      assert.ok(keys.includes(key), `setting ${key} not contributed`);
    }
    const config = vscode.workspace.getConfiguration();
    for (const key of keys) {
      assert.deepEqual(config.inspect(key)?.defaultValue, properties[key].default, `default of ${key}`);
    }
    assert.deepEqual(properties['swarmDoctor.transport'].enum, ['auto', 'direct', 'manager', 'local']);
    // The runner points the extension at the lab's manager.
    assert.match(config.get<string>('swarmDoctor.host') ?? '', /^unix:\/\/.*swarm00/, 'swarmDoctor.host is the lab manager');

    const section = vscode.workspace.getConfiguration('swarmDoctor');
    const before = section.inspect<number>('commandTimeoutSeconds')?.globalValue;
    await section.update('commandTimeoutSeconds', 42, vscode.ConfigurationTarget.Global);
    try {
      assert.equal(vscode.workspace.getConfiguration('swarmDoctor').get('commandTimeoutSeconds'), 42);
    } finally {
      await section.update('commandTimeoutSeconds', before, vscode.ConfigurationTarget.Global);
    }
  });

  it("shows the lab's three nodes, four services and the backend network in its trees", async function () {
    await vscode.commands.executeCommand('workbench.view.extension.swarmDoctor');
    const snapshot = await labSnapshot();
    const roots = (view: ViewKind) => rootEntries(snapshot, view);
    assert.deepEqual(labels(roots('nodes')), LAB.nodes);
    const nodeDescriptions = roots('nodes').map((e) => e.description ?? '');
    assert.match(nodeDescriptions[0], /^leader · ready · 10\.99\.0\.10$/);
    assert.match(nodeDescriptions[2], /^worker · ready · 10\.99\.0\.12$/);
    assert.deepEqual(labels(roots('services')).filter((l) => LAB.services.includes(l)), LAB.services);
    for (const service of roots('services').filter((e) => LAB.services.includes(e.label))) {
      const want = service.label === 'nodeagent' ? '3/3' : '1/1';
      assert.ok(service.description?.startsWith(want), `${service.label}: ${service.description}`);
    }
    const networks = roots('networks');
    assert.equal(networks[0].label, LAB.network, 'swarm-scoped networks come first');
    assert.match(networks[0].description ?? '', /^overlay · 10\.0\.1\.0\/24/);
  });

  it("lists swarm02's tasks with their overlay addresses", async function () {
    const snapshot = await labSnapshot();
    const swarm02 = rootEntries(snapshot, 'nodes').find((e) => e.label === 'swarm02')!;
    const tasks = swarm02.children!();
    const names = labels(tasks);
    assert.ok(names.includes('sourcemysql.1'), `swarm02's tasks: ${names.join(', ')}`);
    assert.ok(names.some((n) => n.startsWith('nodeagent.')), `swarm02's tasks: ${names.join(', ')}`);
    const sourcemysql = tasks.find((t) => t.label === 'sourcemysql.1')!;
    assert.match(sourcemysql.contextValue, /\bkind:task\b.*\brunnable\b/);
    const attachments = sourcemysql.children!();
    assert.deepEqual(labels(attachments), [LAB.network]);
    assert.match(attachments[0].description ?? '', /^10\.0\.1\.\d+\/24$/);
    let count = 0;
    expandAll(rootEntries(snapshot, 'nodes'), () => count++);
    assert.ok(count >= 3 + 6 + 6, `the Nodes tree has only ${count} entries`);
  });

  it("opens a node's raw engine JSON with Inspect", async function () {
    const snapshot = await labSnapshot();
    const swarm02 = rootEntries(snapshot, 'nodes').find((e) => e.label === 'swarm02')!;
    await vscode.commands.executeCommand('swarmDoctor.inspect', swarm02);
    const editor = await eventually('the inspect editor', () => {
      const active = vscode.window.activeTextEditor;
      return active?.document.uri.scheme === 'swarm-doctor-inspect' ? active : undefined;
    }, 30_000);
    assert.equal(editor.document.languageId, 'json');
    const json = JSON.parse(editor.document.getText());
    assert.equal(json.Description?.Hostname, 'swarm02');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Refresh re-reads the swarm', async function () {
    await labSnapshot();
    const before = api.store.state.kind === 'ready' ? api.store.state.snapshot.takenAt.getTime() : 0;
    await vscode.commands.executeCommand('swarmDoctor.refresh');
    await eventually('a newer snapshot', () => {
      const state = api.store.state;
      return state.kind === 'ready' && state.snapshot.takenAt.getTime() > before ? true : undefined;
    }, 30_000);
  });

  it('opens a .pcap in its packet viewer by default', async function () {
    const editors = contributes.customEditors.map((e) => [e.viewType, e.selector.map((s) => s.filenamePattern).join(' ')]);
    assert.deepEqual(editors, [['swarmDoctor.packetViewer', '*.pcap *.pcapng *.cap']]);
    const file = vscode.Uri.file(path.join(repoRoot(), 'test', 'fixtures', 'viewer', 'incident.pcap'));
    await vscode.commands.executeCommand('vscode.open', file);
    const tab = await eventually('the packet viewer tab', () => {
      const active = vscode.window.tabGroups.activeTabGroup.activeTab;
      return active?.input instanceof vscode.TabInputCustom ? active : undefined;
    }, 30_000);
    const input = tab.input as vscode.TabInputCustom;
    assert.equal(input.viewType, 'swarmDoctor.packetViewer');
    assert.equal(path.basename(input.uri.fsPath), 'incident.pcap');
    assert.equal(tab.label, 'incident.pcap');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
