// The packet viewer's webview: a virtualized packet list (rows fetched in windows from the host),
// a details tree, a hex pane highlighting the selected field, a filter bar, conversations with
// their verdicts, and Follow TCP stream. Runs in the browser; the data stays in the host. The
// selection is a packet kept across filters: one a filter hides is named in the details pane,
// never shown there under a list without it (selection.ts).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { ConversationView, DetailView, HostToViewer, RowView, TimeFormat, ViewerToHost } from './protocol';
import { detailsContent, isHidden, listRebuilt, navigate, NO_SELECTION, placed, selectRow, type NavigationKey, type Selection } from './selection';

declare function acquireVsCodeApi(): { postMessage(message: ViewerToHost): void; getState(): unknown; setState(state: unknown): void };

const vscode = acquireVsCodeApi();
const send = (message: ViewerToHost) => vscode.postMessage(message);

const ROW_HEIGHT = 22;
const PAGE = 200;

const state = {
  count: 0,
  generation: 0,
  growing: false,
  /** The packet chosen, by number: kept across filters (see selection.ts). */
  selection: NO_SELECTION as Selection,
  /** A packet to select once the filter being applied comes back (a conversation's first packet). */
  choose: undefined as number | undefined,
  /** Rows by position in the (filtered) list. */
  rows: new Map<number, RowView>(),
  requested: new Set<number>(),
  follow: true,
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- layout -------------------------------------------------------------------------------

const app = document.getElementById('app')!;
const toolbar = el('div', 'toolbar');
const filterField = document.createElement('vscode-textfield') as HTMLElement & { value: string };
filterField.setAttribute('placeholder', 'Filter: ip.addr == 10.0.1.5 && tcp.flags.reset   (Enter to apply)');
filterField.className = 'filter';
const filterStatus = el('span', 'filter-status');
const timeSelect = el('select', 'time-format');
for (const [value, label] of [['relative', 'Time: since start'], ['absolute', 'Time: absolute'], ['delta', 'Time: since previous'], ['conversation', 'Time: since conversation start']] as const) {
  const option = el('option', undefined, label);
  option.value = value;
  timeSelect.append(option);
}
const conversationsButton = document.createElement('vscode-button');
conversationsButton.textContent = 'Conversations';
const exportButton = document.createElement('vscode-button');
exportButton.textContent = 'Export shown…';
exportButton.setAttribute('secondary', '');
const wiresharkButton = document.createElement('vscode-button');
wiresharkButton.textContent = 'Open in Wireshark';
wiresharkButton.setAttribute('secondary', '');
wiresharkButton.hidden = true;
toolbar.append(filterField, filterStatus, timeSelect, conversationsButton, exportButton, wiresharkButton);

const header = el('div', 'list-header');
for (const name of ['No.', 'Time', 'Source', 'Destination', 'Protocol', 'Length', 'Info']) header.append(el('span', `col col-${name.replace('.', '').toLowerCase()}`, name));
const list = el('div', 'list');
list.tabIndex = 0;
list.setAttribute('role', 'grid');
list.setAttribute('aria-label', 'Packets');
const spacer = el('div', 'spacer');
const rowsLayer = el('div', 'rows');
list.append(spacer, rowsLayer);

const lower = el('div', 'lower');
const details = el('div', 'details');
details.setAttribute('role', 'tree');
details.setAttribute('aria-label', 'Packet details');
const hex = el('pre', 'hex');
lower.append(details, hex);

const overlay = el('div', 'overlay');
overlay.hidden = true;

const status = el('div', 'statusline');
// Where the names beside the addresses come from (the capture's own, or the swarm's now).
const namesNote = el('div', 'names-note');
const footer = el('div', 'footer');
footer.append(status, namesNote);
app.append(toolbar, header, list, lower, footer, overlay);

// ---- the virtualized list ------------------------------------------------------------------

function visibleRange(): [number, number] {
  const first = Math.floor(list.scrollTop / ROW_HEIGHT);
  const visible = Math.ceil(list.clientHeight / ROW_HEIGHT) + 1;
  return [Math.max(0, first - 20), Math.min(state.count, first + visible + 20)];
}

function requestRows(start: number, end: number): void {
  for (let page = Math.floor(start / PAGE); page * PAGE < end; page++) {
    if (state.requested.has(page)) continue;
    state.requested.add(page);
    send({ type: 'rows', start: page * PAGE, count: PAGE, generation: state.generation });
  }
}

function render(): void {
  spacer.style.height = `${state.count * ROW_HEIGHT}px`;
  const [start, end] = visibleRange();
  requestRows(start, end);
  rowsLayer.replaceChildren();
  const selected = state.selection.position;
  for (let position = start; position < end; position++) {
    const row = state.rows.get(position);
    const line = el('div', `row${row?.colour ? ` colour-${row.colour}` : ''}${position === selected ? ' selected' : ''}`);
    if (position === selected) line.setAttribute('aria-selected', 'true');
    line.style.top = `${position * ROW_HEIGHT}px`;
    line.setAttribute('role', 'row');
    line.dataset.position = String(position);
    if (row) {
      for (const [name, value] of [['no', row.number], ['time', row.time], ['source', row.source], ['destination', row.destination], ['protocol', row.protocol], ['length', row.length], ['info', row.info]] as const) {
        const cell = el('span', `col col-${name}`, String(value));
        cell.title = String(value);
        line.append(cell);
      }
    } else {
      line.append(el('span', 'col loading', '…'));
    }
    rowsLayer.append(line);
  }
  // Where the selected packet would be, had the filter not hidden it: navigation goes on from here.
  if (isHidden(state.selection) && state.selection.gap >= start && state.selection.gap <= end) {
    const gap = el('div', 'hidden-selection');
    gap.style.top = `${state.selection.gap * ROW_HEIGHT}px`;
    rowsLayer.append(gap);
  }
  status.textContent = `${state.count} packets shown${state.growing ? ' · capture running, new packets arrive' : ''}`;
}

function scrollIntoView(position: number, centre = false): void {
  const top = position * ROW_HEIGHT;
  if (top >= list.scrollTop && top + ROW_HEIGHT <= list.scrollTop + list.clientHeight) return;
  if (centre) list.scrollTop = Math.max(0, top - (list.clientHeight - ROW_HEIGHT) / 2);
  else if (top < list.scrollTop) list.scrollTop = top;
  else list.scrollTop = top + ROW_HEIGHT - list.clientHeight;
}

/** Selects a row (click, keyboard); its details follow once its row has arrived. */
function select(position: number): void {
  if (position < 0 || position >= state.count) return;
  state.selection = selectRow(position, state.rows.get(position)?.number);
  scrollIntoView(position);
  render();
  showDetails();
}

list.addEventListener('scroll', () => {
  state.follow = list.scrollTop + list.clientHeight >= list.scrollHeight - ROW_HEIGHT * 2;
  render();
});
rowsLayer.addEventListener('click', (event) => {
  const line = (event.target as HTMLElement).closest<HTMLElement>('.row');
  if (line) select(Number(line.dataset.position));
  list.focus();
});
const NAVIGATION_KEYS = new Set<string>(['ArrowDown', 'ArrowUp', 'PageDown', 'PageUp', 'Home', 'End']);
list.addEventListener('keydown', (event) => {
  if (!NAVIGATION_KEYS.has(event.key)) return;
  const page = Math.max(1, Math.floor(list.clientHeight / ROW_HEIGHT) - 1);
  const target = navigate(state.selection, event.key as NavigationKey, state.count, page);
  if (target !== undefined) select(target);
  event.preventDefault();
});

// ---- details and hex -----------------------------------------------------------------------

let frameBytes: number[] = [];
/** The packet whose details are shown, or asked for (-1: none, the pane holds a message). */
let shownDetails = -1;

/** Brings the details and hex panes in line with the selection. */
function showDetails(): void {
  const content = detailsContent(state.selection, state.count, state.growing);
  if (content.kind === 'wait') return;
  if (content.kind === 'packet') {
    if (shownDetails === content.number) return;
    shownDetails = content.number;
    send({ type: 'select', number: content.number });
    return;
  }
  shownDetails = -1;
  frameBytes = [];
  details.replaceChildren(el('div', 'details-message', content.text));
  renderHex();
}

function renderHex(highlight?: { offset: number; length: number }): void {
  hex.replaceChildren();
  for (let line = 0; line < frameBytes.length; line += 16) {
    hex.append(document.createTextNode(`${line.toString(16).padStart(4, '0')}  `));
    for (let i = line; i < line + 16; i++) {
      const text = i < frameBytes.length ? frameBytes[i].toString(16).padStart(2, '0') : '  ';
      const inField = highlight && i >= highlight.offset && i < highlight.offset + highlight.length;
      const span = el('span', inField ? 'hl' : undefined, text);
      hex.append(span, document.createTextNode(i === line + 7 ? '  ' : ' '));
    }
    let ascii = '';
    for (let i = line; i < Math.min(line + 16, frameBytes.length); i++) ascii += frameBytes[i] >= 0x20 && frameBytes[i] < 0x7f ? String.fromCharCode(frameBytes[i]) : '.';
    hex.append(document.createTextNode(` ${ascii}\n`));
  }
}

function detailNode(node: DetailView, depth: number): HTMLElement {
  const item = el('div', 'detail');
  const label = el('div', 'detail-label', node.label);
  label.style.paddingLeft = `${depth * 14 + (node.children?.length ? 0 : 14)}px`;
  label.tabIndex = 0;
  label.setAttribute('role', 'treeitem');
  item.append(label);
  const children = el('div', 'detail-children');
  if (node.children?.length) {
    label.classList.add('expandable');
    label.setAttribute('aria-expanded', depth === 0 ? 'true' : 'false');
    children.hidden = depth !== 0;
    for (const child of node.children) children.append(detailNode(child, depth + 1));
    item.append(children);
  }
  const toggle = () => {
    if (!node.children?.length) return;
    children.hidden = !children.hidden;
    label.setAttribute('aria-expanded', String(!children.hidden));
  };
  label.addEventListener('click', () => {
    details.querySelectorAll('.detail-label.current').forEach((n) => n.classList.remove('current'));
    label.classList.add('current');
    renderHex({ offset: node.offset, length: node.length });
    toggle();
  });
  label.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      label.click();
      event.preventDefault();
    }
  });
  label.addEventListener('contextmenu', (event) => {
    // "Filter on this value": the field's name and value as a filter expression.
    if (node.value === undefined || !node.name) return;
    event.preventDefault();
    const value = typeof node.value === 'string' && !/^[\w.:]+$/.test(node.value) ? JSON.stringify(node.value) : String(node.value);
    applyFilter(`${node.name} == ${value}`);
  });
  label.title = node.value !== undefined && node.name ? `${node.name} == ${node.value}  (right-click: filter on this value)` : node.name;
  return item;
}

