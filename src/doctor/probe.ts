// A TCP connect probe run inside a namespace: it dials an address (or a name, resolved first by
// the namespace's own resolver) while tcpdump watches the handshake, so the outcome comes from
// the packets themselves (SYN-ACK, RST and who sent it, ICMP unreachable and who sent it), not
// from the wording of whichever nc the helper image has.
import { NET_CAPABILITIES, type NetCommand } from '../netns/command';

export type ProbeState = 'connected' | 'refused' | 'timeout' | 'unreachable' | 'lookup-failed' | 'error';

export interface ProbeOutcome {
  state: ProbeState;
  /** The address dialled (resolved from the name when probing by name). */
  address?: string;
  port: number;
  /** SYN to SYN-ACK, from tcpdump's timestamps. */
  connectMs?: number;
  /** SYNs the client sent (retransmissions included). */
  synCount: number;
  /** Source of the RST the client received. */
  rstFrom?: string;
  /** Source and text of the ICMP error the client received. */
  icmpFrom?: string;
  icmpText?: string;
  /** One line for a table cell, e.g. "refused: RST from 10.0.1.2:8081". */
  summary: string;
  /** The packets tcpdump saw, as it printed them. */
  trace: string[];
  /** nc's own words and exit status. */
  dialer: string;
  /** True when tcpdump could not watch (outcome from nc's words only). */
  withoutTrace: boolean;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:]+$/;
const NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})$/;

export const isIpAddress = (text: string): boolean => IPV4.test(text) || (IPV6.test(text) && text.includes(':'));

/**
 * Fixed script; every value arrives as a positional argument. The address (given or resolved) is
 * checked against a strict pattern before it reaches tcpdump's filter expression.
 */
const PROBE_SCRIPT = [
  'dst=$1; port=$2; t=$3; name=$4',
  'case "$port" in ""|*[!0-9]*) echo "### error port"; exit 2;; esac',
  'case "$t" in ""|*[!0-9]*) echo "### error timeout"; exit 2;; esac',
  'if [ -n "$name" ]; then',
  '  out=$(timeout "$t" nslookup "$name" 2>&1)',
  '  dst=$(printf "%s\\n" "$out" | sed -n "/^Name:/,\\$ s/^Address[^:]*:[[:space:]]*\\([0-9a-fA-F.:]*\\).*/\\1/p" | head -n 1)',
  '  if [ -z "$dst" ]; then echo "### lookup-failed"; printf "%s\\n" "$out" | sed "s/^/#| /"; exit 0; fi',
  '  echo "### resolved $dst"',
  'fi',
  'case "$dst" in ""|*[!0-9a-fA-F.:]*) echo "### error address"; exit 2;; esac',
  'echo "### address $dst"',
  'cap=/tmp/swarm-doctor-probe.$$',
  'tp=',
  'if command -v tcpdump >/dev/null 2>&1; then',
  '  tcpdump -l -n -i any -tt -c 60 "(host $dst and tcp port $port) or icmp or icmp6 or (arp and host $dst)" >"$cap" 2>"$cap.err" &',
  '  tp=$!',
  '  i=0; while [ $i -lt 60 ] && ! grep -q "listening on" "$cap.err" 2>/dev/null; do sleep 0.05; i=$((i+1)); done',
  '  grep -q "listening on" "$cap.err" 2>/dev/null || { echo "### notrace"; sed "s/^/#| /" "$cap.err"; }',
  'else',
  '  echo "### notrace"; echo "#| tcpdump is not in the helper image"',
  'fi',
  'zflag=; nc -h 2>&1 | grep -q -- "-z" && zflag=-z',
  'out=$(timeout "$t" nc $zflag -w "$t" "$dst" "$port" </dev/null 2>&1); rc=$?',
  'echo "### dialer $rc"; printf "%s\\n" "$out" | sed "s/^/#| /"',
  // Late answers (an RST after retransmitted SYNs, an ICMP error) still reach the trace.
  'sleep 0.3',
  'if [ -n "$tp" ]; then kill $tp 2>/dev/null; wait $tp 2>/dev/null; echo "### trace"; cat "$cap"; fi',
  'rm -f "$cap" "$cap.err"',
].join('\n');

export type ProbeDestination = { address: string; port: number } | { name: string; port: number };

