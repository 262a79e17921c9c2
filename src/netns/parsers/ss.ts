// `ss -tanp` / `ss -uanp` (also -tuanp with its Netid column): sockets with their endpoints and,
// with -p and a view of the processes, who owns them.
import { numberedLines, takeWords, type ParseProblem } from './common';

export interface SocketEndpoint {
  /** "10.0.1.4", "::", "::ffff:10.0.1.2", "*" (any), "0.0.0.0". */
  address: string;
  /** A number, or undefined for "*" (any port). */
  port?: number;
  /** The interface after `%` ("127.0.0.1%lo", "[fe80::1]%eth0"). */
  scope?: string;
  /** As printed. */
  text: string;
}

export interface SocketProcess {
  name: string;
  pid: number;
  fd: number;
}

export interface Socket {
  /** tcp, udp... from the Netid column; else the caller's `netid` option; else absent. */
  netid?: string;
  /** LISTEN, ESTAB, TIME-WAIT, UNCONN... */
  state: string;
  recvQ: number;
  sendQ: number;
  local: SocketEndpoint;
  peer: SocketEndpoint;
  processes: SocketProcess[];
  /** Text after the peer column (users:(...), timers, ...), trimmed. */
  extra: string;
  line: number;
  text: string;
}

/** Splits "addr:port" where addr may be [v6], carry %iface, or be * ; the port may be *. */
export function parseSocketEndpoint(text: string): SocketEndpoint | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  let port: number | undefined;
  if (portText !== '*') {
    if (!/^\d+$/.test(portText)) return undefined;
    port = Number(portText);
  }
  let scope: string | undefined;
  // the scope follows the closing bracket of IPv6 ("[fe80::1]%eth0") or the IPv4 address
  const percent = host.lastIndexOf('%');
  if (percent > 0 && percent > host.lastIndexOf(']')) {
    scope = host.slice(percent + 1);
    host = host.slice(0, percent);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!host) return undefined;
  const endpoint: SocketEndpoint = { address: host, text };
  if (port !== undefined) endpoint.port = port;
  if (scope !== undefined) endpoint.scope = scope;
  return endpoint;
}

/** users:(("httpd",pid=7,fd=3),("sh",pid=1,fd=3)) -> the list. */
export function parseSocketProcesses(text: string): SocketProcess[] {
  const processes: SocketProcess[] = [];
  const users = /users:\((.*)\)/.exec(text);
  if (!users) return processes;
  // a process name may hold commas or parentheses, but it is always a quoted string
  const pattern = /\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=(\d+)\)/g;
  for (let match = pattern.exec(users[1]); match; match = pattern.exec(users[1])) {
    processes.push({ name: match[1], pid: Number(match[2]), fd: Number(match[3]) });
  }
  return processes;
}

/**
 * Parses ss's table. Columns are found by the header (with or without Netid); lines that do not
 * fit are problems. `options.netid` tags sockets when the output has no Netid column (ss -t / -u).
 */
export function parseSs(text: string, options: { netid?: string } = {}): { sockets: Socket[]; problems: ParseProblem[] } {
  const sockets: Socket[] = [];
  const problems: ParseProblem[] = [];
  let hasNetid: boolean | undefined;
  for (const { line, text: raw } of numberedLines(text)) {
    const trimmed = raw.trim();
    if (!trimmed) continue;
    if (/^(Netid\s+)?State\s+Recv-Q\s+Send-Q\b/.test(trimmed)) {
      hasNetid = trimmed.startsWith('Netid');
      continue;
    }
    const words = trimmed.split(/\s+/);
    // without a header, guess the Netid column from the first word
    const netidFirst = hasNetid ?? /^(tcp|udp|raw|u_str|u_dgr|u_seq|nl|p_raw|p_dgr|mptcp|sctp|tipc|xdp|v_str|v_dgr)$/.test(words[0]);
    const offset = netidFirst ? 1 : 0;
    if (words.length < offset + 5) {
      problems.push({ line, text: raw, reason: 'fewer columns than State Recv-Q Send-Q Local Peer' });
      continue;
    }
    const [state, recvText, sendText, localText, peerText] = words.slice(offset, offset + 5);
    const local = parseSocketEndpoint(localText);
    const peer = parseSocketEndpoint(peerText);
    if (!/^\d+$/.test(recvText) || !/^\d+$/.test(sendText) || !local || !peer) {
      problems.push({ line, text: raw, reason: 'not a socket line (queues or addresses unreadable)' });
      continue;
    }
    const extra = takeWords(raw, offset + 5).rest.trim();
    const socket: Socket = {
      state,
      recvQ: Number(recvText),
      sendQ: Number(sendText),
      local,
      peer,
      processes: parseSocketProcesses(extra),
      extra,
      line,
      text: raw,
    };
    const netid = netidFirst ? words[0] : options.netid;
    if (netid !== undefined) socket.netid = netid;
    sockets.push(socket);
  }
  return { sockets, problems };
}