// ---- filter, conversations, stream ---------------------------------------------------------

/** Applies a filter; `choose`: the packet to select when it comes back (else the selection is kept where it can be). */
function applyFilter(expression: string, choose?: number): void {
  filterField.value = expression;
  state.choose = choose;
  send({ type: 'filter', expression });
}

filterField.addEventListener('keydown', (event: KeyboardEvent) => {
  if (event.key === 'Enter') applyFilter(filterField.value);
});
timeSelect.addEventListener('change', () => send({ type: 'timeFormat', format: timeSelect.value as TimeFormat }));
conversationsButton.addEventListener('click', () => send({ type: 'conversations' }));
exportButton.addEventListener('click', () => send({ type: 'export' }));
wiresharkButton.addEventListener('click', () => send({ type: 'wireshark' }));

function showOverlay(title: string, body: HTMLElement): void {
  overlay.replaceChildren();
  const bar = el('div', 'overlay-bar');
  bar.append(el('strong', undefined, title));
  const close = document.createElement('vscode-button');
  close.textContent = 'Close';
  close.addEventListener('click', () => (overlay.hidden = true));
  bar.append(close);
  overlay.append(bar, body);
  overlay.hidden = false;
}

function showConversations(list: ConversationView[]): void {
  const table = el('table', 'conversations');
  const head = el('tr');
  for (const name of ['Protocol', 'A', 'B', 'Packets', 'Bytes', 'Duration', 'Verdict', '']) head.append(el('th', undefined, name));
  table.append(head);
  // Failing conversations first: that is what the user came for.
  for (const c of [...list].sort((x, y) => Number(y.bad) - Number(x.bad) || x.id - y.id)) {
    const tr = el('tr', c.bad ? 'bad' : undefined);
    for (const value of [c.protocol, c.a, c.b, c.packets, c.bytes, c.duration]) tr.append(el('td', undefined, value));
    const verdict = el('td', 'verdict', c.verdict);
    verdict.title = c.verdictText;
    tr.append(verdict);
    const actions = el('td');
    const go = el('a', undefined, `#${c.firstPacket}`);
    go.href = '#';
    go.addEventListener('click', (event) => {
      event.preventDefault();
      overlay.hidden = true;
      applyFilter(`frame.number == ${c.firstPacket}`, c.firstPacket);
    });
    actions.append(go);
    if (c.protocol === 'TCP') {
      const follow = el('a', undefined, 'stream');
      follow.href = '#';
      follow.addEventListener('click', (event) => {
        event.preventDefault();
        send({ type: 'follow', conversation: c.id });
      });
      actions.append(document.createTextNode(' · '), follow);
    }
    tr.append(actions);
    table.append(tr);
    if (c.verdictText) {
      const explain = el('tr', 'explain');
      const td = el('td', undefined, c.verdictText);
      td.colSpan = 8;
      explain.append(td);
      table.append(explain);
    }
  }
  showOverlay(`Conversations (${list.length})`, table);
}

