// iproute2's JSON output (`ip -j ...`). Field names follow iproute2; every field an older or newer
// iproute2 may leave out is optional here, and items without their key field become problems.
import { booleanField, isObject, numberField, readJsonItems, stringArrayField, stringField, type JsonObject, type ParseProblem } from './common';

// ------------------------------------------------------------------ ip -j addr

export interface IpAddress {
  /** inet, inet6 (or what iproute2 says, e.g. mpls). */
  family: string;
  /** The address itself, "10.0.1.4". */
  local: string;
  prefixLength?: number;
  /** "10.0.1.4/24" when the prefix length is known, else the address. */
  cidr: string;
  /** Point-to-point peer (`peer` in ip addr). */
  address?: string;
  broadcast?: string;
  /** global, link, host. */
  scope?: string;
  label?: string;
  /** Seconds; 4294967295 means forever. */
  validLifetime?: number;
  preferredLifetime?: number;
  /** Flags iproute2 prints as booleans, e.g. dynamic, noprefixroute, tentative. */
  flags: string[];
}

/** Link fields shared by `ip -j addr` and `ip -j link`. */
export interface IpLinkBase {
  index: number;
  name: string;
  /** Flags in angle brackets: UP, LOWER_UP, BROADCAST... */
  flags: string[];
  mtu?: number;
  qdisc?: string;
  /** UP, DOWN, UNKNOWN, LOWERLAYERDOWN. */
  operState?: string;
  /** ether, loopback, none... */
  linkType?: string;
  /** The MAC address (absent for links without one). */
  mac?: string;
  broadcastMac?: string;
  /** The bridge or bond this link is enslaved to. */
  master?: string;
  /** The peer's index for "eth0@if12" (the "if12" part); its namespace is linkNetnsId when set. */
  linkIndex?: number;
  /** "eth0@vxlan0" style parent in the same namespace. */
  link?: string;
  linkNetnsId?: number;
  group?: string;
  txQueueLength?: number;
}

export interface IpInterface extends IpLinkBase {
  addresses: IpAddress[];
}

const ADDRESS_BOOLEAN_FLAGS = ['dynamic', 'noprefixroute', 'tentative', 'deprecated', 'dadfailed', 'temporary', 'secondary', 'permanent', 'home', 'nodad', 'optimistic', 'mngtmpaddr', 'autojoin', 'stable-privacy'];

function readLinkBase(item: JsonObject): IpLinkBase | string {
  const index = numberField(item, 'ifindex');
  const name = stringField(item, 'ifname');
  if (index === undefined || name === undefined) return 'no ifindex or ifname';
  const link: IpLinkBase = { index, name, flags: stringArrayField(item, 'flags') };
  const mtu = numberField(item, 'mtu');
  if (mtu !== undefined) link.mtu = mtu;
  const set = <K extends keyof IpLinkBase>(key: K, value: IpLinkBase[K] | undefined) => {
    if (value !== undefined) link[key] = value;
  };
  set('qdisc', stringField(item, 'qdisc'));
  set('operState', stringField(item, 'operstate'));
  set('linkType', stringField(item, 'link_type'));
  set('mac', stringField(item, 'address'));
  set('broadcastMac', stringField(item, 'broadcast'));
  set('master', stringField(item, 'master'));
  set('linkIndex', numberField(item, 'link_index'));
  set('link', stringField(item, 'link'));
  set('linkNetnsId', numberField(item, 'link_netnsid'));
  set('group', stringField(item, 'group'));
  set('txQueueLength', numberField(item, 'txqlen'));
  return link;
}

function readAddress(info: JsonObject): IpAddress | undefined {
  const family = stringField(info, 'family');
  const local = stringField(info, 'local');
  // iproute2 prints an empty {} for some filtered entries: nothing to keep
  if (family === undefined || local === undefined) return undefined;
  const prefixLength = numberField(info, 'prefixlen');
  const address: IpAddress = { family, local, cidr: prefixLength === undefined ? local : `${local}/${prefixLength}`, flags: [] };
  if (prefixLength !== undefined) address.prefixLength = prefixLength;
  const peer = stringField(info, 'address');
  if (peer !== undefined) address.address = peer;
  const broadcast = stringField(info, 'broadcast');
  if (broadcast !== undefined) address.broadcast = broadcast;
  const scope = stringField(info, 'scope');
  if (scope !== undefined) address.scope = scope;
  const label = stringField(info, 'label');
  if (label !== undefined) address.label = label;
  const valid = numberField(info, 'valid_life_time');
  if (valid !== undefined) address.validLifetime = valid;
  const preferred = numberField(info, 'preferred_life_time');
  if (preferred !== undefined) address.preferredLifetime = preferred;
  address.flags = ADDRESS_BOOLEAN_FLAGS.filter((flag) => booleanField(info, flag) === true);
  return address;
}

