// The doctor's commands: Run Connectivity Matrix…, Run Network Checks, Diagnose Connection…
// Each asks what it needs (quick picks, a port box), runs the core under a cancellable progress
// notification and shows its report in a DoctorPanel.
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { runChecks } from '../../doctor/checks';
import { diagnoseConnection } from '../../doctor/diagnose';
import { addressOn, chooseNetwork, runMatrix, servicePorts, type MatrixRequest } from '../../doctor/matrix';
import type { DoctorContext } from '../../doctor/report';
import type { ServiceRecord, TaskRecord } from '../../engine/types';
import type { TreeEntry } from '../../explorer/treeModel';
import { compareNames, isRunningTask, taskName, type SwarmSnapshot } from '../../swarm/snapshot';
import type { ReportView } from '../../webview/doctor/protocol';
import type { CommandSession } from '../commandSession';
import { SECTION } from '../settings';
import { DoctorPanels, type CellRef, type DoctorPanel } from './doctorPanels';
import { EVIDENCE_SCHEME, EvidenceDocuments } from './evidenceDocuments';
import { addressNamer, checksView, diagnosisView, matrixView, parsePorts, plannedMatrixView } from './reportViews';

const MATRIX_ID = 'm0';

function probeTimeoutSeconds(): number {
  return Math.min(60, Math.max(1, vscode.workspace.getConfiguration(SECTION).get<number>('doctor.probeTimeoutSeconds', 3)));
}


function runningTasks(snapshot: SwarmSnapshot, service: ServiceRecord): TaskRecord[] {
  return (snapshot.tasksByService.get(service.id) ?? []).filter(isRunningTask);
}

