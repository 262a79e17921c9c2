// The doctor's report webview: a connectivity matrix (failing cells first, then the table, a cell's
// evidence on click), a check report (findings grouped by severity, the matrices probed) or a
// diagnosis (headline, fault, steps, advice). Runs in the browser; evidence stays in the host and
// is opened by key.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import { countStates, failingCells, mergeCell } from './matrixModel';
import type { CellState, CellView, ChecksView, DestinationView, DiagnosisView, DoctorToHost, EvidenceLink, FindingView, HostToDoctor, MatrixView, ReportView, RunStatus, Severity, SourceView } from './protocol';

interface SavedState {
  /** Selected cell per matrix id. */
  selected: Record<string, string>;
}

declare function acquireVsCodeApi(): { postMessage(message: DoctorToHost): void; getState(): SavedState | undefined; setState(state: SavedState): void };

const vscode = acquireVsCodeApi();
const collator = new Intl.Collator('en', { numeric: true });
const send = (message: DoctorToHost) => vscode.postMessage(message);

/** Failing cells listed before "Show N more" (the table shows them all anyway). */
const FAILING_SHOWN = 8;

const page: { report?: ReportView; status: RunStatus; selected: Record<string, string>; expanded: Set<string> } = {
  expanded: new Set(),
  status: { state: 'running', progress: [] },
  selected: vscode.getState()?.selected ?? {},
};

// ---- DOM helpers ----------------------------------------------------------------------------

type Child = Node | string | false | null | undefined;
type Props = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

function h(tag: string, props: Props = {}, ...children: (Child | Child[])[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') node.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === 'class') node.className = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === false || child === null || child === undefined) continue;
    node.append(child);
  }
  return node;
}

function button(label: string, onClick: () => void, props: Props = {}): HTMLElement {
  return h('vscode-button', { ...props, onClick: () => onClick() }, label);
}

const STATE_TEXT: Record<CellState, { glyph: string; word: string }> = {
  connected: { glyph: '✓', word: 'connected' },
  refused: { glyph: '✕', word: 'refused' },
  timeout: { glyph: '◷', word: 'timed out' },
  unreachable: { glyph: '⊘', word: 'unreachable' },
  'lookup-failed': { glyph: '?', word: 'lookup failed' },
  error: { glyph: '!', word: 'probe error' },
  'not-run': { glyph: '–', word: 'not run' },
  pending: { glyph: '…', word: 'probing' },
};

/** A cell still pending when the run ended was never probed (cancelled or failed run). */
const NOT_PROBED = { glyph: '–', word: 'not probed' };

function stateText(state: CellState, running = true): { glyph: string; word: string } {
  return state === 'pending' && !running ? NOT_PROBED : STATE_TEXT[state];
}

function stateBadge(state: CellState): HTMLElement {
  const text = stateText(state, page.status.state === 'running');
  return h('span', { class: `state-badge state-${state}` }, h('span', { class: 'glyph', 'aria-hidden': 'true' }, text.glyph), ` ${text.word}`);
}

function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function saveState(): void {
  vscode.setState({ selected: page.selected });
}

// ---- evidence -------------------------------------------------------------------------------

const KIND_TEXT: Record<EvidenceLink['kind'], string> = { command: 'output', capture: 'capture', note: 'note' };

function evidenceLink(link: EvidenceLink): HTMLElement {
  return h(
    'button',
    { class: 'evidence-link', type: 'button', 'data-testid': 'evidence-link', 'data-kind': link.kind, title: link.kind === 'capture' ? 'Open in the packet viewer' : 'Open as a read-only document', onClick: () => send({ type: 'openEvidence', key: link.key }) },
    h('span', { class: `kind kind-${link.kind}` }, KIND_TEXT[link.kind]),
    h('span', { class: 'evidence-title' }, link.title),
    link.where ? h('span', { class: 'evidence-where' }, link.where) : null,
  );
}

