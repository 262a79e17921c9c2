// `ipvsadm -Ln`: IPVS virtual services and their real servers. Swarm's load balancer uses
// firewall-mark services (FWM): the mangle table marks packets to a VIP, IPVS balances the mark.
import { numberedLines, type ParseProblem } from './common';

export interface IpvsRealServer {
  address: string;
  port: number;
  /** Masq (NAT), Route (direct routing), Tunnel (IPIP), Local. */
  forward: string;
  weight: number;
  activeConnections: number;
  inactiveConnections: number;
  line: number;
}

export interface IpvsService {
  /** TCP, UDP, SCTP, or FWM for a firewall-mark service. */
  protocol: string;
  /** Address and port of TCP/UDP/SCTP services (IPv6 without brackets). */
  address?: string;
  port?: number;
  /** The mark of an FWM service. */
  fwmark?: number;
  /** True for IPv6 services (bracketed address, or "FWM n IPv6"). */
  ipv6: boolean;
  /** rr, wrr, lc, wlc, sh, mh... */
  scheduler: string;
  /** Seconds of `persistent N`. */
  persistentTimeout?: number;
  /** Persistence netmask (`mask ...`). */
  netmask?: string;
  /** `ops`: one-packet scheduling. */
  onePacket: boolean;
  /** `pe NAME`: persistence engine. */
  persistenceEngine?: string;
  /** Any other words after the scheduler (scheduler flags). */
  otherFlags: string[];
  realServers: IpvsRealServer[];
  line: number;
}

export interface IpvsadmList {
  /** From "IP Virtual Server version 1.2.1 (size=4096)". */
  version?: string;
  tableSize?: number;
  services: IpvsService[];
  problems: ParseProblem[];
}

const VERSION = /^IP Virtual Server version (\S+) \(size=(\d+)\)$/;
const SERVICE = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)(.*)$/;
const FWM_SERVICE = /^FWM\s+(\d+)(\s+IPv6)?\s+(\S+)(.*)$/;
const REAL_SERVER = /^->\s+(\S+)\s+(\S+)\s+(-?\d+)\s+(\d+)\s+(\d+)\s*$/;

function splitAddressPort(text: string): { address: string; port: number; ipv6: boolean } | undefined {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!match) return undefined;
  return { address: match[1], port: Number(match[2]), ipv6: text.startsWith('[') };
}

/** Parses `ipvsadm -Ln` (the plain table; not --stats, --rate or -S rule output). */
export function parseIpvsadmList(text: string): IpvsadmList {
  const result: IpvsadmList = { services: [], problems: [] };
  let service: IpvsService | undefined;
  for (const { line, text: raw } of numberedLines(text)) {
    const trimmed = raw.trim();
    if (!trimmed) continue;
    const problem = (reason: string) => result.problems.push({ line, text: raw, reason });
    const version = VERSION.exec(trimmed);
    if (version) {
      result.version = version[1];
      result.tableSize = Number(version[2]);
      continue;
    }
    if (trimmed.startsWith('Prot LocalAddress:Port') || trimmed.startsWith('-> RemoteAddress:Port')) continue;
    if (trimmed.startsWith('->')) {
      const real = REAL_SERVER.exec(trimmed);
      const endpoint = real ? splitAddressPort(real[1]) : undefined;
      if (!real || !endpoint) problem('unreadable real server line');
      else if (!service) problem('real server before any virtual service');
      else {
        service.realServers.push({
          address: endpoint.address,
          port: endpoint.port,
          forward: real[2],
          weight: Number(real[3]),
          activeConnections: Number(real[4]),
          inactiveConnections: Number(real[5]),
          line,
        });
      }
      continue;
    }
    const plain = SERVICE.exec(trimmed);
    const fwm = FWM_SERVICE.exec(trimmed);
    if (plain) {
      const endpoint = splitAddressPort(plain[2]);
      if (!endpoint) {
        service = undefined;
        problem('unreadable virtual service address');
        continue;
      }
      service = { protocol: plain[1], address: endpoint.address, port: endpoint.port, ipv6: endpoint.ipv6, scheduler: plain[3], onePacket: false, otherFlags: [], realServers: [], line };
      readServiceFlags(plain[4], service);
    } else if (fwm) {
      service = { protocol: 'FWM', fwmark: Number(fwm[1]), ipv6: fwm[2] !== undefined, scheduler: fwm[3], onePacket: false, otherFlags: [], realServers: [], line };
      readServiceFlags(fwm[4], service);
    } else {
      service = undefined;
      problem('not a version, header, virtual service or real server line');
      continue;
    }
    result.services.push(service);
  }
  return result;
}

function readServiceFlags(text: string, service: IpvsService): void {
  const words = text.trim().split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === 'persistent' && /^\d+$/.test(words[i + 1] ?? '')) service.persistentTimeout = Number(words[++i]);
    else if (word === 'mask' && words[i + 1]) service.netmask = words[++i];
    else if (word === 'pe' && words[i + 1]) service.persistenceEngine = words[++i];
    else if (word === 'ops') service.onePacket = true;
    else service.otherFlags.push(word);
  }
}

/**
 * True when ipvsadm's stderr says the kernel has no IPVS. Recorded on the lab (tools image, no
 * ip_vs in the kernel):
 *   modprobe: can't change directory to '/lib/modules': No such file or directory
 *   Can't initialize ipvs: Protocol not available
 *   Are you sure that IP Virtual Server is built in the kernel or as module?
 * The last line alone proves nothing: ipvsadm prints it after every init failure, also
 * "Can't initialize ipvs: Permission denied (you must be root?)". The errno text is what tells.
 */
export function isIpvsUnavailable(stderr: string): boolean {
  return /Can't initialize ipvs: Protocol not available/.test(stderr) || /Module ip_vs not found/.test(stderr);
}