/** `ip -j addr [show ...]`: links with their addresses. */
export function parseIpAddrJson(text: string): { interfaces: IpInterface[]; problems: ParseProblem[] } {
  const { items, problems } = readJsonItems(text, 'ip -j addr', (item): IpInterface | string => {
    const base = readLinkBase(item);
    if (typeof base === 'string') return base;
    const infos = Array.isArray(item.addr_info) ? item.addr_info : [];
    const addresses = infos.filter(isObject).map(readAddress).filter((a): a is IpAddress => a !== undefined);
    return { ...base, addresses };
  });
  return { interfaces: items, problems };
}

/** Every address of every interface, with its interface name: handy for "which task has 10.0.1.4". */
export function addressesOf(interfaces: readonly IpInterface[], family?: string): { interface: string; address: IpAddress }[] {
  return interfaces.flatMap((i) => i.addresses.filter((a) => family === undefined || a.family === family).map((address) => ({ interface: i.name, address })));
}

// ------------------------------------------------------------------ ip -j route

export interface IpNextHop {
  gateway?: string;
  dev?: string;
  weight?: number;
  flags: string[];
}

export interface IpRoute {
  /** "default", "10.0.1.0/24", "10.0.1.4" (a host route prints without /32). */
  dst: string;
  /** unicast when iproute2 leaves it out; local, broadcast, multicast, unreachable... */
  type: string;
  /** main when iproute2 leaves it out (it omits the main table). */
  table: string;
  gateway?: string;
  dev?: string;
  /** kernel, boot, static, dhcp... */
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  /** Per-route flags, e.g. linkdown, onlink. */
  flags: string[];
  /** ECMP next hops (`nexthops`). */
  nexthops: IpNextHop[];
  family?: string;
  /** Route-level MTU and other metrics (`metrics`: [{"mtu":1450}]). */
  mtu?: number;
}

/** `ip -j route [show table all]` (also `ip -j -6 route`). */
export function parseIpRouteJson(text: string): { routes: IpRoute[]; problems: ParseProblem[] } {
  const { items, problems } = readJsonItems(text, 'ip -j route', (item): IpRoute | string => {
    const dst = stringField(item, 'dst');
    if (dst === undefined) return 'no dst';
    const route: IpRoute = {
      dst,
      type: stringField(item, 'type') ?? 'unicast',
      table: stringField(item, 'table') ?? 'main',
      flags: stringArrayField(item, 'flags'),
      nexthops: [],
    };
    const set = <K extends keyof IpRoute>(key: K, value: IpRoute[K] | undefined) => {
      if (value !== undefined) route[key] = value;
    };
    set('gateway', stringField(item, 'gateway'));
    set('dev', stringField(item, 'dev'));
    set('protocol', stringField(item, 'protocol'));
    set('scope', stringField(item, 'scope'));
    set('prefsrc', stringField(item, 'prefsrc'));
    set('metric', numberField(item, 'metric'));
    set('family', stringField(item, 'family'));
    if (Array.isArray(item.nexthops)) {
      route.nexthops = item.nexthops.filter(isObject).map((hop) => {
        const nexthop: IpNextHop = { flags: stringArrayField(hop, 'flags') };
        const gateway = stringField(hop, 'gateway');
        if (gateway !== undefined) nexthop.gateway = gateway;
        const dev = stringField(hop, 'dev');
        if (dev !== undefined) nexthop.dev = dev;
        const weight = numberField(hop, 'weight');
        if (weight !== undefined) nexthop.weight = weight;
        return nexthop;
      });
    }
    if (Array.isArray(item.metrics)) {
      for (const metric of item.metrics.filter(isObject)) set('mtu', numberField(metric, 'mtu'));
    }
    return route;
  });
  return { routes: items, problems };
}

// ------------------------------------------------------------------ ip -j neigh

export interface IpNeighbour {
  dst: string;
  dev?: string;
  /** The link-layer (MAC) address; absent for INCOMPLETE/FAILED entries. */
  lladdr?: string;
  /** REACHABLE, STALE, PERMANENT, NOARP, FAILED... (iproute2 prints a list). */
  state: string[];
  router: boolean;
  proxy: boolean;
  /** Other flags, e.g. extern_learn, offload. */
  flags: string[];
}

/**
 * `ip -j neigh [show dev vxlan0]`. With `dev`, ip leaves "dev" out of every entry, so pass the
 * same device as `options.dev` to have neighbour.dev filled in.
 */