function evidenceList(links: EvidenceLink[], testid = 'evidence-list'): HTMLElement | null {
  if (!links.length) return null;
  return h('ul', { class: 'evidence', 'data-testid': testid }, links.map((link) => h('li', {}, evidenceLink(link))));
}

// ---- the matrix -----------------------------------------------------------------------------

function destinationHeading(d: DestinationView): HTMLElement {
  const sub = d.kind === 'task' ? [d.node, d.address].filter(Boolean).join(' · ') : d.kind === 'vip' ? d.address ?? '' : d.name ?? '';
  const label = d.kind === 'name' ? 'by name' : d.label;
  return h('th', { scope: 'col', class: `dest dest-${d.kind}`, title: `${d.label}${d.address ? ` ${d.address}` : ''}:${d.port}` }, h('div', { class: 'dest-label' }, label), h('div', { class: 'sub' }, sub));
}

/** The probing task's heading; the node's heading spans the rows of its tasks. */
function sourceHeadings(s: SourceView, nodeRows: number): HTMLElement[] {
  const cells: HTMLElement[] = [];
  if (nodeRows > 0) cells.push(h('th', { scope: 'rowgroup', rowspan: String(nodeRows), class: 'source-node' }, s.node));
  const label = s.problem ? h('div', { class: 'sub' }, s.problem) : h('div', {}, s.label, s.address ? h('div', { class: 'sub' }, s.address) : null);
  cells.push(h('th', { scope: 'row', class: `source${s.problem ? ' source-problem' : ''}` }, label));
  return cells;
}

function cellLabel(matrix: MatrixView, cell: CellView): string {
  const s = matrix.sources.find((x) => x.key === cell.source);
  const d = matrix.destinations.find((x) => x.key === cell.destination);
  return `${s ? `${s.node} (${s.label})` : cell.source} → ${d ? `${d.kind === 'name' ? `name ${d.name}` : d.label}${d.address ? ` ${d.address}` : ''}:${d.port}` : cell.destination}`;
}

function selectCell(matrix: MatrixView, key: string, focusDetail: boolean, reveal = focusDetail): void {
  page.selected[matrix.id] = key;
  saveState();
  const section = document.querySelector<HTMLElement>(`[data-matrix-id="${CSS.escape(matrix.id)}"]`);
  if (!section) return;
  for (const el of section.querySelectorAll<HTMLElement>('[data-cell-key]')) {
    const on = el.dataset.cellKey === key;
    el.classList.toggle('selected', on);
    if (el.tagName === 'BUTTON' && el.classList.contains('cell')) {
      el.setAttribute('aria-pressed', String(on));
      if (on) {
        for (const other of section.querySelectorAll<HTMLElement>('button.cell')) other.tabIndex = -1;
        el.tabIndex = 0;
      }
    }
  }
  const old = section.querySelector('.cell-detail');
  const detail = cellDetail(matrix, matrix.cells.find((c) => c.key === key));
  old?.replaceWith(detail);
  if (reveal) detail.scrollIntoView({ block: 'nearest' });
  if (focusDetail) detail.querySelector<HTMLElement>('h3')?.focus({ preventScroll: true });
}

