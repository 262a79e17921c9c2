// One opened capture: its index (growing while a capture writes the file), random access to its
// frames, and the current filter's matches. The webview only ever sees windows of rows.
import * as vscode from 'vscode';
import { CaptureFile, followCaptureIndex, indexCaptureFile, type FollowedCapture, type PacketIndex } from '../../capture/packetIndex';
import type { DetailNode } from '../../capture/packet';
import type { PacketPredicate } from '../../capture/packetFilter';
import type { ConversationView, DetailView, RowView, SelectionPlace, TimeFormat } from '../../webview/packetViewer/protocol';
import { placeInShown } from '../../webview/packetViewer/selection';
import { captureVxlanPorts } from '../settings';


function fixed(seconds: number): string {
  return seconds.toFixed(6);
}

export class CaptureDocument implements vscode.CustomDocument {
  private following: FollowedCapture | undefined;
  private file: CaptureFile | undefined;
  /** Packet indices (0-based) that pass the filter; undefined: all. */
  private matches: Int32Array | undefined;
  private predicate: PacketPredicate | undefined;
  private scanned = 0;
  generation = 0;
  timeFormat: TimeFormat = 'relative';
  /** Address → swarm name ("sourcemysql.1 on swarm02"), when the swarm is known. */
  nameOf: (address: string) => string | undefined = () => undefined;

  private constructor(readonly uri: vscode.Uri, readonly index: PacketIndex) {}

  /** Indexes the file; a file still being written (a running capture) is followed as it grows. */
  static async open(uri: vscode.Uri, growing: boolean): Promise<CaptureDocument> {
    if (growing) {
      const followed = followCaptureIndex(uri.fsPath, { pollMs: 300, vxlanPorts: captureVxlanPorts() });
      const document = new CaptureDocument(uri, followed.index);
      document.following = followed;
      return document;
    }
    return new CaptureDocument(uri, await indexCaptureFile(uri.fsPath, { vxlanPorts: captureVxlanPorts() }));
  }

  get growing(): boolean {
    return this.following !== undefined && !this.index.complete;
  }

  /**
   * The capture that writes the file has ended (its file is closed): read what it wrote last, to
   * the end of the file, then stop following (the viewer stops saying "capture running").
   */
  async finishFollowing(): Promise<void> {
    await this.following?.drain();
  }

  /** Stop following now, wherever reading stands (the editor closed). */
  async stopFollowing(): Promise<void> {
    await this.following?.stop();
  }

  private frames(): CaptureFile {
    this.file ??= new CaptureFile(this.uri.fsPath, { vxlanPorts: captureVxlanPorts() });
    return this.file;
  }

  /** Random access to the frames (filters on detail fields decode through it). */
  get captureFile(): CaptureFile {
    return this.frames();
  }

  /** Packets shown: all, or those passing the filter (scanned up to the index's current count). */
  get shownCount(): number {
    this.catchUp();
    return this.matches ? this.matches.length : this.index.count;
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
    if (!this.predicate || !this.matches || this.scanned >= this.index.count) return;
    const found: number[] = [];
    for (let i = this.scanned; i < this.index.count; i++) if (this.predicate(this.index, i)) found.push(i);
    this.scanned = this.index.count;
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
    return this.matches ?? Int32Array.from({ length: this.index.count }, (_, i) => i);
  }

  /** Where packet `number` (1-based) stands in the shown list, or would stand if the filter hides it. */
  place(number: number): SelectionPlace {
    this.catchUp();
    return placeInShown(this.matches, this.index.count, number);
  }

  private packetAt(position: number): number {
    return this.matches ? this.matches[position] : position;
  }

  rows(start: number, count: number): RowView[] {
    const rows: RowView[] = [];
    const end = Math.min(this.shownCount, start + count);
    for (let p = Math.max(0, start); p < end; p++) {
      const i = this.packetAt(p);
      const row = this.frames().row(this.index, i);
      rows.push({
        number: row.number,
        time: this.timeText(i, row.relativeTime, row.seconds, row.nanoseconds),
        source: this.label(row.source),
        destination: this.label(row.destination),
        protocol: row.protocol,
        length: row.length,
        info: row.info,
        colour: row.colour === undefined ? undefined : row.colour,
      });
    }
    return rows;
  }