export function parseIpNeighJson(text: string, options: { dev?: string } = {}): { neighbours: IpNeighbour[]; problems: ParseProblem[] } {
  const { items, problems } = readJsonItems(text, 'ip -j neigh', (item): IpNeighbour | string => {
    const dst = stringField(item, 'dst');
    if (dst === undefined) return 'no dst';
    const state = item.state;
    const neighbour: IpNeighbour = {
      dst,
      // a single string in some iproute2 versions, a list in others
      state: typeof state === 'string' ? [state] : stringArrayField(item, 'state'),
      router: item.router !== undefined && item.router !== false,
      proxy: item.proxy !== undefined && item.proxy !== false,
      flags: stringArrayField(item, 'flags'),
    };
    const dev = stringField(item, 'dev') ?? options.dev;
    if (dev !== undefined) neighbour.dev = dev;
    const lladdr = stringField(item, 'lladdr');
    if (lladdr !== undefined) neighbour.lladdr = lladdr;
    return neighbour;
  });
  return { neighbours: items, problems };
}

// ------------------------------------------------------------------ ip -j -d link

/** What `ip -d link` shows of a VXLAN device. */
export interface VxlanInfo {
  /** The VNI. */
  id?: number;
  /** UDP destination port (the "dstport" of ip link add; iproute2's JSON calls it "port"). */
  dstPort?: number;
  /** UDP source port range ("srcport" of ip link add; JSON "port_range"). */
  srcPortRange?: { low: number; high: number };
  local?: string;
  remote?: string;
  group?: string;
  /** The underlay device (JSON "link"). */
  device?: string;
  learning?: boolean;
  proxy?: boolean;
  l2miss?: boolean;
  l3miss?: boolean;
  ttl?: number;
  ageing?: number;
}

export interface IpLink extends IpLinkBase {
  /** `linkinfo.info_kind`: vxlan, bridge, veth, dummy... absent for plain devices. */
  kind?: string;
  /** `linkinfo.info_slave_kind`: bridge when enslaved to a bridge. */
  slaveKind?: string;
  vxlan?: VxlanInfo;
  /** The raw `linkinfo.info_data`, for kinds without a typed reading. */
  infoData?: JsonObject;
  /** Alternative names (`altnames`). */
  altNames: string[];
  /** Printed with `-d`. */
  minMtu?: number;
  maxMtu?: number;
}

function readVxlan(data: JsonObject): VxlanInfo {
  const vxlan: VxlanInfo = {};
  const set = <K extends keyof VxlanInfo>(key: K, value: VxlanInfo[K] | undefined) => {
    if (value !== undefined) vxlan[key] = value;
  };
  set('id', numberField(data, 'id'));
  set('dstPort', numberField(data, 'port'));
  const range = data.port_range;
  if (isObject(range)) {
    const low = numberField(range, 'low');
    const high = numberField(range, 'high');
    if (low !== undefined && high !== undefined) vxlan.srcPortRange = { low, high };
  }
  set('local', stringField(data, 'local'));
  set('remote', stringField(data, 'remote'));
  set('group', stringField(data, 'group'));
  set('device', stringField(data, 'link'));
  set('learning', booleanField(data, 'learning'));
  set('proxy', booleanField(data, 'proxy'));
  set('l2miss', booleanField(data, 'l2miss'));
  set('l3miss', booleanField(data, 'l3miss'));
  set('ttl', numberField(data, 'ttl'));
  set('ageing', numberField(data, 'ageing'));
  return vxlan;
}

/** `ip -j [-d] link [show dev]`: links, with kind and VXLAN details when `-d` printed them. */
export function parseIpLinkJson(text: string): { links: IpLink[]; problems: ParseProblem[] } {
  const { items, problems } = readJsonItems(text, 'ip -j link', (item): IpLink | string => {
    const base = readLinkBase(item);
    if (typeof base === 'string') return base;
    const link: IpLink = { ...base, altNames: stringArrayField(item, 'altnames') };
    const minMtu = numberField(item, 'min_mtu');
    if (minMtu !== undefined) link.minMtu = minMtu;
    const maxMtu = numberField(item, 'max_mtu');
    if (maxMtu !== undefined) link.maxMtu = maxMtu;
    const info = item.linkinfo;
    if (isObject(info)) {
      const kind = stringField(info, 'info_kind');
      if (kind !== undefined) link.kind = kind;
      const slaveKind = stringField(info, 'info_slave_kind');
      if (slaveKind !== undefined) link.slaveKind = slaveKind;
      if (isObject(info.info_data)) {
        link.infoData = info.info_data;
        if (kind === 'vxlan') link.vxlan = readVxlan(info.info_data);
      }
    }
    return link;
  });
  return { links: items, problems };
}