function cellDetail(matrix: MatrixView, cell: CellView | undefined): HTMLElement {
  if (!cell) {
    return h('aside', { class: 'cell-detail empty', 'data-testid': 'cell-detail', 'aria-live': 'polite' }, h('p', { class: 'hint' }, 'Select a cell to see what its probe saw: the packets, who answered, and the evidence.'));
  }
  const actions = h('div', { class: 'actions' });
  if (cell.evidence.length === 1) actions.append(button('Open evidence', () => send({ type: 'openEvidence', key: cell.evidence[0].key }), { 'data-testid': 'open-evidence', secondary: true }));
  if (cell.state !== 'pending') {
    actions.append(
      button('Diagnose this connection', () => send({ type: 'diagnose', cell: cell.key }), {
        'data-testid': 'diagnose-cell',
        secondary: !cell.failing,
        disabled: cell.diagnoseBlocked !== undefined,
        title: cell.diagnoseBlocked ?? 'Probe again while capturing at both ends and reading the firewall counters, and say where the connection stops',
      }),
    );
  }
  return h(
    'aside',
    { class: `cell-detail state-${cell.state}`, 'data-testid': 'cell-detail', 'data-state': cell.state, 'aria-live': 'polite' },
    h('h3', { tabindex: '-1' }, cellLabel(matrix, cell)),
    h('p', { class: 'state-line' }, stateBadge(cell.state), h('span', { class: 'summary', 'data-testid': 'cell-summary' }, cell.summary)),
    cell.durationMs ? h('p', { class: 'duration' }, `The probe took ${formatMs(cell.durationMs)} (helper start included).`) : null,
    cell.facts.length ? h('dl', { class: 'facts' }, cell.facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])) : null,
    cell.trace.length ? [h('h4', {}, `Packet trace (${cell.trace.length} line${cell.trace.length === 1 ? '' : 's'}, seconds since the first)`), traceBlock(cell.trace, 'cell-trace')] : null,
    cell.evidence.length > 1 ? [h('h4', {}, 'Evidence'), evidenceList(cell.evidence)] : null,
    actions,
    cell.diagnoseBlocked && cell.state !== 'pending' ? h('p', { class: 'hint' }, cell.diagnoseBlocked) : null,
  );
}

function matrixSummary(matrix: MatrixView, running: boolean): HTMLElement {
  const counts = countStates(matrix);
  const order: CellState[] = ['refused', 'timeout', 'unreachable', 'lookup-failed', 'error', 'not-run', 'pending', 'connected'];
  return h(
    'p',
    { class: 'counts', 'data-testid': 'matrix-counts' },
    order.filter((s) => counts[s]).map((s) => h('span', { class: `count state-${s}`, 'data-state': s }, `${counts[s]} ${stateText(s, running).word}`)),
  );
}