  private label(address: string): string {
    const name = this.nameOf(address);
    return name ? `${address} (${name})` : address;
  }

  private timeText(i: number, relative: number, seconds: number, nanoseconds: number): string {
    switch (this.timeFormat) {
      case 'absolute':
        return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') + `.${String(Math.floor(nanoseconds / 1000)).padStart(6, '0')}`;
      case 'delta': {
        const previous = i > 0 ? this.index.time[i - 1] : this.index.time[i];
        return fixed((this.index.time[i] - previous) / 1e9);
      }
      case 'conversation': {
        const c = this.index.conversation[i];
        if (c < 0) return fixed(relative);
        return fixed((this.index.time[i] - this.index.time[this.index.conversations.firstPacketOf(c)]) / 1e9);
      }
      default:
        return fixed(relative);
    }
  }

  details(number: number): { layers: DetailView[]; bytes: number[]; problems: string[] } {
    const i = number - 1;
    const decoded = this.frames().details(this.index, i);
    const view = (node: DetailNode): DetailView => ({ label: node.label, name: node.name, value: node.value, offset: node.offset, length: node.length, children: node.children?.map(view) });
    return { layers: decoded.layers.map(view), bytes: Array.from(this.frames().frameBytes(this.index, i)), problems: decoded.problems };
  }

  /** Every address the capture's conversations use. */
  addresses(): Set<string> {
    const addresses = new Set<string>();
    for (const c of this.index.conversationSummaries(this.frames())) {
      addresses.add(c.addressA);
      addresses.add(c.addressB);
    }
    return addresses;
  }

  conversations(): ConversationView[] {
    return this.index.conversationSummaries(this.frames()).map((c) => {
      const ends = (address: string, port: number | undefined) => `${this.label(address)}${port !== undefined ? `:${port}` : ''}`;
      return {
        id: c.id,
        protocol: c.protocol,
        a: ends(c.addressA, c.portA),
        b: ends(c.addressB, c.portB),
        packets: `${c.packetsAtoB} → / ${c.packetsBtoA} ←`,
        bytes: `${c.bytesAtoB} → / ${c.bytesBtoA} ←`,
        duration: `${c.duration.toFixed(3)} s`,
        verdict: c.tcp?.verdict ?? (c.icmpError ? 'unreachable' : ''),
        verdictText: c.tcp?.verdictText ?? c.icmpError ?? '',
        firstPacket: c.firstPacket + 1,
        bad: c.tcp ? !['completed', 'still open', 'half closed'].includes(c.tcp.verdict) : c.icmpErrors > 0,
      };
    });
  }

  /** The TCP payload of a conversation, in order, per direction (Follow TCP stream). */
  stream(conversation: number): { fromA: boolean; text: string }[] {
    const segments: { fromA: boolean; text: string }[] = [];
    const table = this.index.conversations;
    const addressA = table.endpointText(conversation, 0).replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    for (let i = table.firstPacketOf(conversation); i < this.index.count; i++) {
      if (this.index.conversation[i] !== conversation) continue;
      const decoded = this.frames().details(this.index, i);
      const data = findNode(decoded.layers, 'data');
      if (!data || data.length === 0) continue;
      const bytes = this.frames().frameBytes(this.index, i).subarray(data.offset, data.offset + data.length);
      const fromA = decoded.source === addressA;
      const text = Buffer.from(bytes).toString('latin1').replace(/[^\x09\x0a\x0d\x20-\x7e]/g, '.');
      const last = segments[segments.length - 1];
      if (last && last.fromA === fromA) last.text += text;
      else segments.push({ fromA, text });
    }
    return segments;
  }

  /** Called once when the editor closes the document. */
  onDispose: (() => void) | undefined;

  dispose(): void {
    this.onDispose?.();
    void this.stopFollowing();
    this.file?.close();
  }
}

function findNode(nodes: DetailNode[], name: string): DetailNode | undefined {
  for (const node of nodes) {
    if (node.name === name) return node;
    const inner = node.children ? findNode(node.children, name) : undefined;
    if (inner) return inner;
  }
  return undefined;
}
