// Compares what we make of a capture with what tshark made of it, packet by packet and field
// by field: the details tree (addresses, ports, flags, numbers, lengths) and the index
// (conversations as tcp.stream/udp.stream, completeness, every tcp.analysis flag).
import { Completeness } from '../../../src/capture/conversations';
import { DetailNode, Mark } from '../../../src/capture/packet';
import { CaptureFile, IndexOptions, PacketIndex, indexCaptureFileSync } from '../../../src/capture/packetIndex';
import { hasAnalysisField } from '../../../src/capture/tcpAnalysis';
import { ALL_FIELDS, INDEX_FIELDS, TREE_FIELDS } from './tshark';

export interface Comparison {
  ourPackets: number;
  tsharkPackets: number;
  /** Values compared (field occurrences). */
  values: number;
  mismatches: string[];
  /** Fields where tshark decoded deeper (more occurrences, ours a prefix of its list). */
  deeper: number;
  deeperExamples: string[];
  index: PacketIndex;
}

function collect(nodes: DetailNode[], into: Map<string, DetailNode[]>): void {
  for (const node of nodes) {
    const list = into.get(node.name);
    if (list) list.push(node);
    else into.set(node.name, [node]);
    if (node.children) collect(node.children, into);
  }
}

function format(field: string, node: DetailNode): string {
  const v = node.value;
  if (typeof v === 'boolean') return v ? '1' : '0';
  if ((field === 'tcp.flags' || field === 'dns.id') && typeof v === 'number') return '0x' + v.toString(16).padStart(4, '0');
  return String(v);
}

/**
 * Conversation ids of a packet's flows of one protocol, in the order tshark lists them. A TCP
 * header quoted in an ICMP error gets a tcp.stream from tshark only when it is whole.
 */
function ourStreams(index: PacketIndex, i: number, protocol: number, quotedTcpWhole: boolean): number[] {
  const table = index.conversations;
  const main = index.conversation[i];
  let related = index.related[i];
  if (index.marks[i] & Mark.ICMP_ERROR && protocol === 6 && !quotedTcpWhole) related = -1;
  const order = index.marks[i] & Mark.ICMP_ERROR ? [main, related] : [related, main];
  return order.filter((c) => c >= 0 && table.protocolOf(c) === protocol && table.portOf(c, 0) >= 0);
}

interface StreamEnd {
  conversation: number;
  lastRow: number;
  completeness: string;
  /** Completeness bits of the stream's first segment, by Wireshark's rules. */
  firstBits: number;
  firstIsPureSyn: boolean;
  firstRow: number;
}

function completenessBits(flags: number, length: number): number {
  let bits = 0;
  if (flags & 0x02) bits |= flags & 0x10 ? Completeness.SYN_ACK : Completeness.SYN;
  if ((flags & 0x12) === 0x10 && length <= 0) bits |= Completeness.ACK;
  if (length > 0) bits |= Completeness.DATA;
  if (flags & 0x01) bits |= Completeness.FIN;
  if (flags & 0x04) bits |= Completeness.RST;
  return bits;
}