function renderMatrix(matrix: MatrixView, options: { heading: boolean; running: boolean }): HTMLElement {
  const sources = [...matrix.sources].sort((a, b) => collator.compare(a.node, b.node));
  const destinations = matrix.destinations;
  const cells = new Map(matrix.cells.map((c) => [`${c.source}\u0000${c.destination}`, c]));
  const failing = failingCells(matrix);

  const section = h('section', { class: 'matrix', 'data-testid': 'matrix', 'data-matrix-id': matrix.id, 'data-complete': String(matrix.complete) });
  if (options.heading) section.append(h('h2', {}, `${matrix.service} on ${matrix.network}`, h('span', { class: 'sub' }, ` tcp ${matrix.ports.join(', ')}`)));
  section.append(matrixSummary(matrix, options.running));

  // Failing cells first: what to look at.
  const failingList = h('section', { class: 'failing', 'data-testid': 'failing-cells', 'aria-label': 'Failing cells' });
  if (failing.length) {
    const expanded = page.expanded.has(matrix.id) || failing.length <= FAILING_SHOWN + 1;
    const shown = expanded ? failing : failing.slice(0, FAILING_SHOWN);
    const items = shown.map((cell) =>
      h(
        'li',
        {},
        h(
          'button',
          { type: 'button', class: `failing-item state-${cell.state}`, 'data-testid': 'failing-cell', 'data-state': cell.state, 'data-cell-key': cell.key, 'data-focus-key': `f:${cell.key}`, onClick: () => selectCell(matrix, cell.key, true) },
          stateBadge(cell.state),
          h('span', { class: 'route' }, cellLabel(matrix, cell), h('span', { class: 'summary' }, cell.summary)),
        ),
      ),
    );
    failingList.append(h('h3', {}, `Failing cells (${failing.length})`), h('ol', {}, items));
    if (!expanded) {
      const more = failing.length - shown.length;
      const showAll = () => {
        page.expanded.add(matrix.id);
        render();
      };
      failingList.append(h('button', { type: 'button', class: 'more', 'data-testid': 'failing-more', 'data-focus-key': `more:${matrix.id}`, onClick: showAll }, `Show ${more} more failing cell${more === 1 ? '' : 's'}`));
    }
  } else {
    const done = matrix.complete || !options.running;
    const text = done ? (matrix.cells.length ? '✓ No failing cell: every probing task reached every destination.' : 'No cell was probed.') : 'No failing cell so far.';
    failingList.append(h('p', { class: `all-good${done ? '' : ' so-far'}`, 'data-testid': 'no-failing' }, text));
  }

  // The table: rows are source nodes, columns the destinations grouped by port.
  const ports = [...new Set(destinations.map((d) => d.port))];
  const table = h('table', { class: 'grid', 'data-testid': 'matrix-table', 'aria-label': `Connectivity to ${matrix.service}` });
  const groupRow = h('tr', {}, h('th', { rowspan: '2', scope: 'col', class: 'corner' }, 'From node'), h('th', { rowspan: '2', scope: 'col', class: 'corner' }, 'Probing task'));
  for (const port of ports) groupRow.append(h('th', { scope: 'colgroup', colspan: String(destinations.filter((d) => d.port === port).length), class: 'port' }, `tcp ${port}`));
  const destRow = h('tr', {}, destinations.map(destinationHeading));
  table.append(h('thead', {}, groupRow, destRow));
  const body = h('tbody');
  sources.forEach((source, row) => {
    const first = row === 0 || sources[row - 1].node !== source.node;
    let span = 0;
    if (first) while (row + span < sources.length && sources[row + span].node === source.node) span++;
    const tr = h('tr', { class: first ? 'node-first' : '' }, sourceHeadings(source, span));
    destinations.forEach((destination, col) => {
      const cell = cells.get(`${source.key}\u0000${destination.key}`);
      if (!cell) {
        tr.append(h('td', { class: 'empty' }, ''));
        return;
      }
      const text = stateText(cell.state, options.running);
      tr.append(
        h(
          'td',
          {},
          h(
            'button',
            {
              type: 'button',
              class: `cell state-${cell.state}${cell.state === 'pending' && !options.running ? ' not-probed' : ''}`,
              'data-testid': 'matrix-cell',
              'data-state': cell.state,
              'data-source': source.node,
              'data-destination': destination.kind === 'name' ? `name ${destination.name}` : destination.label,
              'data-port': String(destination.port),
              'data-cell-key': cell.key,
              'data-focus-key': `c:${cell.key}`,
              'data-row': String(row),
              'data-col': String(col),
              'aria-pressed': 'false',
              'aria-label': `${cellLabel(matrix, cell)}: ${cell.summary}`,
              title: cell.summary,
              onClick: () => selectCell(matrix, cell.key, false, true),
              onKeydown: (event: Event) => moveInGrid(table, event as KeyboardEvent, row, col),
            },
            h('span', { class: 'glyph', 'aria-hidden': 'true' }, text.glyph),
            h('span', { class: 'word' }, cell.state === 'connected' ? briefConnected(cell) : text.word),
          ),
        ),
      );
    });
    body.append(tr);
  });
  table.append(body);

  const main = h('div', { class: 'matrix-main' }, failingList, h('div', { class: 'table-wrap' }, table));
  if (matrix.notes.length) main.append(h('ul', { class: 'notes', 'data-testid': 'matrix-notes' }, matrix.notes.map((n) => h('li', {}, n))));
  const selected = matrix.cells.find((c) => c.key === page.selected[matrix.id]);
  const cellButtons = [...table.querySelectorAll<HTMLElement>('button.cell')];
  const stop = cellButtons.find((b) => b.dataset.cellKey === selected?.key) ?? cellButtons[0];
  for (const b of cellButtons) b.tabIndex = b === stop ? 0 : -1;
  section.append(h('div', { class: 'matrix-body' }, main, cellDetail(matrix, selected)));
  if (selected) {
    for (const el of section.querySelectorAll<HTMLElement>(`[data-cell-key="${CSS.escape(selected.key)}"]`)) {
      el.classList.add('selected');
      if (el.classList.contains('cell')) el.setAttribute('aria-pressed', 'true');
    }
  }
  return section;
}

