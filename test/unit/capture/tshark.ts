// tshark as the reference: which fields we compare, with which preferences, and how to run it.
// Shared by the fixture generator (test/fixtures/capture/generate-expectations.ts) and the
// corpus tests, so the checked-in expectations and a live run are made the same way.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** Fields compared packet by packet (Wireshark's names; our details tree uses the same). */
export const TREE_FIELDS = [
  'frame.len',
  'frame.cap_len',
  'vlan.id',
  'sll.pkttype',
  'sll.ifindex',
  'ip.src',
  'ip.dst',
  'ip.proto',
  'ip.len',
  'ip.ttl',
  'ip.flags.mf',
  'ip.frag_offset',
  'ipv6.src',
  'ipv6.dst',
  'ipv6.plen',
  'ipv6.nxt',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.seq',
  'tcp.ack',
  'tcp.len',
  'tcp.hdr_len',
  'tcp.window_size_value',
  'tcp.options.mss_val',
  'tcp.options.wscale.shift',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
  'icmp.type',
  'icmp.code',
  'icmpv6.type',
  'icmpv6.code',
  'arp.opcode',
  'arp.src.proto_ipv4',
  'arp.dst.proto_ipv4',
  'vxlan.vni',
  'dns.id',
  'dns.flags.response',
  'dns.count.answers',
  'dns.qry.name',
] as const;

/** Fields compared against the index (conversations and TCP analysis). */
export const INDEX_FIELDS = [
  'tcp.stream',
  'udp.stream',
  'tcp.completeness',
  'tcp.analysis.flags',
  'tcp.analysis.retransmission',
  'tcp.analysis.fast_retransmission',
  'tcp.analysis.spurious_retransmission',
  'tcp.analysis.duplicate_ack',
  'tcp.analysis.zero_window',
  'tcp.analysis.zero_window_probe',
  'tcp.analysis.zero_window_probe_ack',
  'tcp.analysis.window_full',
  'tcp.analysis.window_update',
  'tcp.analysis.out_of_order',
  'tcp.analysis.lost_segment',
  'tcp.analysis.ack_lost_segment',
  'tcp.analysis.keep_alive',
  'tcp.analysis.keep_alive_ack',
  'tcp.analysis.reused_ports',
] as const;

export const ALL_FIELDS = ['frame.number', ...TREE_FIELDS, ...INDEX_FIELDS];

/**
 * No IP reassembly and no TCP reassembly: we mark fragments and show segments as they are.
 * Two passes, so tcp.completeness is the conversation's final value on every packet.
 */
export const TSHARK_PREFERENCES = ['-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.desegment_tcp_streams:FALSE', '-o', 'tcp.analyze_sequence_numbers:TRUE', '-o', 'tcp.relative_sequence_numbers:TRUE'];

export function tsharkArgs(capture: string, extra: string[] = []): string[] {
  return ['-2', '-n', ...TSHARK_PREFERENCES, ...extra, '-r', capture, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...ALL_FIELDS.flatMap((f) => ['-e', f])];
}

export interface TsharkRun {
  /** One row per packet: the field values (occurrences joined by commas), ALL_FIELDS order. */
  rows: string[][];
  /** tshark's complaint about the file, if it had one (its stderr, minus the root warning). */
  error: string;
  status: number | null;
}

let version: string | null | undefined;

/** tshark's version, or null when it is not installed. */
export function tsharkVersion(): string | null {
  if (version !== undefined) return version;
  const run = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
  version = run.status === 0 ? (/TShark \(Wireshark\) (\S+)/.exec(run.stdout)?.[1] ?? 'unknown') : null;
  return version;
}

export function runTshark(capture: string, extra: string[] = []): TsharkRun {
  const run = spawnSync('tshark', tsharkArgs(capture, extra), { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 120_000 });
  const rows = (run.stdout ?? '')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t'));
  const error = (run.stderr ?? '')
    .split('\n')
    .filter((line) => line.trim() && !line.includes('Running as user "root"'))
    .join(' ')
    .trim();
  return { rows, error, status: run.status };
}

/** The repository (this file runs from out/test/unit/capture). */
export const REPOSITORY = path.resolve(__dirname, '..', '..', '..', '..');
export const FIXTURES = path.join(REPOSITORY, 'test', 'fixtures', 'capture');
/** tcpdump's test captures, shared next to the repository (never edited). */
export const CORPUS = process.env.CAPTURE_CORPUS ?? path.resolve(REPOSITORY, '..', 'shared', 'captures', 'tcpdump-tests');
