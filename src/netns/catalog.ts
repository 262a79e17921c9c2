// The catalog of network commands: what an engineer runs first when packets go missing.
// User-facing entries (menu) print what the tools print; the JSON variants feed the doctor.
import { NET_CAPABILITIES, type NetCommand } from './command';
import {
  isIpvsUnavailable,
  parseBridgeFdbJson,
  parseConntrackList,
  parseIpAddrJson,
  parseIpNeighJson,
  parseIpRouteJson,
  parseIptablesList,
  parseIptablesSave,
  parseIpvsadmList,
  parseSs,
  type IptablesList,
  type IptablesSave,
} from './parsers';

export type IptablesTable = 'filter' | 'nat' | 'mangle' | 'raw';

/**
 * Both iptables backends, since a host may hold rules in nf_tables and in legacy xtables at once
 * (docker writes with one, a firewall tool with the other). The script is fixed text; the table
 * is a positional argument from our own list, never spliced into the script.
 */
const IPTABLES_BOTH = [
  'table="$1"; shift',
  'for backend in nft legacy; do',
  '  if ! command -v "iptables-$backend" >/dev/null 2>&1; then echo "### iptables-$backend: not in this image"; continue; fi',
  // Merely listing with the legacy tools creates empty legacy tables in the namespace (and makes
  // iptables-nft warn about them ever after): look in /proc first, as iptables-nft itself does.
  '  if [ "$backend" = legacy ] && ! grep -qx "$table" /proc/net/ip_tables_names 2>/dev/null; then echo "### iptables-legacy ($table table): 0 rules"; continue; fi',
  '  rules=$("iptables-$backend-save" -t "$table" 2>/dev/null | grep -c "^-A")',
  '  echo "### iptables-$backend ($table table): ${rules:-0} rules"',
  '  "iptables-$backend" -t "$table" "$@" 2>&1',
  'done',
].join('\n');

export interface IptablesBackendOutput<T> {
  backend: 'nft' | 'legacy';
  /** Rules the backend holds in the table (from iptables-save), or undefined when not in the image. */
  ruleCount?: number;
  parsed?: T;
}

/** Splits the two-backend output above into its sections and parses each. */
export function parseIptablesSections<T>(stdout: string, parse: (text: string) => T): IptablesBackendOutput<T>[] {
  const sections: IptablesBackendOutput<T>[] = [];
  const header = /^### iptables-(nft|legacy)(?: \([a-z]+ table\): (\d+) rules|: not in this image)$/gm;
  const marks = [...stdout.matchAll(header)];
  marks.forEach((mark, i) => {
    const body = stdout.slice(mark.index! + mark[0].length, i + 1 < marks.length ? marks[i + 1].index : stdout.length);
    const inImage = mark[2] !== undefined;
    const text = body.replace(/^\n/, '');
    sections.push({ backend: mark[1] as 'nft' | 'legacy', ruleCount: inImage ? Number(mark[2]) : undefined, parsed: inImage && text.trim() ? parse(text) : undefined });
  });
  return sections;
}

/**
 * `iptables -t TABLE -nvxL --line-numbers` in both backends, exact counters (-x): what the doctor
 * compares before and after a probe.
 */
export function iptablesCountersCommand(table: IptablesTable): NetCommand<IptablesBackendOutput<IptablesList>[]> {
  return {
    id: `iptables-${table}-counters`,
    title: `iptables -t ${table} -nvxL --line-numbers`,
    argv: ['sh', '-c', IPTABLES_BOTH, 'iptables', table, '-nvxL', '--line-numbers'],
    capabilities: NET_CAPABILITIES,
    parse: (stdout) => parseIptablesSections(stdout, (text) => parseIptablesList(text, { table })),
  };
}

function iptables(table: IptablesTable, mode: '-nvL'): NetCommand<IptablesBackendOutput<IptablesList>[]>;
function iptables(table: IptablesTable, mode: '-S'): NetCommand<IptablesBackendOutput<IptablesSave>[]>;
function iptables(table: IptablesTable, mode: '-nvL' | '-S'): NetCommand<IptablesBackendOutput<IptablesList | IptablesSave>[]> {
  const args = mode === '-nvL' ? ['-nvL', '--line-numbers'] : ['-S'];
  return {
    id: `iptables-${table}${mode === '-S' ? '-S' : ''}`,
    title: `iptables ${mode} (${table})`,
    argv: ['sh', '-c', IPTABLES_BOTH, 'iptables', table, ...args],
    capabilities: NET_CAPABILITIES,
    parse: (stdout) => parseIptablesSections<IptablesList | IptablesSave>(stdout, (text) => (mode === '-nvL' ? parseIptablesList(text, { table }) : parseIptablesSave(text, { table }))),
  };
}