export function probeCommand(destination: ProbeDestination, timeoutSeconds = 3): NetCommand<ProbeOutcome> {
  const port = destination.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${port} is not a TCP port`);
  const t = Math.max(1, Math.round(timeoutSeconds));
  let args: string[];
  let label: string;
  if ('address' in destination) {
    if (!isIpAddress(destination.address)) throw new Error(`"${destination.address}" is not an IP address`);
    args = [destination.address, String(port), String(t), ''];
    label = `${destination.address}:${port}`;
  } else {
    if (!NAME.test(destination.name)) throw new Error(`"${destination.name}" is not a DNS name`);
    args = ['', String(port), String(t), destination.name];
    label = `${destination.name}:${port}`;
  }
  return {
    id: 'probe-tcp',
    title: `connect to ${label}`,
    argv: ['sh', '-c', PROBE_SCRIPT, 'probe', ...args],
    capabilities: NET_CAPABILITIES,
    // Generous: the helper itself takes seconds to start on a busy node.
    timeoutSeconds: t + 30,
    parse: (stdout) => parseProbeOutput(stdout, port),
  };
}

interface TraceLine {
  time: number;
  direction?: 'In' | 'Out';
  src: string;
  dst: string;
  rest: string;
}

/** "1764170000.123456 eth0  Out IP 10.0.1.3.41234 > 10.0.1.2.8081: Flags [S], ..." */
const LINE = /^(\d+\.\d+)\s+(?:(\S+)\s+(In|Out|M|B|P)\s+)?IP6?\s+(\S+)\s+>\s+(\S+?):\s+(.*)$/;

function parseTraceLine(line: string): TraceLine | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  return { time: Number(m[1]), direction: m[3] === 'In' || m[3] === 'Out' ? m[3] : undefined, src: m[4], dst: m[5], rest: m[6] };
}

/** "10.0.1.2.8081" → address and port; ICMP lines have no port. */
function splitEndpoint(text: string): { address: string; port?: number } {
  const m = /^(.*)\.(\d+)$/.exec(text);
  if (m && (m[1].includes(':') || m[1].split('.').length === 4)) return { address: m[1], port: Number(m[2]) };
  return { address: text };
}

export function parseProbeOutput(stdout: string, port: number): ProbeOutcome {
  const lines = stdout.split('\n');
  const outcome: ProbeOutcome = { state: 'error', port, synCount: 0, summary: '', trace: [], dialer: '', withoutTrace: false };
  let section = '';
  const dialer: string[] = [];
  const notes: string[] = [];
  let dialerStatus: number | undefined;
  for (const line of lines) {
    const mark = /^### (\S+)(?: (.*))?$/.exec(line);
    if (mark) {
      section = mark[1];
      if (section === 'resolved' || section === 'address') outcome.address = mark[2];
      if (section === 'dialer') dialerStatus = Number(mark[2]);
      if (section === 'notrace') outcome.withoutTrace = true;
      if (section === 'error') {
        outcome.summary = `probe error: bad ${mark[2]}`;
        return outcome;
      }
      continue;
    }
    if (section === 'trace') {
      if (line.trim()) outcome.trace.push(line);
    } else if (line.startsWith('#| ')) {
      (section === 'dialer' ? dialer : notes).push(line.slice(3));
    }
  }
  outcome.dialer = `${dialer.join('\n').trim()}${dialerStatus !== undefined ? ` (exit ${dialerStatus})` : ''}`.trim();
  if (section === 'lookup-failed' || lines.some((l) => l === '### lookup-failed')) {
    outcome.state = 'lookup-failed';
    const why = notes.filter((n) => /can't resolve|NXDOMAIN|not found|timed out|no servers/i.test(n))[0];
    outcome.summary = `name lookup failed${why ? `: ${why.trim()}` : ''}`;
    return outcome;
  }
  if (dialerStatus === undefined) {
    outcome.summary = 'probe error: the probe did not run to its end';
    return outcome;
  }
  return classify(outcome, dialer.join('\n'), dialerStatus);
}

function classify(outcome: ProbeOutcome, dialerText: string, dialerStatus: number): ProbeOutcome {
  const packets = outcome.trace.map(parseTraceLine).filter((p): p is TraceLine => p !== undefined);
  const address = outcome.address;
  let lastSyn: number | undefined;
  const arpAsked = outcome.trace.filter((l) => /ARP, Request who-has (\S+)/.test(l)).length;
  const arpAnswered = outcome.trace.some((l) => /ARP, Reply /.test(l));
  for (const p of packets) {
    const src = splitEndpoint(p.src);
    const dst = splitEndpoint(p.dst);
    const flags = /Flags \[([^\]]*)\]/.exec(p.rest)?.[1];
    if (flags !== undefined && dst.port === outcome.port && p.direction !== 'In' && flags.includes('S') && !flags.includes('.')) {
      outcome.synCount++;
      outcome.address ??= dst.address;
      lastSyn = p.time;
      continue;
    }
    if (flags !== undefined && src.port === outcome.port && p.direction !== 'Out' && (!address || src.address === address || !outcome.address || src.address === outcome.address)) {
      if (flags.includes('S') && flags.includes('.') && outcome.state !== 'connected') {
        outcome.state = 'connected';
        if (lastSyn !== undefined) outcome.connectMs = Math.max(0, (p.time - lastSyn) * 1000);
      } else if (flags.includes('R') && outcome.state !== 'connected') {
        outcome.state = 'refused';
        outcome.rstFrom = `${src.address}:${src.port}`;
      }
      continue;
    }
    if (/ICMP6?\b.*unreachable|ICMP6? .*(time exceeded|prohibited)|ICMP6? destination unreachable/i.test(p.rest) && p.direction !== 'Out' && outcome.state !== 'connected' && outcome.state !== 'refused') {
      outcome.state = 'unreachable';
      outcome.icmpFrom = src.address;
      outcome.icmpText = p.rest.replace(/^ICMP6?\s*/, '').replace(/, length \d+$/, '');
    }
  }
  if (outcome.state === 'error') {
    if (!outcome.withoutTrace && outcome.synCount === 0 && arpAsked > 0 && !arpAnswered) {
      outcome.state = 'unreachable';
      outcome.icmpText = `no ARP answer for ${outcome.address ?? 'the address'} (${arpAsked} request${arpAsked > 1 ? 's' : ''}): no task on the network has it`;
    } else if (!outcome.withoutTrace && outcome.synCount > 0) outcome.state = 'timeout';
    else if (/refused/i.test(dialerText)) outcome.state = 'refused';
    else if (/no route|unreachable/i.test(dialerText)) outcome.state = 'unreachable';
    else if (/bad address|resolve|unknown host|not known/i.test(dialerText)) outcome.state = 'lookup-failed';
    else if (/timed out/i.test(dialerText) || dialerStatus === 124 || dialerStatus === 143) outcome.state = 'timeout';
    else if (dialerStatus === 0) outcome.state = 'connected';
  }
  const to = outcome.address ? `${outcome.address}:${outcome.port}` : `port ${outcome.port}`;
  switch (outcome.state) {
    case 'connected':
      outcome.summary = `connected to ${to}${outcome.connectMs !== undefined ? ` in ${formatMs(outcome.connectMs)}` : ''}`;
      break;
    case 'refused':
      outcome.summary = `refused: RST from ${outcome.rstFrom ?? to}${outcome.synCount > 1 ? ` after ${outcome.synCount} SYNs` : ''}`;
      break;
    case 'timeout':
      outcome.summary = outcome.synCount ? `timed out: no answer to ${outcome.synCount} SYN${outcome.synCount > 1 ? 's' : ''} to ${to}` : `timed out connecting to ${to}`;
      break;
    case 'unreachable':
      outcome.summary = outcome.icmpFrom ? `unreachable: ICMP ${outcome.icmpText} from ${outcome.icmpFrom}` : `unreachable: ${outcome.icmpText ?? (dialerText.trim() || 'no route')}`;
      break;
    case 'lookup-failed':
      outcome.summary = `name lookup failed: ${dialerText.trim()}`;
      break;
    default:
      outcome.summary = `probe error: ${dialerText.trim() || `exit ${dialerStatus}`}`;
  }
  if (outcome.withoutTrace && outcome.state !== 'error') outcome.summary += ' (no packet trace: judged from nc alone)';
  return outcome;
}

function formatMs(ms: number): string {
  return ms < 1 ? `${ms.toFixed(2)} ms` : ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** ICMP echo of a given size (a full-size one proves the path carries the overlay's MTU). */
export interface PingOutcome {
  sizes: { size: number; sent: number; received: number }[];
}

const PING_SCRIPT = [
  'dst=$1; shift',
  'case "$dst" in ""|*[!0-9a-fA-F.:]*) echo "### error address"; exit 2;; esac',
  // iputils ping can forbid fragmentation outright; busybox ping cannot, but a packet that fits the
  // sender's own interface leaves unfragmented anyway, which is what the underlay is tested with.
  'df=; ping -h 2>&1 | grep -q -- "-M" && df="-M do"',
  'for size in "$@"; do',
  '  case "$size" in ""|*[!0-9]*) continue;; esac',
  '  echo "### size $size"',
  '  ping $df -c 2 -w 3 -s "$size" "$dst" 2>&1',
  'done',
].join('\n');

export function pingCommand(address: string, sizes: number[]): NetCommand<PingOutcome> {
  if (!isIpAddress(address)) throw new Error(`"${address}" is not an IP address`);
  return {
    id: 'probe-ping',
    title: `ping ${address} (${sizes.join(', ')} bytes)`,
    argv: ['sh', '-c', PING_SCRIPT, 'ping', address, ...sizes.map(String)],
    capabilities: NET_CAPABILITIES,
    timeoutSeconds: 4 * sizes.length + 30,
    parse: parsePingOutput,
  };
}

export function parsePingOutput(stdout: string): PingOutcome {
  const sizes: PingOutcome['sizes'] = [];
  for (const block of stdout.split(/^### size /m).slice(1)) {
    const size = Number(block.split('\n', 1)[0]);
    const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(block);
    // Only answers from the address pinged count: busybox ping also counts a reply from another
    // address that happens to carry its id (seen on the lab while a path was cut).
    const target = /^PING \S+ \(([^)]+)\)/m.exec(block)?.[1];
    const reply = target ? new RegExp(`^\\d+ bytes from ${target.replace(/[.:]/g, '\\$&')}[:,]`) : undefined;
    const fromTarget = reply ? block.split('\n').filter((l) => reply.test(l)).length : undefined;
    const received = m ? Number(m[2]) : 0;
    sizes.push({ size, sent: m ? Number(m[1]) : 0, received: fromTarget === undefined ? received : Math.min(received, fromTarget) });
  }
  return { sizes };
}