export function compareWithTshark(file: string, rows: string[][], options: IndexOptions = {}, header: readonly string[] = ALL_FIELDS): Comparison {
  const index = indexCaptureFileSync(file, options);
  const capture = new CaptureFile(file, options);
  const column = new Map(header.map((name, i) => [name, i]));
  const result: Comparison = { ourPackets: index.count, tsharkPackets: rows.length, values: 0, mismatches: [], deeper: 0, deeperExamples: [], index };
  const streamMaps = { tcp: [new Map<string, number>(), new Map<number, string>()], udp: [new Map<string, number>(), new Map<number, string>()] } as const;
  const streamEnds = new Map<string, StreamEnd>();
  const note = (message: string) => {
    if (result.mismatches.length < 200) result.mismatches.push(message);
  };
  try {
    const n = Math.min(index.count, rows.length);
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      const theirs = (field: string): string[] => {
        const at = column.get(field);
        const text = at === undefined ? '' : row[at] ?? '';
        return text === '' ? [] : text.split(',');
      };
      const decoded = capture.details(index, i);
      const fields = new Map<string, DetailNode[]>();
      collect(decoded.layers, fields);
      for (const field of TREE_FIELDS) {
        if (!column.has(field)) continue;
        const ours = (fields.get(field) ?? []).map((node) => format(field, node));
        const expected = theirs(field);
        if (field === 'dns.qry.name' && expected.length !== ours.length) continue; // names may hold commas
        result.values += expected.length;
        if (ours.length === expected.length && ours.every((v, k) => v === expected[k])) continue;
        if (ours.length < expected.length && ours.every((v, k) => v === expected[k])) {
          result.deeper++;
          if (result.deeperExamples.length < 20) result.deeperExamples.push(`#${i + 1} ${field}: ours [${ours}] tshark [${expected}]`);
          continue;
        }
        note(`#${i + 1} ${field}: ours [${ours}] tshark [${expected}]`);
      }
      // Analysis flags: on the packet's own TCP segment.
      const flags = index.analysis[i];
      for (const field of INDEX_FIELDS) {
        if (!field.startsWith('tcp.analysis.') || !column.has(field)) continue;
        const name = field.slice('tcp.analysis.'.length);
        const expected = theirs(field).length > 0;
        const ours = hasAnalysisField(flags, name);
        result.values++;
        if (expected !== ours) note(`#${i + 1} ${field}: ours ${ours} tshark ${expected}`);
      }
      // Conversations: the same packets grouped the same way, whatever the numbering.
      for (const [protocol, name, maps] of [
        [6, 'tcp.stream', streamMaps.tcp],
        [17, 'udp.stream', streamMaps.udp],
      ] as const) {
        if (!column.has(name)) continue;
        const expected = theirs(name);
        const ours = ourStreams(index, i, protocol, (fields.get('tcp.hdr_len') ?? []).length > 0);
        if (expected.length === 0 && ours.length === 0) continue;
        result.values += expected.length;
        // tshark decodes tunnels we leave alone (PIM register, ERSPAN, NSH...): their inner flows
        // are beyond our headers. Compare the flows of the headers we decoded.
        const decodedLayers = (fields.get(protocol === 6 ? 'tcp.srcport' : 'udp.srcport') ?? []).length;
        if (expected.length > decodedLayers) {
          result.deeper++;
          expected.length = decodedLayers;
        }
        // An ICMP error inside a tunnel: we link it to the flow it quotes, not to the tunnel's.
        if (index.marks[i] & Mark.ICMP_ERROR && index.marks[i] & Mark.TUNNELED && expected.length === ours.length + 1) expected.shift();
        if (ours.length !== expected.length) {
          note(`#${i + 1} ${name}: ours [${ours}] tshark [${expected}]`);
          continue;
        }
        for (let k = 0; k < ours.length; k++) {
          const [toOurs, toTheirs] = maps;
          const mapped = toOurs.get(expected[k]);
          const back = toTheirs.get(ours[k]);
          if (mapped === undefined && back === undefined) {
            toOurs.set(expected[k], ours[k]);
            toTheirs.set(ours[k], expected[k]);
          } else if (mapped !== ours[k] || back !== expected[k]) {
            note(`#${i + 1} ${name}: our conversation ${ours[k]} (tshark's ${back ?? 'none'}) where tshark has stream ${expected[k]} (ours ${mapped ?? 'none'})`);
          }
        }
        if (protocol === 6 && column.has('tcp.completeness') && !(index.marks[i] & Mark.ICMP_ERROR) && expected.length) {
          const stream = expected[expected.length - 1];
          const before = streamEnds.get(stream);
          const lengths = theirs('tcp.len');
          const flagList = theirs('tcp.flags');
          const flags = Number(flagList[flagList.length - 1] ?? 0);
          const length = Number(lengths[lengths.length - 1] ?? 0);
          const completeness = theirs('tcp.completeness');
          streamEnds.set(stream, {
            conversation: ours[ours.length - 1],
            lastRow: i,
            completeness: completeness[completeness.length - 1] ?? '',
            firstBits: before ? before.firstBits : completenessBits(flags, length),
            firstIsPureSyn: before ? before.firstIsPureSyn : (flags & 0x12) === 0x02,
            firstRow: before ? before.firstRow : i,
          });
        }
      }
    }
    // tcp.completeness: tshark's second pass prints, on a stream's last packet, the first
    // pass's final value plus what the stream's first segment adds when seen again (the
    // first pass does not count a first segment that is not a SYN).
    for (const [stream, end] of streamEnds) {
      const first = index.conversations.completenessOf(end.conversation);
      const expected = first | (end.firstRow !== end.lastRow && !end.firstIsPureSyn ? end.firstBits : 0);
      result.values++;
      if (String(expected) !== end.completeness) note(`#${end.lastRow + 1} tcp.completeness of stream ${stream}: ours ${first} (as shown ${expected}) tshark ${end.completeness}`);
    }
  } finally {
    capture.close();
  }
  return result;
}

/** Reads a checked-in expectation file: its header names the fields, the rest are rows. */
export function parseExpectations(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
  const [first, ...rest] = lines;
  return { header: first.split('\t'), rows: rest.map((l) => l.split('\t')) };
}