/** tcpdump's lines, epoch timestamps turned into seconds since the first packet (shorter, and what one compares). */
function traceBlock(lines: string[], testid: string): HTMLElement {
  const t0 = Number(lines.map((l) => /^(\d+\.\d+)\s/.exec(l)).find((m) => m)?.[1] ?? NaN);
  return h(
    'div',
    { class: 'trace', 'data-testid': testid, tabindex: '0', role: 'log', 'aria-label': 'Packet trace' },
    lines.map((line) => {
      const m = /^(\d+\.\d+)\s+(.*)$/.exec(line);
      return m && !Number.isNaN(t0) ? h('div', { class: 'trace-line', title: line }, h('span', { class: 'time' }, (Number(m[1]) - t0).toFixed(3)), m[2]) : h('div', { class: 'trace-line' }, line);
    }),
  );
}

function briefConnected(cell: CellView): string {
  const rtt = cell.facts.find(([k]) => k === 'SYN → SYN-ACK')?.[1];
  return rtt ? `ok ${rtt}` : 'ok';
}

/** Arrow keys move between cells; Home/End to the row's ends. */
function moveInGrid(table: HTMLElement, event: KeyboardEvent, row: number, col: number): void {
  const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  let target: HTMLElement | null = null;
  if (moves[event.key]) {
    const [dr, dc] = moves[event.key];
    target = table.querySelector<HTMLElement>(`button.cell[data-row="${row + dr}"][data-col="${col + dc}"]`);
  } else if (event.key === 'Home' || event.key === 'End') {
    const inRow = [...table.querySelectorAll<HTMLElement>(`button.cell[data-row="${row}"]`)];
    target = event.key === 'Home' ? inRow[0] : inRow[inRow.length - 1];
  }
  if (target) {
    event.preventDefault();
    // Roving tab stop: the grid is one stop on Tab, arrows move inside it.
    (event.currentTarget as HTMLElement).tabIndex = -1;
    target.tabIndex = 0;
    target.focus();
  }
}

// ---- findings -------------------------------------------------------------------------------

const SEVERITIES: { severity: Severity; title: string; one: string; glyph: string }[] = [
  { severity: 'error', title: 'Errors', one: 'error', glyph: '✕' },
  { severity: 'warning', title: 'Warnings', one: 'warning', glyph: '▲' },
  { severity: 'unavailable', title: 'Could not check', one: 'could not check', glyph: '–' },
  { severity: 'info', title: 'Information', one: 'information', glyph: 'i' },
  { severity: 'ok', title: 'OK', one: 'ok', glyph: '✓' },
];

function renderFinding(finding: FindingView): HTMLElement {
  const glyph = SEVERITIES.find((s) => s.severity === finding.severity)?.glyph ?? '';
  return h(
    'article',
    { class: `finding sev-${finding.severity}`, 'data-testid': 'finding', 'data-severity': finding.severity, 'data-check': finding.check },
    h('header', {}, h('span', { class: 'sev-glyph', 'aria-hidden': 'true' }, glyph), h('h4', {}, finding.title), h('span', { class: 'check', title: 'check' }, finding.check)),
    finding.nodes.length ? h('p', { class: 'nodes' }, h('span', { class: 'label' }, finding.nodes.length > 1 ? 'Nodes: ' : 'Node: '), finding.nodes.join(', ')) : null,
    h('p', { class: 'explanation' }, finding.explanation),
    finding.fix ? h('p', { class: 'fix' }, h('span', { class: 'label' }, 'Fix: '), finding.fix) : null,
    evidenceList(finding.evidence),
  );
}

