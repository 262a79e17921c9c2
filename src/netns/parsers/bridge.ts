// `bridge -j fdb show [dev vxlan0]`: the forwarding database. In a swarm overlay namespace, each
// remote task's MAC sits on vxlan0 with dst = the node (VTEP) that hosts it.
import { numberField, readJsonItems, stringArrayField, stringField, type ParseProblem } from './common';

export interface BridgeFdbEntry {
  mac: string;
  /** The port the entry is on (JSON "ifname"), e.g. vxlan0, veth0. */
  dev?: string;
  /** Remote VTEP address for VXLAN entries. */
  dst?: string;
  vlan?: number;
  /** The bridge the port belongs to. */
  master?: string;
  /** self, master, extern_learn, offload, router, sticky... */
  flags: string[];
  /** permanent, static, or "" for learned entries (iproute2 prints "" then). */
  state: string;
  /** VXLAN entries: VNI and UDP port when they differ from the device's. */
  vni?: number;
  port?: number;
  /** Namespace id of the VXLAN underlay (bridge prints "linkNetNsId", unlike ip's "link_netnsid"). */
  linkNetnsId?: number;
}

/**
 * `bridge -j fdb show [dev DEV]`. With `dev`, bridge leaves "ifname" out of every entry, so pass
 * the same device as `options.dev` to have entry.dev filled in.
 */
export function parseBridgeFdbJson(text: string, options: { dev?: string } = {}): { entries: BridgeFdbEntry[]; problems: ParseProblem[] } {
  const { items, problems } = readJsonItems(text, 'bridge -j fdb', (item): BridgeFdbEntry | string => {
    const mac = stringField(item, 'mac');
    if (mac === undefined) return 'no mac';
    const entry: BridgeFdbEntry = { mac, flags: stringArrayField(item, 'flags'), state: stringField(item, 'state') ?? '' };
    const set = <K extends keyof BridgeFdbEntry>(key: K, value: BridgeFdbEntry[K] | undefined) => {
      if (value !== undefined) entry[key] = value;
    };
    set('dev', stringField(item, 'ifname') ?? options.dev);
    set('dst', stringField(item, 'dst'));
    set('vlan', numberField(item, 'vlan'));
    set('master', stringField(item, 'master'));
    set('vni', numberField(item, 'vni') ?? numberField(item, 'src_vni'));
    set('port', numberField(item, 'port'));
    set('linkNetnsId', numberField(item, 'linkNetNsId') ?? numberField(item, 'link_netnsid'));
    return entry;
  });
  return { entries: items, problems };
}
