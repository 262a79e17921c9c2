// `conntrack -L` (also `-o extended`, `-o id`): one connection per line, the original direction's
// tuple first, then the reply's. The reply tuple shows NAT: a DNATed flow replies from the real
// server, not from the address the client dialled.
import { numberedLines, type ParseProblem } from './common';

export interface ConntrackTuple {
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  /** ICMP type, code and id. */
  type?: number;
  code?: number;
  id?: number;
  /** Every key=value of the tuple as printed (srckey/dstkey for GRE, ...). */
  fields: Record<string, string>;
}

export interface ConntrackEntry {
  /** ipv4 / ipv6 with `-o extended`. */
  family?: string;
  /** tcp, udp, icmp, unknown... */
  protocol: string;
  protocolNumber: number;
  /** Seconds left. */
  timeout: number;
  /** TCP/SCTP/DCCP state (ESTABLISHED, SYN_SENT, TIME_WAIT...); absent for udp and icmp. */
  state?: string;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  /** The bracketed flags: ASSURED, UNREPLIED, OFFLOAD, HW_OFFLOAD. */
  flags: string[];
  assured: boolean;
  unreplied: boolean;
  mark?: number;
  zone?: number;
  use?: number;
  /** Keys after the tuples other than mark/zone/use (id, secctx, labels, helper, delta-time...). */
  extra: Record<string, string>;
  line: number;
  text: string;
}

export interface ConntrackList {
  connections: ConntrackEntry[];
  /** From "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown." (stderr) if given. */
  shownCount?: number;
  problems: ParseProblem[];
}

const TUPLE_KEYS = new Set(['src', 'dst', 'sport', 'dport', 'type', 'code', 'id', 'srckey', 'dstkey']);
const SUMMARY = /^conntrack v\S+ \(conntrack-tools\): (\d+) flow entries have been shown\.$/;

/**
 * Parses conntrack's list. Pass stdout, or stdout and stderr together: the summary line gives
 * shownCount and other "conntrack v..." messages (errors) become problems.
 */
export function parseConntrackList(text: string): ConntrackList {
  const result: ConntrackList = { connections: [], problems: [] };
  for (const { line, text: raw } of numberedLines(text)) {
    const trimmed = raw.trim();
    if (!trimmed) continue;
    const summary = SUMMARY.exec(trimmed);
    if (summary) {
      result.shownCount = Number(summary[1]);
      continue;
    }
    if (trimmed.startsWith('conntrack v')) {
      result.problems.push({ line, text: raw, reason: 'conntrack reported an error' });
      continue;
    }
    const entry = readEntry(trimmed.split(/\s+/), line, raw);
    if (typeof entry === 'string') result.problems.push({ line, text: raw, reason: entry });
    else result.connections.push(entry);
  }
  return result;
}

function readEntry(words: string[], line: number, text: string): ConntrackEntry | string {
  let i = 0;
  let family: string | undefined;
  if ((words[0] === 'ipv4' || words[0] === 'ipv6') && /^\d+$/.test(words[1] ?? '')) {
    family = words[0];
    i = 2;
  }
  const protocol = words[i];
  const protocolNumber = words[i + 1];
  const timeout = words[i + 2];
  if (!protocol || !/^[a-z][a-z0-9-]*$/i.test(protocol) || !/^\d+$/.test(protocolNumber ?? '') || !/^\d+$/.test(timeout ?? '')) {
    return 'not a connection line (expected: protocol, protocol number, timeout)';
  }
  i += 3;
  const entry: ConntrackEntry = {
    protocol,
    protocolNumber: Number(protocolNumber),
    timeout: Number(timeout),
    original: { fields: {} },
    reply: { fields: {} },
    flags: [],
    assured: false,
    unreplied: false,
    extra: {},
    line,
    text,
  };
  if (family !== undefined) entry.family = family;
  if (words[i] && !words[i].includes('=') && !words[i].startsWith('[')) entry.state = words[i++];
  // the tuples come in order; a second src= starts the reply, a non-tuple key ends both
  let phase: 'original' | 'reply' | 'after' = 'original';
  for (; i < words.length; i++) {
    const word = words[i];
    const flag = /^\[([A-Z_]+)\]$/.exec(word);
    if (flag) {
      entry.flags.push(flag[1]);
      continue;
    }
    const pair = /^([a-z][a-z0-9_-]*)=(.*)$/i.exec(word);
    if (!pair) return `unexpected word "${word}"`;
    const [, key, value] = pair;
    if (phase === 'original' && key === 'src' && entry.original.fields.src !== undefined) phase = 'reply';
    if (phase !== 'after' && TUPLE_KEYS.has(key)) {
      addToTuple(phase === 'original' ? entry.original : entry.reply, key, value);
      continue;
    }
    phase = 'after';
    if ((key === 'mark' || key === 'zone' || key === 'use') && /^(\d+|0x[0-9a-f]+)$/i.test(value)) entry[key] = Number(value);
    else entry.extra[key] = value;
  }
  if (entry.original.src === undefined || entry.original.dst === undefined) return 'no original src/dst';
  entry.assured = entry.flags.includes('ASSURED');
  entry.unreplied = entry.flags.includes('UNREPLIED');
  return entry;
}

function addToTuple(tuple: ConntrackTuple, key: string, value: string): void {
  tuple.fields[key] = value;
  if (key === 'src' || key === 'dst') tuple[key] = value;
  else if ((key === 'sport' || key === 'dport' || key === 'type' || key === 'code' || key === 'id') && /^\d+$/.test(value)) tuple[key] = Number(value);
}