function nodeOf(snapshot: SwarmSnapshot, task: TaskRecord): string {
  return (task.nodeId && snapshot.nodeById.get(task.nodeId)?.hostname) || 'no node';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function showError(error: unknown): void {
  void vscode.window.showErrorMessage(errorText(error));
}

class DoctorCommands implements vscode.Disposable {
  private readonly panels: DoctorPanels;

  constructor(
    private readonly session: CommandSession,
    private readonly context: vscode.ExtensionContext,
    documents: EvidenceDocuments,
  ) {
    this.panels = new DoctorPanels(context.extensionUri, documents, { diagnose: (ref) => void this.diagnoseCell(ref) });
  }

  // ---- Run Connectivity Matrix… -------------------------------------------------------------

  /** swarmDoctor.runMatrix: on a service in the tree, or from the palette (asks for the service). */
  async runMatrixCommand(entry?: TreeEntry): Promise<void> {
    try {
      const { snapshot } = this.session.current();
      const service = entry?.ref?.kind === 'service' ? snapshot.serviceById.get(entry.ref.id) : await this.pickService(snapshot);
      if (!service) {
        if (entry?.ref) throw new Error('That service is gone: refresh the view.');
        return;
      }
      chooseNetwork(snapshot, service); // says so now when the service is on no overlay network
      let ports = servicePorts(service);
      if (!ports.length) {
        const asked = await this.askPorts(service);
        if (!asked) return;
        ports = asked;
      }
      const client = await this.pickClientService(snapshot, service);
      if (client === undefined) return;
      await this.runMatrixRequest({ service: service.name, ports, clientService: client || undefined, timeoutSeconds: probeTimeoutSeconds() });
    } catch (error) {
      showError(error);
    }
  }

  private async pickService(snapshot: SwarmSnapshot): Promise<ServiceRecord | undefined> {
    const items = snapshot.services
      .filter((s) => s.networks.some((n) => snapshot.networkById.get(n.networkId)?.ingress === false))
      .map((service) => {
        const ports = servicePorts(service);
        const tasks = runningTasks(snapshot, service);
        return { label: service.name, description: ports.length ? `tcp ${ports.join(', ')}` : 'no published port', detail: `${tasks.length} running task${tasks.length === 1 ? '' : 's'}${tasks.length ? ` on ${[...new Set(tasks.map((t) => nodeOf(snapshot, t)))].join(', ')}` : ''}`, service };
      });
    if (!items.length) throw new Error('No service of this swarm is on an overlay network: there is nothing to probe.');
    const pick = await vscode.window.showQuickPick(items, { title: 'Connectivity matrix: which service should every node reach?', matchOnDescription: true });
    return pick?.service;
  }

  private async askPorts(service: ServiceRecord): Promise<number[] | undefined> {
    const memoryKey = `swarmDoctor.doctor.ports.${service.name}`;
    const remembered = this.context.workspaceState.get<string>(memoryKey, '');
    const text = await vscode.window.showInputBox({
      title: `Connectivity matrix of ${service.name}: which TCP port(s)?`,
      prompt: `${service.name} publishes no TCP port: which port(s) does it listen on? Several: 8081, 9092`,
      placeHolder: 'e.g. 8081',
      value: remembered,
      ignoreFocusOut: true,
      validateInput: (value) => {
        const parsed = parsePorts(value);
        return 'error' in parsed ? parsed.error : undefined;
      },
    });
    if (text === undefined) return undefined;
    const parsed = parsePorts(text);
    if ('error' in parsed) return undefined;
    await this.context.workspaceState.update(memoryKey, parsed.ports.join(', '));
    return parsed.ports;
  }

  /** '' for "any task on each node", a service name, or undefined when the user escaped. */
  private async pickClientService(snapshot: SwarmSnapshot, service: ServiceRecord): Promise<string | undefined> {
    const networks = new Set(service.networks.map((n) => n.networkId));
    const clients = snapshot.services.filter((s) => s.id !== service.id && s.networks.some((n) => networks.has(n.networkId) && snapshot.networkById.get(n.networkId)?.ingress === false) && runningTasks(snapshot, s).length);
    const items: (vscode.QuickPickItem & { client: string })[] = [
      { label: '$(server) Any task on each node', description: 'default', detail: `From each node: a task of another service on ${service.name}'s network, or a short-lived probe task where none runs`, client: '' },
      ...clients.map((s) => ({ label: `$(symbol-class) ${s.name}`, description: 'probe from its tasks only', detail: `on ${[...new Set(runningTasks(snapshot, s).map((t) => nodeOf(snapshot, t)))].join(', ')}`, client: s.name })),
    ];
    const pick = await vscode.window.showQuickPick(items, { title: `Connectivity matrix of ${service.name}: probe from which tasks?` });
    return pick?.client;
  }

  async runMatrixRequest(request: MatrixRequest): Promise<void> {
    const { snapshot, runner } = this.session.current();
    const title = `Matrix · ${request.service}`;
    const viewRequest = { service: request.service, ports: request.ports, clientService: request.clientService };
    const panel = this.panels.open(`matrix:${request.service}`, title, { kind: 'matrix', request: viewRequest });
    panel.rerun = () => void this.runMatrixRequest(request).catch(showError);
    const planned = plannedMatrixView(MATRIX_ID, snapshot, request);
    const signal = panel.begin(title, { kind: 'matrix', matrix: planned, request: viewRequest });
    const total = planned?.cells.length ?? 0;
    const nameOf = addressNamer(snapshot);
    await this.underProgress(panel, signal, `Connectivity matrix of ${request.service}${request.ports?.length ? ` (tcp ${request.ports.join(', ')})` : ''}`, async (report) => {
      let probed = 0;
      const matrix = await runMatrix(snapshot, runner, request, {
        signal,
        onCell: (cell) => {
          probed++;
          report(total ? `${probed} of ${total} probes` : `${probed} probes`, total ? 100 / total : undefined);
          panel.cell(signal, MATRIX_ID, request.service, cell, nameOf);
        },
      });
      // Every cell is registered already, as it arrived (panel.cell).
      const view = matrixView(MATRIX_ID, matrix, panel.evidence, nameOf);
      return { kind: 'matrix', matrix: view, request: viewRequest } satisfies ReportView;
    });
  }

  // ---- Run Network Checks -------------------------------------------------------------------

  /** swarmDoctor.runChecks: every check on the whole swarm. */
  async runChecksCommand(): Promise<void> {
    try {
      const { snapshot, runner } = this.session.current();
      const title = 'Network checks';
      const panel = this.panels.open('checks', title, { kind: 'checks' });
      panel.rerun = () => void this.runChecksCommand();
      const signal = panel.begin(title, { kind: 'checks' });
      await this.underProgress(panel, signal, 'Swarm network checks', async (report) => {
        const ctx: DoctorContext = { snapshot, runner, signal, progress: (message) => report(message) };
        const result = await runChecks(ctx, {});
        const view = checksView(result, panel.evidence, addressNamer(snapshot));
        view.matrices.forEach((m, i) => panel.registerCells(signal, m, result.matrices[i].cells, result.matrices[i].service));
        return { kind: 'checks', report: view } satisfies ReportView;
      });
    } catch (error) {
      showError(error);
    }
  }

  // ---- Diagnose Connection… -----------------------------------------------------------------

  /** swarmDoctor.diagnoseConnection: on a task in the tree (asks for the other end), or from the palette. */
  async diagnoseCommand(entry?: TreeEntry): Promise<void> {
    try {
      const { snapshot } = this.session.current();
      let ends: { client: TaskRecord; server: TaskRecord } | undefined;
      if (entry?.ref?.kind === 'task') {
        const id = entry.ref.id;
        const task = snapshot.tasks.find((t) => t.id === id);
        if (!task) throw new Error('That task is gone: refresh the view.');
        if (!isRunningTask(task)) throw new Error(`${taskName(task, snapshot.serviceById.get(task.serviceId))} is not running: a diagnosis needs both tasks running.`);
        ends = await this.pickOtherEnd(snapshot, task);
      } else {
        const client = await this.pickTask(snapshot, 'Diagnose a connection: from which task (the client)?');
        const server = client && (await this.pickTask(snapshot, `Diagnose a connection from ${this.label(snapshot, client)}: to which task (the server)?`, client));
        ends = client && server ? { client, server } : undefined;
      }
      if (!ends) return;
      const port = await this.askPort(snapshot, ends.server);
      if (port === undefined) return;
      await this.runDiagnosis(ends.client, ends.server, port);
    } catch (error) {
      showError(error);
    }
  }

  private label(snapshot: SwarmSnapshot, task: TaskRecord): string {
    return taskName(task, snapshot.serviceById.get(task.serviceId));
  }

  private otherTasks(snapshot: SwarmSnapshot, task: TaskRecord | undefined): TaskRecord[] {
    return snapshot.services
      .filter((s) => s.id !== task?.serviceId)
      .flatMap((s) => runningTasks(snapshot, s))
      .sort((a, b) => compareNames(this.label(snapshot, a), this.label(snapshot, b)));
  }

  private taskItem(snapshot: SwarmSnapshot, task: TaskRecord, peer?: TaskRecord) {
    const shared = peer ? task.addresses.find((a) => peer.addresses.some((p) => p.networkId === a.networkId)) : undefined;
    const address = shared ? addressOn(task, shared.networkId) : task.addresses[0]?.addresses[0]?.split('/')[0];
    const network = shared?.networkName ?? task.addresses[0]?.networkName;
    return { label: this.label(snapshot, task), description: `on ${nodeOf(snapshot, task)}${address ? ` · ${address}${network ? ` on ${network}` : ''}` : ''}`, task };
  }

  private async pickTask(snapshot: SwarmSnapshot, title: string, other?: TaskRecord): Promise<TaskRecord | undefined> {
    const tasks = other ? this.otherTasks(snapshot, other) : snapshot.services.flatMap((s) => runningTasks(snapshot, s));
    if (!tasks.length) throw new Error('No other running task to connect to.');
    const pick = await vscode.window.showQuickPick(
      tasks.map((t) => this.taskItem(snapshot, t, other)),
      { title, matchOnDescription: true },
    );
    return pick?.task;
  }

  /** The task from the tree is one end; the pick says which other task and in which direction. */
  private async pickOtherEnd(snapshot: SwarmSnapshot, task: TaskRecord): Promise<{ client: TaskRecord; server: TaskRecord } | undefined> {
    const name = this.label(snapshot, task);
    const others = this.otherTasks(snapshot, task);
    if (!others.length) throw new Error(`No running task of another service to pair ${name} with.`);
    type Item = vscode.QuickPickItem & { ends?: { client: TaskRecord; server: TaskRecord } };
    const items: Item[] = [
      { label: `${name} connects to…`, kind: vscode.QuickPickItemKind.Separator },
      ...others.map((o): Item => ({ ...this.taskItem(snapshot, o, task), label: `$(arrow-right) ${this.label(snapshot, o)}`, ends: { client: task, server: o } })),
      { label: `…connects to ${name}`, kind: vscode.QuickPickItemKind.Separator },
      ...others.map((o): Item => ({ ...this.taskItem(snapshot, o, task), label: `$(arrow-left) ${this.label(snapshot, o)}`, ends: { client: o, server: task } })),
    ];
    const pick = await vscode.window.showQuickPick(items, { title: `Diagnose a connection of ${name} (on ${nodeOf(snapshot, task)}): with which task?`, matchOnDescription: true });
    return pick?.ends;
  }

  private async askPort(snapshot: SwarmSnapshot, server: TaskRecord): Promise<number | undefined> {
    const service = snapshot.serviceById.get(server.serviceId);
    const published = service ? servicePorts(service) : [];
    const memoryKey = `swarmDoctor.doctor.port.${service?.name ?? server.serviceId}`;
    const remembered = this.context.workspaceState.get<number>(memoryKey);
    const initial = remembered !== undefined && (published.includes(remembered) || !published.length) ? remembered : published[0];
    const text = await vscode.window.showInputBox({
      title: `Diagnose the connection to ${this.label(snapshot, server)}`,
      prompt: published.length ? `TCP port (${service?.name} publishes ${published.join(', ')})` : `TCP port (${service?.name ?? 'the service'} publishes none: type the one it listens on)`,
      placeHolder: 'e.g. 8081',
      value: initial !== undefined ? String(initial) : '',
      ignoreFocusOut: true,
      validateInput: (value) => {
        const parsed = parsePorts(value);
        if ('error' in parsed) return parsed.error;
        return parsed.ports.length > 1 ? 'One port: the diagnosis follows one connection.' : undefined;
      },
    });
    if (text === undefined) return undefined;
    const parsed = parsePorts(text);
    if ('error' in parsed || parsed.ports.length !== 1) return undefined;
    await this.context.workspaceState.update(memoryKey, parsed.ports[0]);
    return parsed.ports[0];
  }

  /** "Diagnose this connection" on a matrix cell: the cell's client task to the task it reached. */
  private async diagnoseCell(ref: CellRef): Promise<void> {
    try {
      const { snapshot } = this.session.current();
      const { cell } = ref;
      if (cell.source.target?.ns !== 'sandbox') throw new Error(`The probe on ${cell.source.node} did not run from a task of a service: run the matrix with a client service to diagnose from a real task.`);
      const clientId = cell.source.target.task.id;
      const client = snapshot.tasks.find((t) => t.id === clientId);
      if (!client || !isRunningTask(client)) throw new Error(`${cell.source.label} is no longer running: run the matrix again.`);
      const service = snapshot.services.find((s) => s.name === ref.service);
      if (!service) throw new Error(`The service ${ref.service} is gone.`);
      const tasks = runningTasks(snapshot, service);
      let server: TaskRecord | undefined;
      const destination = cell.destination;
      if (destination.kind === 'task') {
        server = tasks.find((t) => destination.address !== undefined && t.addresses.some((a) => a.addresses.some((cidr) => cidr.split('/')[0] === destination.address)));
        if (!server) throw new Error(`${destination.label} (${destination.address}) is no longer running: run the matrix again.`);
      } else if (tasks.length === 1) {
        server = tasks[0];
      } else {
        if (!tasks.length) throw new Error(`${service.name} has no running task.`);
        const pick = await vscode.window.showQuickPick(
          tasks.map((t) => this.taskItem(snapshot, t, client)),
          { title: `${destination.label} of ${service.name} leads to ${tasks.length} tasks: diagnose the connection to which one?` },
        );
        server = pick?.task;
      }
      if (server) await this.runDiagnosis(client, server, destination.port);
    } catch (error) {
      showError(error);
    }
  }

  async runDiagnosis(client: TaskRecord, server: TaskRecord, port: number): Promise<void> {
    const { snapshot, runner } = this.session.current();
    const clientName = this.label(snapshot, client);
    const serverName = this.label(snapshot, server);
    const title = `Diagnosis · ${clientName} → ${serverName}:${port}`;
    const report: ReportView = { kind: 'diagnosis', request: { client: `${clientName} on ${nodeOf(snapshot, client)}`, server: `${serverName} on ${nodeOf(snapshot, server)}`, port } };
    const panel = this.panels.open(`diagnosis:${client.id}:${server.id}:${port}`, title, report);
    panel.rerun = () => void this.runDiagnosis(client, server, port).catch(showError);
    const signal = panel.begin(title, report);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const captureDir = vscode.Uri.joinPath(this.context.globalStorageUri, 'diagnoses', `${stamp}-${clientName}-to-${serverName}-${port}`.replace(/[^A-Za-z0-9._-]/g, '_')).fsPath;
    await this.underProgress(panel, signal, `Diagnosing ${clientName} → ${serverName}:${port}`, async (progress) => {
      await fs.mkdir(captureDir, { recursive: true });
      const ctx: DoctorContext = { snapshot, runner, signal, progress: (message) => progress(message) };
      const diagnosis = await diagnoseConnection(ctx, { client: client.id, server: server.id, port, captureDir, timeoutSeconds: probeTimeoutSeconds() });
      return { kind: 'diagnosis', diagnosis: diagnosisView(diagnosis, panel.evidence), request: report.request } satisfies ReportView;
    });
  }

  // ---- shared -------------------------------------------------------------------------------

  /** Runs work under a cancellable notification; progress goes to both; the panel shows how it ended. */
  private async underProgress(panel: DoctorPanel, signal: AbortSignal, title: string, work: (report: (message: string, increment?: number) => void) => Promise<ReportView>): Promise<void> {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const subscription = token.onCancellationRequested(() => panel.cancel());
      try {
        const report = await work((message, increment) => {
          if (signal.aborted) return;
          progress.report({ message, increment });
          panel.progress(signal, message);
        });
        panel.end(signal, signal.aborted ? 'cancelled' : 'done', report);
      } catch (error) {
        panel.end(signal, signal.aborted ? 'cancelled' : 'failed', undefined, signal.aborted ? undefined : errorText(error));
      } finally {
        subscription.dispose();
      }
    });
  }

  dispose(): void {
    this.panels.dispose();
  }
}

/** Wires the doctor's commands, panels and evidence documents into the extension. */
export function registerDoctor(context: vscode.ExtensionContext, session: CommandSession): void {
  const documents = new EvidenceDocuments();
  const commands = new DoctorCommands(session, context, documents);
  context.subscriptions.push(
    documents,
    commands,
    vscode.workspace.registerTextDocumentContentProvider(EVIDENCE_SCHEME, documents),
    vscode.commands.registerCommand('swarmDoctor.runMatrix', (entry?: TreeEntry) => commands.runMatrixCommand(entry)),
    vscode.commands.registerCommand('swarmDoctor.runChecks', () => commands.runChecksCommand()),
    vscode.commands.registerCommand('swarmDoctor.diagnoseConnection', (entry?: TreeEntry) => commands.diagnoseCommand(entry)),
  );
}
