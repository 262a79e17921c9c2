// Side by side: the same command's output from several places, aligned line by line, with the
// lines that are not the same everywhere marked. How an engineer spots the one node that differs.

export interface CompareColumn {
  label: string;
  text: string;
}

export interface CompareRow {
  /** The line as each column has it, or undefined where that column lacks it. */
  cells: (string | undefined)[];
  /** True when not every column has this line. */
  differs: boolean;
}

export interface CompareOptions {
  /** Treat numbers as equal (packet counters, timers, ports of ephemeral sockets...). */
  ignoreNumbers?: boolean;
}

function normalise(line: string, options: CompareOptions): string {
  let key = line.trim().replace(/\s+/g, ' ');
  if (options.ignoreNumbers) key = key.replace(/\b\d+[KMG]?\b/g, '#');
  return key;
}

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
      const key = normalise(line, options);
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
  return rows.map((r) => ({ cells: r.cells, differs: r.cells.some((cell) => cell === undefined) }));
}
