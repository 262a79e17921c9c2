// ip -j parsers on outputs recorded on the lab swarm (test/fixtures/netns/README.md says how and
// when, and which task had which address in each recording pass).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { addressesOf, parseBridgeFdbJson, parseIpAddrJson, parseIpLinkJson, parseIpNeighJson, parseIpRouteJson } from '../../../src/netns/parsers';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/netns');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

describe('parseIpAddrJson', () => {
  it("reads the task's overlay address, MAC, MTU and the veth peer (schemaregistry on swarm00, pass 1)", () => {
    const { interfaces, problems } = parseIpAddrJson(fixture('swarm00-task-schemaregistry-ip-j-addr.json'));
    assert.deepEqual(problems, []);
    assert.deepEqual(interfaces.map((i) => i.name), ['lo', 'eth0', 'eth1']);
    const eth0 = interfaces[1];
    assert.deepEqual([eth0.index, eth0.mtu, eth0.mac, eth0.linkIndex, eth0.linkNetnsId, eth0.operState], [16, 1450, '02:42:0a:00:01:0a', 17, 0, 'UP']);
    assert.deepEqual(eth0.flags, ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP']);
    assert.deepEqual(eth0.addresses, [{
      family: 'inet', local: '10.0.1.10', prefixLength: 24, cidr: '10.0.1.10/24', broadcast: '10.0.1.255', scope: 'global', label: 'eth0',
      validLifetime: 4294967295, preferredLifetime: 4294967295, flags: [],
    }]);
    assert.deepEqual(interfaces[2].addresses.map((a) => a.cidr), ['172.18.0.3/16'], 'eth1 on docker_gwbridge');
    assert.equal(interfaces[0].addresses[0].scope, 'host');
    assert.deepEqual(addressesOf(interfaces, 'inet').map((a) => `${a.interface}=${a.address.local}`), ['lo=127.0.0.1', 'eth0=10.0.1.10', 'eth1=172.18.0.3']);
  });

  it('reads the client task (sourcemysql 10.0.1.9 on swarm02, pass 2)', () => {
    const { interfaces } = parseIpAddrJson(fixture('swarm02-task-sourcemysql-ip-j-addr.json'));
    assert.deepEqual(addressesOf(interfaces, 'inet').find((a) => a.interface === 'eth0')?.address.cidr, '10.0.1.9/24');
    assert.equal(interfaces.find((i) => i.name === 'eth0')?.mac, '02:42:0a:00:01:09');
  });

  it("reads a node's host namespace: the underlay address 10.99.0.12 and IPv6 link-local addresses", () => {
    const { interfaces, problems } = parseIpAddrJson(fixture('swarm02-host-ip-j-addr.json'));
    assert.deepEqual(problems, []);
    assert.deepEqual(interfaces.find((i) => i.name === 'eth0')?.addresses.map((a) => a.cidr), ['10.99.0.12/24']);
    const gw = interfaces.find((i) => i.name === 'docker_gwbridge');
    assert.deepEqual(gw?.addresses.map((a) => [a.family, a.scope]), [['inet', 'global'], ['inet6', 'link']]);
    assert.equal(addressesOf(interfaces, 'inet6').length, 6);
  });

  it("reads the overlay namespace: br0 holds the gateway 10.0.1.1/24, vxlan0 and veths are br0's ports without addresses", () => {
    const { interfaces } = parseIpAddrJson(fixture('swarm00-overlay-backend-ip-j-addr.json'));
    assert.deepEqual(interfaces.find((i) => i.name === 'br0')?.addresses.map((a) => a.cidr), ['10.0.1.1/24']);
    const ports = interfaces.filter((i) => i.master === 'br0');
    assert.deepEqual(ports.map((i) => i.name), ['vxlan0', 'veth0', 'veth1', 'veth2']);
    assert.ok(ports.every((i) => i.addresses.length === 0 && i.mtu === 1450));
  });

  it("reads the load balancer namespace's overlay endpoint (lb_backend on swarm00, pass 4)", () => {
    const { interfaces } = parseIpAddrJson(fixture('swarm00-lb_backend-ip-j-addr.json'));
    assert.deepEqual(addressesOf(interfaces, 'inet').map((a) => a.address.cidr), ['127.0.0.1/8', '10.0.1.4/24']);
  });

  it('edge cases: empty output, not JSON, not an array, items without ifname, empty addr_info entries', () => {
    assert.deepEqual(parseIpAddrJson(''), { interfaces: [], problems: [] });
    assert.deepEqual(parseIpAddrJson('  \n'), { interfaces: [], problems: [] });
    const notJson = parseIpAddrJson('Device "eth9" does not exist.');
    assert.deepEqual(notJson.interfaces, []);
    assert.match(notJson.problems[0].reason, /not JSON/);
    assert.match(parseIpAddrJson('{"ifname":"lo"}').problems[0].reason, /expected a JSON array/);
    const mixed = parseIpAddrJson('[{"ifname":"x"}, 3, {"ifindex":2,"ifname":"eth0","addr_info":[{},{"family":"inet","local":"10.0.0.2"}]}]');
    assert.equal(mixed.problems.length, 2);
    assert.deepEqual(mixed.interfaces[0].addresses, [{ family: 'inet', local: '10.0.0.2', cidr: '10.0.0.2', flags: [] }]);
    assert.deepEqual(mixed.interfaces[0].flags, []);
  });

  it('reads address flags iproute2 prints as booleans (not recorded: the lab has no DHCP)', () => {
    const { interfaces } = parseIpAddrJson('[{"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet","local":"192.168.1.5","prefixlen":24,"dynamic":true,"noprefixroute":true}]}]');
    assert.deepEqual(interfaces[0].addresses[0].flags, ['dynamic', 'noprefixroute']);
  });
});

describe('parseIpRouteJson', () => {
  it("reads the task's routes: default via docker_gwbridge, the overlay /24 on eth0 (schemaregistry, pass 1)", () => {
    const { routes, problems } = parseIpRouteJson(fixture('swarm00-task-schemaregistry-ip-j-route.json'));
    assert.deepEqual(problems, []);
    assert.deepEqual(routes[0], { dst: 'default', type: 'unicast', table: 'main', gateway: '172.18.0.1', dev: 'eth1', flags: [], nexthops: [] });
    assert.deepEqual(
      [routes[1].dst, routes[1].dev, routes[1].protocol, routes[1].scope, routes[1].prefsrc],
      ['10.0.1.0/24', 'eth0', 'kernel', 'link', '10.0.1.10'],
    );
  });

  it('reads table all: local and broadcast routes in table "local"', () => {
    const { routes } = parseIpRouteJson(fixture('swarm00-task-schemaregistry-ip-j-route-table-all.json'));
    assert.equal(routes.length, 10);
    assert.equal(routes.filter((r) => r.table === 'main').length, 3);
    const local = routes.filter((r) => r.table === 'local' && r.type === 'local').map((r) => r.dst);
    assert.deepEqual(local, ['10.0.1.10', '127.0.0.0/8', '127.0.0.1', '172.18.0.3']);
    assert.deepEqual(routes.filter((r) => r.type === 'broadcast').map((r) => r.dst), ['10.0.1.255', '127.255.255.255', '172.18.255.255']);
  });

  it('reads route flags: docker0 without containers is linkdown on the host (swarm00)', () => {
    const { routes } = parseIpRouteJson(fixture('swarm00-host-ip-j-route.json'));
    assert.deepEqual(routes.map((r) => [r.dst, r.dev, r.flags]), [
      ['10.99.0.0/24', 'eth0', []],
      ['172.17.0.0/16', 'docker0', ['linkdown']],
      ['172.18.0.0/16', 'docker_gwbridge', []],
    ]);
    assert.equal(routes.some((r) => r.dst === 'default'), false, 'the lab nodes have no default route');
    const client = parseIpRouteJson(fixture('swarm02-task-sourcemysql-ip-j-route.json'));
    assert.equal(client.routes.find((r) => r.dst === '10.0.1.0/24')?.prefsrc, '10.0.1.3');
  });

  it('reads ECMP next hops and route metrics (not recorded: the lab has neither), and reports items without dst', () => {
    const text = '[{"dst":"10.1.0.0/16","metrics":[{"mtu":1400}],"nexthops":[{"gateway":"10.99.0.11","dev":"eth0","weight":1,"flags":[]},{"gateway":"10.99.0.12","dev":"eth0","weight":2,"flags":["onlink"]}],"flags":[]},{"gateway":"10.0.0.1"}]';
    const { routes, problems } = parseIpRouteJson(text);
    assert.equal(routes[0].mtu, 1400);
    assert.deepEqual(routes[0].nexthops.map((h) => [h.gateway, h.weight, h.flags]), [['10.99.0.11', 1, []], ['10.99.0.12', 2, ['onlink']]]);
    assert.equal(problems.length, 1);
    assert.match(problems[0].reason, /no dst/);
  });
});

describe('parseIpNeighJson', () => {
  it("reads the task's neighbours: both clients of pass 1, REACHABLE on eth0", () => {
    const { neighbours, problems } = parseIpNeighJson(fixture('swarm00-task-schemaregistry-ip-j-neigh.json'));
    assert.deepEqual(problems, []);
    assert.deepEqual(neighbours, [
      { dst: '10.0.1.2', dev: 'eth0', lladdr: '02:42:0a:00:01:02', state: ['REACHABLE'], router: false, proxy: false, flags: [] },
      { dst: '10.0.1.4', dev: 'eth0', lladdr: '02:42:0a:00:01:04', state: ['REACHABLE'], router: false, proxy: false, flags: [] },
    ]);
    const client = parseIpNeighJson(fixture('swarm02-task-sourcemysql-ip-j-neigh.json'));
    assert.deepEqual(client.neighbours.map((n) => [n.dst, n.state]), [['10.0.1.2', ['REACHABLE']]], 'pass 4: schemaregistry was 10.0.1.2');
  });

  it('reads vxlan0 neighbours in the overlay namespace: PERMANENT entries for remote tasks; "dev" comes from the caller', () => {
    const text = fixture('swarm00-overlay-backend-ip-j-neigh-show-dev-vxlan0.json');
    const { neighbours } = parseIpNeighJson(text, { dev: 'vxlan0' });
    assert.equal(neighbours.length, 6);
    assert.ok(neighbours.every((n) => n.dev === 'vxlan0' && n.state.join() === 'PERMANENT'));
    assert.equal(neighbours.find((n) => n.dst === '10.0.1.14')?.lladdr, '02:42:0a:00:01:0e', 'sourcemysql, pass 3');
    assert.equal(neighbours.find((n) => n.dst === '10.0.1.16')?.lladdr, '02:42:0a:00:01:10', 'connect, pass 3');
    assert.equal(parseIpNeighJson(text).neighbours[0].dev, undefined, 'ip leaves "dev" out when filtering by it');
  });

  it('overlay address -> MAC (ip neigh) -> node (bridge fdb): each remote task of pass 3 resolves to its node', () => {
    const tasks = [
      { address: '10.0.1.8', node: '10.99.0.10' }, { address: '10.0.1.2', node: '10.99.0.10' },
      { address: '10.0.1.16', node: '10.99.0.11' }, { address: '10.0.1.17', node: '10.99.0.11' },
      { address: '10.0.1.14', node: '10.99.0.12' }, { address: '10.0.1.15', node: '10.99.0.12' },
    ];
    for (const [name, self] of [['swarm00', '10.99.0.10'], ['swarm01', '10.99.0.11']]) {
      const { neighbours } = parseIpNeighJson(fixture(`${name}-overlay-backend-ip-j-neigh-show-dev-vxlan0.json`));
      const { entries } = parseBridgeFdbJson(fixture(`${name}-overlay-backend-bridge-j-fdb-show-dev-vxlan0.json`), { dev: 'vxlan0' });
      for (const task of tasks.filter((t) => t.node !== self)) {
        const mac = neighbours.find((n) => n.dst === task.address)?.lladdr;
        assert.ok(mac, `${name}: no neighbour for ${task.address}`);
        assert.deepEqual(entries.filter((e) => e.mac === mac && e.dst !== undefined).map((e) => e.dst), [task.node], `${name}: ${task.address}`);
      }
    }
  });

  it('edge cases: state as a single string (other iproute2 versions), FAILED without lladdr, router flag, no dst', () => {
    const { neighbours, problems } = parseIpNeighJson('[{"dst":"10.0.0.9","dev":"eth0","state":"FAILED"},{"dst":"fe80::1","dev":"eth0","lladdr":"aa:bb:cc:dd:ee:ff","router":null,"state":["STALE"]},{"dev":"eth0"}]');
    assert.deepEqual(neighbours[0], { dst: '10.0.0.9', dev: 'eth0', state: ['FAILED'], router: false, proxy: false, flags: [] });
    assert.equal(neighbours[1].router, true, 'iproute2 prints "router":null for the flag');
    assert.equal(problems.length, 1);
    assert.deepEqual(parseIpNeighJson(''), { neighbours: [], problems: [] });
  });
});

describe('parseIpLinkJson', () => {
  it('reads vxlan0 with -d: VNI 4097, UDP dstport 4789, br0 port, learning/proxy/l2miss/l3miss (swarm00 overlay)', () => {
    const { links, problems } = parseIpLinkJson(fixture('swarm00-overlay-backend-ip-j-d-link-show-vxlan0.json'));
    assert.deepEqual(problems, []);
    const [vxlan0] = links;
    assert.equal(vxlan0.vxlan?.remote, undefined, 'docker programs remote VTEPs as fdb entries, not as a remote');
    assert.deepEqual([vxlan0.name, vxlan0.kind, vxlan0.slaveKind, vxlan0.master, vxlan0.mtu, vxlan0.linkNetnsId], ['vxlan0', 'vxlan', 'bridge', 'br0', 1450, 0]);
    assert.deepEqual(vxlan0.vxlan, {
      id: 4097, dstPort: 4789, srcPortRange: { low: 0, high: 0 }, learning: true, proxy: true, l2miss: true, l3miss: true, ttl: 0, ageing: 300,
    });
    const other = parseIpLinkJson(fixture('swarm01-overlay-backend-ip-j-d-link-show-vxlan0.json')).links[0];
    assert.deepEqual([other.vxlan?.id, other.vxlan?.dstPort], [4097, 4789], 'same VNI on swarm01');
  });

  it('reads all links of the overlay namespace: br0 bridge, vxlan0, three veths enslaved to br0', () => {
    const { links } = parseIpLinkJson(fixture('swarm00-overlay-backend-ip-j-d-link.json'));
    assert.deepEqual(links.map((l) => [l.name, l.kind ?? '', l.master ?? '']), [
      ['lo', '', ''], ['br0', 'bridge', ''], ['vxlan0', 'vxlan', 'br0'], ['veth0', 'veth', 'br0'], ['veth1', 'veth', 'br0'], ['veth2', 'veth', 'br0'],
    ]);
    assert.equal(links[1].infoData?.stp_state, 0);
  });

  it("reads a task's links (veth peers in netns 0 and 1) and a host's bridges", () => {
    const task = parseIpLinkJson(fixture('swarm00-task-schemaregistry-ip-j-d-link.json')).links;
    assert.deepEqual(task.map((l) => [l.name, l.kind, l.linkNetnsId, l.minMtu, l.maxMtu]), [
      ['lo', undefined, undefined, 0, 0], ['eth0', 'veth', 0, 68, 65535], ['eth1', 'veth', 1, 68, 65535],
    ]);
    const host = parseIpLinkJson(fixture('swarm02-host-ip-j-d-link.json'));
    assert.deepEqual(host.problems, []);
    assert.deepEqual(host.links.filter((l) => l.kind === 'bridge').map((l) => l.name), ['docker0', 'docker_gwbridge']);
    assert.ok(host.links.filter((l) => l.slaveKind === 'bridge').every((l) => l.master === 'docker_gwbridge'));
  });

  it('without -d there is no kind; reads a VXLAN with remote/local/dev (not recorded: flannel-style device)', () => {
    const plain = parseIpLinkJson('[{"ifindex":2,"ifname":"eth0","flags":["UP"],"mtu":1500,"link_type":"ether","address":"02:00:00:00:00:01"}]');
    assert.equal(plain.links[0].kind, undefined);
    const flannel = parseIpLinkJson('[{"ifindex":5,"ifname":"vx","flags":[],"linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"remote":"10.99.0.11","local":"10.99.0.10","link":"eth0","port":8472}}}]');
    assert.deepEqual(flannel.links[0].vxlan, { id: 1, dstPort: 8472, local: '10.99.0.10', remote: '10.99.0.11', device: 'eth0' });
    assert.deepEqual(parseIpLinkJson('[]'), { links: [], problems: [] });
    assert.equal(parseIpLinkJson('[{"ifname":"noindex"}]').problems.length, 1);
  });
});
