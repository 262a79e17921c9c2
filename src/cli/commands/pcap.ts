// swarm-doctor pcap FILE [--filter EXPR] [--json] [--conversations]
// One line (or JSON object) per packet with its decoded fields and analysis flags; or the
// conversations with their verdicts.
import * as fs from 'node:fs';
import { capturedNames, readCaptureNames } from '../../capture/captureNames';
import { packetPredicate } from '../../capture/packetFilter';
import { CaptureFile, indexCaptureFile } from '../../capture/packetIndex';
import { analysisFields } from '../../capture/tcpAnalysis';
import { UsageError } from '../args';
import { formatTable } from '../table';

export interface PcapCliOptions {
  file?: string;
  filter?: string;
  json: boolean;
  conversations: boolean;
  /** UDP ports besides 4789 to decode as VXLAN. */
  vxlanPorts?: number[];
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export async function runPcap(options: PcapCliOptions): Promise<number> {
  if (!options.file) throw new UsageError('pcap needs a capture file');
  if (!fs.existsSync(options.file)) throw new UsageError(`no such file: ${options.file}`);
  const index = await indexCaptureFile(options.file, { vxlanPorts: options.vxlanPorts });
  const file = new CaptureFile(options.file, { vxlanPorts: options.vxlanPorts });
  try {
    const compiled = packetPredicate(options.filter ?? '', file);
    if (!compiled.ok) throw new UsageError(`bad filter: ${compiled.error}`);
    // Names the capture carries (its name resolution block, or those kept beside it when taken).
    const nameOf = capturedNames(index, readCaptureNames(options.file));
    const named = (address: string, port?: number) => {
      const name = nameOf(address);
      return `${address}${port !== undefined ? `:${port}` : ''}${name ? ` (${name})` : ''}`;
    };
    if (index.error) options.err.write(`swarm-doctor: reading stopped at byte ${index.error.offset}: ${index.error.message} (the ${index.count} packets before it are shown)\n`);
    if (options.conversations) {
      const list = index.conversationSummaries(file);
      if (options.json) {
        options.out.write(JSON.stringify(list, null, 2) + '\n');
      } else {
        options.out.write(
          formatTable(
            ['PROTO', 'A', 'B', 'PACKETS A→B/B→A', 'BYTES A→B/B→A', 'DURATION', 'VERDICT'],
            list.map((c) => [
              c.protocol,
              named(c.addressA, c.portA),
              named(c.addressB, c.portB),
              `${c.packetsAtoB}/${c.packetsBtoA}`,
              `${c.bytesAtoB}/${c.bytesBtoA}`,
              `${c.duration.toFixed(3)}s`,
              c.tcp ? c.tcp.verdictText : c.icmpError ?? '',
            ]),
          ),
        );
      }
      return 0;
    }
    for (let i = 0; i < index.count; i++) {
      if (compiled.predicate && !compiled.predicate(index, i)) continue;
      const row = file.row(index, i);
      const flags = analysisFields.filter(([bit]) => index.analysis[i] & bit).map(([, name]) => name);
      if (options.json) {
        options.out.write(JSON.stringify({ number: row.number, time: row.relativeTime, source: row.source, sourceName: nameOf(row.source), destination: row.destination, destinationName: nameOf(row.destination), protocol: row.protocol, length: row.length, info: row.info, analysis: flags, conversation: row.conversation }) + '\n');
      } else {
        options.out.write(`${String(row.number).padStart(6)} ${row.relativeTime.toFixed(6).padStart(11)} ${named(row.source)} → ${named(row.destination)} ${row.protocol} ${row.length} ${row.info}${flags.length ? ` [${flags.join(', ')}]` : ''}\n`);
      }
    }
    return index.error ? 1 : 0;
  } finally {
    file.close();
  }
}