function renderFindings(findings: FindingView[], testid = 'findings'): HTMLElement {
  const section = h('section', { class: 'findings', 'data-testid': testid });
  const counts = h('p', { class: 'counts' });
  for (const { severity, title, one } of SEVERITIES) {
    const group = findings.filter((f) => f.severity === severity);
    if (!group.length) continue;
    counts.append(h('span', { class: `count sev-${severity}` }, `${group.length} ${group.length === 1 ? one : title.toLowerCase()}`));
    section.append(h('section', { class: `severity-group sev-${severity}`, 'data-testid': 'severity-group', 'data-severity': severity }, h('h3', {}, `${title} (${group.length})`), group.map(renderFinding)));
  }
  if (!findings.length) section.append(h('p', { class: 'hint' }, 'No findings.'));
  section.prepend(counts);
  return section;
}

function renderChecks(report: ChecksView | undefined, running: boolean): HTMLElement {
  if (!report) return h('section', { class: 'placeholder' }, h('p', { class: 'hint' }, running ? 'Checking membership, ports between nodes, network state, load balancers, MTU, firewalls and connectivity on every node…' : 'No report.'));
  const worst = SEVERITIES.find((s) => report.findings.some((f) => f.severity === s.severity));
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  return h(
    'div',
    { class: 'checks' },
    h('p', { class: `verdict sev-${worst?.severity ?? 'ok'}`, 'data-testid': 'checks-verdict' }, errors ? `${errors} error${errors === 1 ? '' : 's'} found.` : report.findings.some((f) => f.severity === 'warning') ? 'No error; some warnings.' : 'No error, no warning.'),
    renderFindings(report.findings),
    report.matrices.length ? h('section', { class: 'matrices' }, h('h2', {}, 'Connectivity'), report.matrices.map((m) => renderMatrix(m, { heading: true, running: false }))) : null,
    report.checks.length
      ? h('details', { class: 'checks-run' }, h('summary', {}, `Checks run (${report.checks.length}) in ${formatMs(report.durationMs)}`), h('table', { class: 'plain' }, h('tbody', {}, report.checks.map((c) => h('tr', {}, h('td', {}, c.name), h('td', { class: 'num' }, formatMs(c.durationMs)))))))
      : null,
  );
}

// ---- diagnosis ------------------------------------------------------------------------------

const VERDICT_TEXT: Record<DiagnosisView['steps'][number]['verdict'], { glyph: string; word: string }> = {
  ok: { glyph: '✓', word: 'ok' },
  fault: { glyph: '✕', word: 'fault' },
  info: { glyph: 'i', word: 'info' },
  unknown: { glyph: '?', word: 'unknown' },
};