const ipvsUnavailable = (result: { exitCode: number; stderr: string; stdout: string }) =>
  result.exitCode !== 0 && isIpvsUnavailable(result.stderr + result.stdout)
    ? 'The kernel of this node has no IPVS (the ip_vs module is not loaded or not built): swarm VIPs and the routing mesh cannot forward here. Use --endpoint-mode dnsrr, or load ip_vs on the node.'
    : undefined;

/**
 * sysctl net.* without needing procps in the image: /proc/sys/net shows the namespace of the
 * process reading it, so this reads the target namespace's own values. Keys printed as sysctl does.
 */
const SYSCTL_NET = [
  'for d in ipv4 ipv6 core netfilter bridge unix; do',
  '  [ -d "/proc/sys/net/$d" ] && grep -r . "/proc/sys/net/$d" 2>/dev/null',
  'done | sed -e "s#^/proc/sys/##" -e ":a" -e "s#^\\([^:]*\\)/#\\1.#" -e "ta" -e "s#:# = #"',
].join('\n');

export interface CatalogEntry {
  command: NetCommand;
  /** Shown in menus (the JSON variants are for the doctor). */
  menu: boolean;
  /** Which namespaces it makes sense in. */
  group: 'firewall' | 'routing' | 'neighbours' | 'sockets' | 'conntrack' | 'ipvs' | 'sysctl';
}

const entry = (group: CatalogEntry['group'], command: NetCommand, menu = true): CatalogEntry => ({ command, menu, group });
const simple = <T = unknown>(id: string, argv: string[], parse?: (stdout: string) => T): NetCommand<T> => ({ id, title: argv.join(' '), argv, capabilities: NET_CAPABILITIES, parse });

export const CATALOG: readonly CatalogEntry[] = [
  entry('firewall', iptables('filter', '-nvL')),
  entry('firewall', iptables('nat', '-nvL')),
  entry('firewall', iptables('mangle', '-nvL')),
  entry('firewall', iptables('filter', '-S')),
  entry('firewall', iptables('nat', '-S')),
  entry('routing', simple('ip-addr', ['ip', 'addr', 'show'])),
  entry('routing', simple('ip-route', ['ip', 'route', 'show', 'table', 'all'])),
  entry('routing', simple('ip-rule', ['ip', 'rule', 'show'])),
  entry('routing', simple('ip-link', ['ip', '-d', 'link', 'show'])),
  entry('neighbours', simple('ip-neigh', ['ip', 'neigh', 'show'])),
  entry('neighbours', simple('bridge-fdb', ['bridge', 'fdb', 'show'])),
  entry('sockets', simple('ss', ['ss', '-tanp'], (out) => parseSs(out, { netid: 'tcp' }))),
  entry('sockets', simple('ss-udp', ['ss', '-uanp'], (out) => parseSs(out, { netid: 'udp' }))),
  entry('conntrack', simple('conntrack', ['conntrack', '-L'], parseConntrackList)),
  entry('ipvs', { ...simple('ipvsadm', ['ipvsadm', '-Ln'], parseIpvsadmList), explainFailure: ipvsUnavailable }),
  entry('sysctl', { id: 'sysctl-net', title: 'sysctl net.*', argv: ['sh', '-c', SYSCTL_NET], capabilities: [] }),
  entry('routing', simple('ip-addr-json', ['ip', '-j', 'addr', 'show'], parseIpAddrJson), false),
  entry('routing', simple('ip-route-json', ['ip', '-j', 'route', 'show', 'table', 'all'], parseIpRouteJson), false),
  entry('neighbours', simple('ip-neigh-json', ['ip', '-j', 'neigh', 'show'], (out) => parseIpNeighJson(out)), false),
  entry('neighbours', simple('bridge-fdb-json', ['bridge', '-j', 'fdb', 'show'], (out) => parseBridgeFdbJson(out)), false),
];

export function catalogCommand(id: string): NetCommand {
  const found = CATALOG.find((e) => e.command.id === id);
  if (!found) throw new Error(`No command "${id}" in the catalog.`);
  return found.command;
}

export function menuEntries(): CatalogEntry[] {
  return CATALOG.filter((e) => e.menu);
}
