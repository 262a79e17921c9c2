// The doctor's report panels (a connectivity matrix, a check report, a diagnosis). Each panel keeps
// its report as plain views and resends it whenever the webview (re)loads; cells of a running
// matrix are posted as they arrive. Evidence stays here and is opened on the webview's request.
import * as vscode from 'vscode';
import type { MatrixCell } from '../../doctor/matrix';
import { mergeCell } from '../../webview/doctor/matrixModel';
import type { DoctorToHost, HostToDoctor, MatrixView, ReportView, RunStatus } from '../../webview/doctor/protocol';
import { webviewPage } from '../webviewPage';
import type { EvidenceDocuments } from './evidenceDocuments';
import { cellView, destinationView, EvidenceKeys, sourceView, type AddressNamer } from './reportViews';

const MAX_PROGRESS_LINES = 12;

/** A matrix cell and the service it probed, for "Diagnose this connection". */
export interface CellRef {
  cell: MatrixCell;
  service: string;
}

interface PanelActions {
  diagnose(ref: CellRef): void;
}

export class DoctorPanel {
  readonly evidence: EvidenceKeys;
  private readonly cells = new Map<string, CellRef>();
  private status: RunStatus = { state: 'running', progress: [] };
  private ready = false;
  private abort: AbortController | undefined;
  private disposed = false;
  /** Runs the same request again (set by whoever started the panel's run). */
  rerun: (() => void) | undefined;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private title: string,
    private report: ReportView,
    private readonly documents: EvidenceDocuments,
    private readonly actions: PanelActions,
    id: number,
  ) {
    this.evidence = new EvidenceKeys(`p${id}`);
    panel.webview.onDidReceiveMessage((message: DoctorToHost) => this.receive(message));
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** A new run in this panel: the previous one (if still running) is cancelled. */
  begin(title: string, report: ReportView): AbortSignal {
    this.abort?.abort();
    this.abort = new AbortController();
    this.title = title;
    this.panel.title = title;
    this.report = report;
    this.cells.clear();
    this.evidence.clear();
    this.status = { state: 'running', progress: [] };
    this.post({ type: 'show', title, report, status: this.status });
    this.panel.reveal(undefined, false);
    return this.abort.signal;
  }

  /** The run's signal aborts too when the user cancels from the notification. */
  cancel(): void {
    this.abort?.abort();
  }

  private isCurrent(run: AbortSignal): boolean {
    return this.abort?.signal === run && !this.disposed;
  }

  progress(run: AbortSignal, message: string): void {
    if (!this.isCurrent(run)) return;
    this.status = { ...this.status, progress: [...this.status.progress, message].slice(-MAX_PROGRESS_LINES) };
    this.post({ type: 'status', status: this.status });
  }

  /** One matrix cell as it arrives. */
  cell(run: AbortSignal, matrixId: string, service: string, cell: MatrixCell, nameOf?: AddressNamer): void {
    if (!this.isCurrent(run) || this.report.kind !== 'matrix') return;
    const view = cellView(matrixId, cell, this.evidence, nameOf);
    this.cells.set(view.key, { cell, service });
    const source = sourceView(cell.source);
    const destination = destinationView(cell.destination);
    this.report.matrix ??= { id: matrixId, service, network: '', ports: [], sources: [], destinations: [], cells: [], notes: [], complete: false };
    mergeCell(this.report.matrix, view, source, destination);
    this.post({ type: 'cell', matrix: matrixId, cell: view, source, destination });
  }

  /** Remembers the cells of a finished matrix, so the webview can ask to diagnose any of them. */
  registerCells(run: AbortSignal, matrix: MatrixView, cells: readonly MatrixCell[], service: string): void {
    if (this.isCurrent(run)) matrix.cells.forEach((view, i) => this.cells.set(view.key, { cell: cells[i], service }));
  }

  /** The run ended: its final report (when there is one) and how it ended. A superseded run says nothing. */
  end(run: AbortSignal, state: RunStatus['state'], report?: ReportView, error?: string): void {
    if (!this.isCurrent(run)) return;
    if (report) this.report = report;
    this.status = { state, progress: this.status.progress, error };
    this.abort = undefined;
    this.post({ type: 'show', title: this.title, report: this.report, status: this.status });
  }

  private post(message: HostToDoctor): void {
    if (this.ready && !this.disposed) void this.panel.webview.postMessage(message);
  }

  private receive(message: DoctorToHost): void {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.post({ type: 'show', title: this.title, report: this.report, status: this.status });
        break;
      case 'openEvidence': {
        const evidence = this.evidence.get(message.key);
        if (!evidence) {
          void vscode.window.showWarningMessage('That evidence is gone: run the doctor again.');
          break;
        }
        this.documents.open(evidence).then(undefined, (error: Error) => void vscode.window.showErrorMessage(`Cannot open the evidence: ${error.message}`));
        break;
      }
      case 'diagnose': {
        const ref = this.cells.get(message.cell);
        if (ref) this.actions.diagnose(ref);
        else void vscode.window.showWarningMessage('That cell is gone: run the matrix again.');
        break;
      }
      case 'cancel':
        this.cancel();
        break;
      case 'rerun':
        if (this.status.state !== 'running') this.rerun?.();
        break;
    }
  }

  markDisposed(): void {
    this.disposed = true;
    this.abort?.abort();
    this.cells.clear();
    this.evidence.clear();
  }
}

/** One panel per subject (a service's matrix, the checks, a connection's diagnosis), reused on re-runs. */
export class DoctorPanels implements vscode.Disposable {
  private readonly panels = new Map<string, DoctorPanel>();
  private counter = 0;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly documents: EvidenceDocuments,
    private readonly actions: PanelActions,
  ) {}

  open(key: string, title: string, report: ReportView): DoctorPanel {
    const existing = this.panels.get(key);
    if (existing && !existing.isDisposed) return existing;
    const roots = [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media', 'doctor')];
    const panel = vscode.window.createWebviewPanel('swarmDoctor.report', title, vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: roots });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'swarm-doctor.svg');
    const doctorPanel = new DoctorPanel(panel, title, report, this.documents, this.actions, ++this.counter);
    panel.onDidDispose(() => {
      doctorPanel.markDisposed();
      if (this.panels.get(key) === doctorPanel) this.panels.delete(key);
    });
    panel.webview.html = webviewPage(panel.webview, {
      title: 'Swarm Doctor report',
      style: vscode.Uri.joinPath(this.extensionUri, 'media', 'doctor', 'doctor.css'),
      script: vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'doctor.js'),
      module: true,
      body: '<div id="app" data-testid="doctor-report"></div>',
    });
    this.panels.set(key, doctorPanel);
    return doctorPanel;
  }

  dispose(): void {
    for (const panel of this.panels.values()) panel.panel.dispose();
    this.panels.clear();
  }
}