function renderDiagnosis(report: Extract<ReportView, { kind: 'diagnosis' }>, running: boolean): HTMLElement {
  const d = report.diagnosis;
  if (!d) {
    return h(
      'section',
      { class: 'diagnosis placeholder' },
      h('p', { class: 'ends' }, h('span', { class: 'end' }, report.request.client), ' → ', h('span', { class: 'end' }, report.request.server), `, tcp ${report.request.port}`),
      h('p', { class: 'hint' }, running ? 'Probing from the client while capturing at both ends and reading the firewall counters before and after…' : 'No diagnosis.'),
    );
  }
  const faulty = d.steps.some((s) => s.verdict === 'fault') || d.faultNode !== undefined;
  const end = (e: DiagnosisView['client']) => h('span', { class: 'end' }, h('strong', {}, e.task), ` on ${e.node}`, e.address ? h('span', { class: 'sub' }, ` ${e.address}`) : null);
  return h(
    'section',
    { class: 'diagnosis', 'data-testid': 'diagnosis' },
    h('p', { class: 'ends', 'data-testid': 'diagnosis-ends' }, end(d.client), ' → ', end(d.server), `, tcp ${d.port}`),
    h('h2', { class: `headline ${faulty ? 'fault' : 'ok'}`, 'data-testid': 'diagnosis-headline' }, d.headline),
    d.faultNode || d.faultHop
      ? h('dl', { class: 'fault-box', 'data-testid': 'diagnosis-fault' }, d.faultNode ? [h('dt', {}, 'Faulty node'), h('dd', { 'data-testid': 'fault-node' }, d.faultNode)] : null, d.faultHop ? [h('dt', {}, 'Hop'), h('dd', { 'data-testid': 'fault-hop' }, d.faultHop)] : null)
      : null,
    d.probe ? h('section', { class: 'probe' }, h('h3', {}, 'Probe'), h('p', { class: 'state-line' }, stateBadge(d.probe.state), h('span', { class: 'summary' }, d.probe.summary)), d.probe.trace.length ? traceBlock(d.probe.trace, 'probe-trace') : null) : null,
    d.steps.length
      ? h(
          'section',
          { class: 'steps' },
          h('h3', {}, 'Along the way'),
          h(
            'ol',
            {},
            d.steps.map((s) =>
              h(
                'li',
                { class: `step verdict-${s.verdict}`, 'data-testid': 'diagnosis-step', 'data-verdict': s.verdict },
                h('span', { class: 'verdict' }, h('span', { class: 'glyph', 'aria-hidden': 'true' }, VERDICT_TEXT[s.verdict].glyph), ` ${VERDICT_TEXT[s.verdict].word}`),
                h('div', { class: 'step-body' }, h('strong', {}, s.title), h('p', {}, s.text), evidenceList(s.evidence)),
              ),
            ),
          ),
        )
      : null,
    d.advice.length ? h('section', { class: 'advice' }, h('h3', {}, 'What to do'), h('ol', { 'data-testid': 'diagnosis-advice' }, d.advice.map((a) => h('li', {}, a)))) : null,
    d.findings.length ? h('section', {}, h('h3', {}, 'Findings'), renderFindings(d.findings, 'diagnosis-findings')) : null,
    d.evidence.length ? h('section', {}, h('h3', {}, 'Evidence'), evidenceList(d.evidence, 'diagnosis-evidence')) : null,
    h('p', { class: 'meta' }, `Started ${new Date(d.startedAt).toLocaleString()} · took ${formatMs(d.durationMs)}`),
  );
}

// ---- the page -------------------------------------------------------------------------------

const app = document.getElementById('app')!;

function statusBar(): HTMLElement {
  const status = page.status;
  const bar = h('div', { class: `status status-${status.state}`, 'data-testid': 'report-status', 'data-state': status.state, role: 'status' });
  if (status.state === 'running') {
    bar.append(h('vscode-progress-ring', { class: 'ring', 'aria-hidden': 'true' }), h('span', { class: 'progress-text' }, status.progress[status.progress.length - 1] ?? 'Starting…'), button('Cancel', () => send({ type: 'cancel' }), { secondary: true, 'data-testid': 'cancel' }));
  } else {
    const word = status.state === 'done' ? 'Done' : status.state === 'cancelled' ? 'Cancelled' : 'Failed';
    bar.append(h('span', { class: 'progress-text' }, word), button('Run again', () => send({ type: 'rerun' }), { secondary: true, 'data-testid': 'rerun' }));
  }
  return bar;
}