// ---- messages from the host ----------------------------------------------------------------

/** A new list (a filter, a time format): the selected packet is placed again by the host. */
function reset(count: number, generation: number): void {
  state.count = count;
  state.generation = generation;
  state.rows.clear();
  state.requested.clear();
  state.selection = listRebuilt(state.selection);
  const number = state.selection.number;
  if (number !== undefined) send({ type: 'place', number, generation });
  list.scrollTop = 0;
  render();
  showDetails();
}

window.addEventListener('message', (event: MessageEvent<HostToViewer>) => {
  const message = event.data;
  switch (message.type) {
    case 'init':
      document.title = message.fileName;
      wiresharkButton.hidden = !message.wireshark;
      namesNote.textContent = message.names ?? '';
      state.growing = message.growing;
      if (message.error) filterStatus.textContent = `Read stopped: ${message.error}`;
      state.selection = NO_SELECTION;
      reset(message.count, 0);
      if (message.count > 0) select(0);
      break;
    case 'count':
      state.growing = message.growing;
      if (message.error) filterStatus.textContent = `Read stopped: ${message.error}`;
      if (message.generation !== state.generation) {
        reset(message.count, message.generation);
      } else {
        // More packets: the last page may have been partial; fetch it again.
        const lastPage = Math.floor(state.count / PAGE);
        state.requested.delete(lastPage);
        state.count = message.count;
        render();
        // Following the tail of a running capture, as a terminal follows output.
        if (state.follow && state.growing) list.scrollTop = list.scrollHeight;
        showDetails();
      }
      break;
    case 'rows':
      if (message.generation !== state.generation) break;
      message.rows.forEach((row, i) => state.rows.set(message.start + i, row));
      render();
      // The selected row may just have arrived: its number tells which details to show.
      if (state.selection.number === undefined && state.selection.position >= message.start && state.selection.position < message.start + message.rows.length) {
        state.selection = selectRow(state.selection.position, state.rows.get(state.selection.position)!.number);
        showDetails();
      }
      break;
    case 'place': {
      if (message.generation !== state.generation) break;
      const before = state.selection;
      state.selection = placed(before, message.place);
      if (state.selection === before) break;
      if (state.selection.position >= 0) scrollIntoView(state.selection.position, true);
      else scrollIntoView(Math.min(state.selection.gap, Math.max(0, state.count - 1)), true);
      render();
      showDetails();
      break;
    }
    case 'details':
      // Only the packet selected now: a late answer about one since left (or hidden) is dropped.
      if (message.number !== shownDetails) break;
      frameBytes = message.bytes;
      details.replaceChildren(...message.layers.map((layer) => detailNode(layer, 0)));
      for (const problem of message.problems) details.append(el('div', 'problem', problem));
      renderHex();
      break;
    case 'filterResult':
      filterField.classList.toggle('invalid', !message.ok);
      filterStatus.textContent = message.ok ? (message.expression.trim() ? `${message.count} match` : '') : message.error ?? 'invalid filter';
      if (message.ok) {
        if (state.choose !== undefined) state.selection = { ...NO_SELECTION, number: state.choose };
        reset(message.count, message.generation);
      }
      state.choose = undefined;
      break;
    case 'conversations':
      showConversations(message.list);
      break;
    case 'stream': {
      const body = el('div', 'stream');
      for (const segment of message.segments) body.append(el('pre', segment.fromA ? 'from-a' : 'from-b', segment.text));
      if (!message.segments.length) body.append(el('p', undefined, 'No payload in this conversation.'));
      showOverlay(message.title, body);
      break;
    }
  }
});

window.addEventListener('resize', render);
send({ type: 'ready' });
