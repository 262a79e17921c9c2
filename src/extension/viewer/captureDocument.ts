// One opened capture: its index (growing while a capture writes the file) and random access to
// its frames. What each editor panel shows of it (filter, time format) is a CaptureView.
import * as vscode from 'vscode';
import { CaptureFile, followCaptureIndex, indexCaptureFile, type FollowedCapture, type PacketIndex } from '../../capture/packetIndex';
import type { DetailNode } from '../../capture/packet';
import type { ConversationView, DetailView } from '../../webview/packetViewer/protocol';
import { capturedNames, readCaptureNames, type CaptureNames } from '../../capture/captureNames';
import { captureVxlanPorts } from '../settings';
import type { CaptureSource } from './captureView';

export class CaptureDocument implements vscode.CustomDocument, CaptureSource {
  private following: FollowedCapture | undefined;
  private file: CaptureFile | undefined;
  /** Address → swarm name ("sourcemysql.1 on swarm02") as the swarm is now, when it is known. */
  swarmNameOf: (address: string) => string | undefined = () => undefined;
  /** The names kept beside the capture when it was taken (captureNames.ts), if any. */
  private takenNames: CaptureNames | undefined;

  private constructor(readonly uri: vscode.Uri, readonly index: PacketIndex) {
    this.takenNames = readCaptureNames(uri.fsPath);
  }

  /**
   * The name of an address: the swarm's when the capture was taken (kept beside it), else the
   * capture's own (a pcapng name resolution block), else the swarm's now (right for a capture being taken; for an old
   * file without names, the best there is, and the viewer says which it is).
   */
  nameOf(address: string): string | undefined {
    return capturedNames(this.index, this.takenNames)(address) ?? this.swarmNameOf(address);
  }

  /** When the names were read: those kept with the capture, else now (the swarm's). */
  get namesTakenAt(): Date {
    return this.takenNames ? new Date(this.takenNames.takenAt) : new Date();
  }

  /** Where the names come from, in words for the viewer; undefined when there are none. */
  namesSource(swarmKnown: boolean): string | undefined {
    if (!this.takenNames && this.index.addressNames.size) return 'names from the capture file';
    if (this.takenNames) return `swarm names as at ${this.takenNames.takenAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}, when the capture was taken`;
    if (!swarmKnown) return undefined;
    return this.following ? 'swarm names as now' : 'swarm names as now: this capture kept none of its own, so a task that has moved since may be named wrongly';
  }

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
    this.takenNames ??= readCaptureNames(this.uri.fsPath);
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

  label(address: string): string {
    const name = this.nameOf(address);
    return name ? `${address} (${name})` : address;
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