function subtitle(report: ReportView): string {
  switch (report.kind) {
    case 'matrix': {
      const m = report.matrix;
      const from = report.request.clientService ? `from the tasks of ${report.request.clientService}` : 'from a task on each node';
      const ports = m?.ports.length ? m.ports : report.request.ports ?? [];
      return [m?.network ? `network ${m.network}` : '', ports.length ? `tcp ${ports.join(', ')}` : '', from, m?.durationMs !== undefined ? `took ${formatMs(m.durationMs)}` : ''].filter(Boolean).join(' · ');
    }
    case 'checks':
      return report.report ? `${report.report.findings.length} findings · took ${formatMs(report.report.durationMs)}` : 'every node of the swarm';
    case 'diagnosis':
      return `${report.request.client} → ${report.request.server}, tcp ${report.request.port}`;
  }
}

function heading(report: ReportView): string {
  switch (report.kind) {
    case 'matrix':
      return `Connectivity matrix · ${report.request.service}`;
    case 'checks':
      return 'Swarm network checks';
    case 'diagnosis':
      return 'Connection diagnosis';
  }
}

function render(): void {
  const report = page.report;
  if (!report) return;
  const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.focusKey;
  const scroll = document.scrollingElement?.scrollTop ?? 0;
  const running = page.status.state === 'running';
  const progress = page.status.progress;
  const header = h(
    'header',
    { class: 'report-header' },
    h('div', { class: 'titles' }, h('h1', { 'data-testid': 'report-title' }, heading(report)), h('p', { class: 'subtitle' }, subtitle(report))),
    statusBar(),
  );
  const content: Child[] = [header];
  if (page.status.error) content.push(h('div', { class: 'error-box', role: 'alert', 'data-testid': 'report-error' }, page.status.error));
  switch (report.kind) {
    case 'matrix':
      content.push(report.matrix ? renderMatrix(report.matrix, { heading: false, running }) : h('p', { class: 'hint' }, running ? 'Planning the probes…' : 'No matrix.'));
      break;
    case 'checks':
      content.push(renderChecks(report.report, running));
      break;
    case 'diagnosis':
      content.push(renderDiagnosis(report, running));
      break;
  }
  if (running && progress.length && report.kind !== 'matrix') {
    content.push(h('ul', { class: 'progress-log', 'aria-label': 'Progress', 'data-testid': 'progress-log' }, progress.map((m, i) => h('li', { class: i === progress.length - 1 ? 'current' : 'done' }, h('span', { class: 'glyph', 'aria-hidden': 'true' }, i === progress.length - 1 ? '…' : '✓'), ` ${m}`))));
  }
  app.replaceChildren(...content.filter((c): c is Node => c instanceof Node));
  if (focusKey) app.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus({ preventScroll: true });
  if (document.scrollingElement) document.scrollingElement.scrollTop = scroll;
}

/** Only the status bar changes while checks run; the rest stays (and keeps focus). */
function renderStatus(): void {
  const old = app.querySelector('[data-testid="report-status"]');
  if (!old || page.report?.kind !== 'matrix') return render();
  old.replaceWith(statusBar());
}

window.addEventListener('message', (event: MessageEvent<HostToDoctor>) => {
  const message = event.data;
  switch (message.type) {
    case 'show': {
      page.report = message.report;
      page.status = message.status;
      // A finished matrix with failures: show the first failing cell's evidence straight away.
      const m = message.report.kind === 'matrix' ? message.report.matrix : undefined;
      if (m?.complete && !m.cells.some((c) => c.key === page.selected[m.id])) {
        const first = failingCells(m).find((c) => c.state !== 'not-run');
        if (first) page.selected[m.id] = first.key;
        else delete page.selected[m.id];
        saveState();
      }
      render();
      break;
    }
    case 'cell': {
      const report = page.report;
      if (report?.kind !== 'matrix') break;
      report.matrix ??= { id: message.matrix, service: report.request.service, network: '', ports: [], sources: [], destinations: [], cells: [], notes: [], complete: false };
      mergeCell(report.matrix, message.cell, message.source, message.destination);
      render();
      break;
    }
    case 'status':
      page.status = message.status;
      renderStatus();
      break;
  }
});

send({ type: 'ready' });
