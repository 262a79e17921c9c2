// Side by side: the same command's output from several places, aligned line by line, with the
// lines that are not the same everywhere marked. How an engineer spots the one node that differs.

export interface CompareColumn {
  label: string;
  text: string;
}

export interface CompareRow {
  /** The line as each column has it, or undefined where that column lacks it. */
  cells: (string | undefined)[];
  /** Some column lacks this line. */
  missing: boolean;
  /** Every column has a line of this shape, but their numbers (addresses, counters) differ. */
  changed: boolean;
  /** missing, or changed unless numbers are ignored. */
  differs: boolean;
}

export interface CompareOptions {
  /** Treat numbers as equal (packet counters, timers, addresses...): only missing lines differ. */
  ignoreNumbers?: boolean;
}

const spaces = (line: string) => line.trim().replace(/\s+/g, ' ');
/** Lines are aligned by shape: numbers (counters, addresses, ports) masked, so a route to another subnet pairs up. */
const shape = (line: string) => spaces(line).replace(/\d+(?:[.:]\d+)*[KMG]?/g, '#');

/**
 * Aligns lines by content: rows follow the first column's order, and a line another column has
 * that the rows lack is placed after the row of its predecessor in that column.
 */
export function compareOutputs(columns: CompareColumn[], options: CompareOptions = {}): CompareRow[] {
  const rows: { key: string; cells: (string | undefined)[] }[] = [];
  const index = new Map<string, number[]>(); // key → row positions (duplicate lines keep their count)
  columns.forEach((column, c) => {
    const used = new Map<string, number>();
    let previousRow = -1;
    for (const line of column.text.split('\n')) {
      if (line.trim() === '') continue;
      const key = shape(line);
      const occurrence = used.get(key) ?? 0;
      used.set(key, occurrence + 1);
      const positions = index.get(key) ?? [];
      let row = positions[occurrence];
      if (row === undefined) {
        row = previousRow + 1;
        rows.splice(row, 0, { key, cells: new Array(columns.length).fill(undefined) });
        // Shift the positions recorded after the insertion point.
        for (const list of index.values()) for (let i = 0; i < list.length; i++) if (list[i] >= row) list[i]++;
        positions.push(row);
        index.set(key, positions);
      }
      rows[row].cells[c] = line;
      previousRow = row;
    }
  });
  return rows.map((r) => {
    const missing = r.cells.some((cell) => cell === undefined);
    const texts = new Set(r.cells.filter((c): c is string => c !== undefined).map(spaces));
    const changed = !missing && texts.size > 1;
    return { cells: r.cells, missing, changed, differs: missing || (changed && !options.ignoreNumbers) };
  });
}
