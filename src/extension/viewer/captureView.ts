// What one packet-viewer panel shows of a capture: its filter's matches and its time format. A
// capture opened in two editors (a split) is one document with two views, each with its own
// filter. No vscode import: unit-tested under plain Node.
import type { CaptureFile, PacketIndex } from '../../capture/packetIndex';
import type { PacketPredicate } from '../../capture/packetFilter';
import type { RowView, SelectionPlace, TimeFormat } from '../../webview/packetViewer/protocol';
import { placeInShown } from '../../webview/packetViewer/selection';

/** What a view reads of its capture (the document). */
export interface CaptureSource {
  readonly index: PacketIndex;
  readonly captureFile: CaptureFile;
  /** An address with its swarm name, when known: "10.0.1.3 (sourcemysql.1 on swarm02)". */
  label(address: string): string;
}

const fixed = (seconds: number) => seconds.toFixed(6);

export class CaptureView {
  /** Packet indices (0-based) that pass the filter; undefined: all. */
  private matches: Int32Array | undefined;
  private predicate: PacketPredicate | undefined;
  private scanned = 0;
  /** Grows whenever the shown list changes as a whole (a filter, a time format): older answers are dropped. */
  generation = 0;
  private format: TimeFormat = 'relative';

  constructor(private readonly source: CaptureSource) {}

  /** Packets shown: all, or those passing the filter (scanned up to the index's current count). */
  get shownCount(): number {
    this.catchUp();
    return this.matches ? this.matches.length : this.source.index.count;
  }

  get timeFormat(): TimeFormat {
    return this.format;
  }

  set timeFormat(format: TimeFormat) {
    this.format = format;
    this.generation++;
  }

  setFilter(predicate: PacketPredicate | undefined): void {
    this.predicate = predicate;
    this.matches = predicate ? new Int32Array(0) : undefined;
    this.scanned = 0;
    this.generation++;
    this.catchUp();
  }

  /** Extends the matches to packets indexed since the last look (a growing capture). */
  private catchUp(): void {
    const index = this.source.index;
    if (!this.predicate || !this.matches || this.scanned >= index.count) return;
    const found: number[] = [];
    for (let i = this.scanned; i < index.count; i++) if (this.predicate(index, i)) found.push(i);
    this.scanned = index.count;
    if (found.length) {
      const next = new Int32Array(this.matches.length + found.length);
      next.set(this.matches);
      next.set(found, this.matches.length);
      this.matches = next;
    }
  }

  /** The shown packets' indices (for export). */
  shownIndices(): ArrayLike<number> {
    this.catchUp();
    return this.matches ?? Int32Array.from({ length: this.source.index.count }, (_, i) => i);
  }

  /** Where packet `number` (1-based) stands in the shown list, or would stand if the filter hides it. */
  place(number: number): SelectionPlace {
    this.catchUp();
    return placeInShown(this.matches, this.source.index.count, number);
  }

  private packetAt(position: number): number {
    return this.matches ? this.matches[position] : position;
  }

  rows(start: number, count: number): RowView[] {
    const rows: RowView[] = [];
    const end = Math.min(this.shownCount, start + count);
    for (let p = Math.max(0, start); p < end; p++) {
      const i = this.packetAt(p);
      const row = this.source.captureFile.row(this.source.index, i);
      rows.push({
        number: row.number,
        time: this.timeText(i, row.relativeTime, row.seconds, row.nanoseconds),
        source: this.source.label(row.source),
        destination: this.source.label(row.destination),
        protocol: row.protocol,
        length: row.length,
        info: row.info,
        colour: row.colour === undefined ? undefined : row.colour,
      });
    }
    return rows;
  }

  private timeText(i: number, relative: number, seconds: number, nanoseconds: number): string {
    const index = this.source.index;
    switch (this.format) {
      case 'absolute':
        return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') + `.${String(Math.floor(nanoseconds / 1000)).padStart(6, '0')}`;
      case 'delta': {
        const previous = i > 0 ? index.time[i - 1] : index.time[i];
        return fixed((index.time[i] - previous) / 1e9);
      }
      case 'conversation': {
        const c = index.conversation[i];
        if (c < 0) return fixed(relative);
        return fixed((index.time[i] - index.time[index.conversations.firstPacketOf(c)]) / 1e9);
      }
      default:
        return fixed(relative);
    }
  }
}
