// The catalog of network commands: what an engineer runs first when packets go missing.
// User-facing entries (menu) print what the tools print; the JSON variants feed the doctor.
import { NET_CAPABILITIES, type NetCommand } from './command';

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
  '  rules=$("iptables-$backend-save" -t "$table" 2>/dev/null | grep -c "^-A")',
  '  echo "### iptables-$backend ($table table): ${rules:-0} rules"',
  '  "iptables-$backend" -t "$table" "$@" 2>&1',
  'done',
].join('\n');

function iptables(table: IptablesTable, mode: '-nvL' | '-S'): NetCommand<string> {
  const args = mode === '-nvL' ? ['-nvL', '--line-numbers'] : ['-S'];
  return {
    id: `iptables-${table}${mode === '-S' ? '-S' : ''}`,
    title: `iptables ${mode} (${table})`,
    argv: ['sh', '-c', IPTABLES_BOTH, 'iptables', table, ...args],
    capabilities: NET_CAPABILITIES,
  };
}

const ipvsUnavailable = (result: { exitCode: number; stderr: string; stdout: string }) =>
  result.exitCode !== 0 && /Protocol not available|Can't initialize ipvs|modprobe ip_vs|ip_vs/i.test(result.stderr + result.stdout)
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
const simple = (id: string, argv: string[], capabilities = NET_CAPABILITIES): NetCommand<string> => ({ id, title: argv.join(' '), argv, capabilities });

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
  entry('sockets', simple('ss', ['ss', '-tanp'])),
  entry('sockets', simple('ss-udp', ['ss', '-uanp'])),
  entry('conntrack', simple('conntrack', ['conntrack', '-L'])),
  entry('ipvs', { ...simple('ipvsadm', ['ipvsadm', '-Ln']), explainFailure: ipvsUnavailable }),
  entry('sysctl', { id: 'sysctl-net', title: 'sysctl net.*', argv: ['sh', '-c', SYSCTL_NET], capabilities: [] }),
  entry('routing', simple('ip-addr-json', ['ip', '-j', 'addr', 'show']), false),
  entry('routing', simple('ip-route-json', ['ip', '-j', 'route', 'show', 'table', 'all']), false),
  entry('neighbours', simple('ip-neigh-json', ['ip', '-j', 'neigh', 'show']), false),
  entry('neighbours', simple('bridge-fdb-json', ['bridge', '-j', 'fdb', 'show']), false),
];

export function catalogCommand(id: string): NetCommand {
  const found = CATALOG.find((e) => e.command.id === id);
  if (!found) throw new Error(`No command "${id}" in the catalog.`);
  return found.command;
}

export function menuEntries(): CatalogEntry[] {
  return CATALOG.filter((e) => e.menu);
}
