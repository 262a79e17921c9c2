// The matrix as it fills: cells merged in as they arrive, failing ones first. Plain data, no DOM:
// the webview renders from it and the host keeps the same state to resend after a reload.
import type { CellState, CellView, DestinationView, MatrixView, SourceView } from './protocol';

const collator = new Intl.Collator('en', { numeric: true });

/** Failing first (not-run after the real failures), then pending, then the rest. */
function rank(state: CellState, failing: boolean): number {
  if (failing) return state === 'not-run' ? 1 : 0;
  return state === 'pending' ? 2 : 3;
}

function compareCells(matrix: MatrixView): (a: CellView, b: CellView) => number {
  const destinations = new Map(matrix.destinations.map((d) => [d.key, d]));
  // Within a port, the plan's order: the tasks by address, then the VIP, then the name.
  const column = new Map(matrix.destinations.map((d, i) => [d.key, i]));
  const sources = new Map(matrix.sources.map((s) => [s.key, s]));
  return (a, b) =>
    rank(a.state, a.failing) - rank(b.state, b.failing) ||
    collator.compare(sources.get(a.source)?.node ?? a.source, sources.get(b.source)?.node ?? b.source) ||
    collator.compare(sources.get(a.source)?.label ?? '', sources.get(b.source)?.label ?? '') ||
    (destinations.get(a.destination)?.port ?? 0) - (destinations.get(b.destination)?.port ?? 0) ||
    (column.get(a.destination) ?? 0) - (column.get(b.destination) ?? 0);
}

/** Puts an arrived cell in place (adding its row or column when the plan did not have them). */
export function mergeCell(matrix: MatrixView, cell: CellView, source: SourceView, destination: DestinationView): void {
  const s = matrix.sources.findIndex((x) => x.key === source.key);
  if (s < 0) matrix.sources.push(source);
  else matrix.sources[s] = source;
  if (!matrix.destinations.some((x) => x.key === destination.key)) matrix.destinations.push(destination);
  const i = matrix.cells.findIndex((x) => x.key === cell.key);
  if (i < 0) matrix.cells.push(cell);
  else matrix.cells[i] = cell;
}

export function failingCells(matrix: MatrixView): CellView[] {
  return matrix.cells.filter((c) => c.failing).sort(compareCells(matrix));
}

export function countStates(matrix: MatrixView): Partial<Record<CellState, number>> {
  const counts: Partial<Record<CellState, number>> = {};
  for (const cell of matrix.cells) counts[cell.state] = (counts[cell.state] ?? 0) + 1;
  return counts;
}
