// bridge -j fdb on outputs recorded on the lab swarm (pass 3 of test/fixtures/netns/README.md:
// the overlay namespaces of backend on the three nodes, with the task list of that moment).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseBridgeFdbJson, type BridgeFdbEntry } from '../../../src/netns/parsers';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/netns');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

/** Pass 3: each task's overlay MAC and the address of the node that runs it. */
const TASKS = [
  { name: 'schemaregistry', mac: '02:42:0a:00:01:08', node: '10.99.0.10' },
  { name: 'nodeagent@swarm00', mac: '02:42:0a:00:01:02', node: '10.99.0.10' },
  { name: 'connect', mac: '02:42:0a:00:01:10', node: '10.99.0.11' },
  { name: 'nodeagent@swarm01', mac: '02:42:0a:00:01:11', node: '10.99.0.11' },
  { name: 'sourcemysql', mac: '02:42:0a:00:01:0e', node: '10.99.0.12' },
  { name: 'nodeagent@swarm02', mac: '02:42:0a:00:01:0f', node: '10.99.0.12' },
];
const NODES: Record<string, string> = { swarm00: '10.99.0.10', swarm01: '10.99.0.11', swarm02: '10.99.0.12' };
const remoteRows = (entries: BridgeFdbEntry[]) => entries.filter((e) => e.dst !== undefined);

describe('parseBridgeFdbJson: vxlan0 in the overlay namespace', () => {
  const vxlan0 = parseBridgeFdbJson(fixture('swarm00-overlay-backend-bridge-j-fdb-show-dev-vxlan0.json'), { dev: 'vxlan0' });

  it('reads the remote rows: task MAC -> node address (VTEP), self, permanent, underlay in netns 0', () => {
    assert.deepEqual(vxlan0.problems, []);
    const sourcemysql = remoteRows(vxlan0.entries).find((e) => e.mac === '02:42:0a:00:01:0e');
    assert.deepEqual(sourcemysql, { mac: '02:42:0a:00:01:0e', flags: ['self'], state: 'permanent', dev: 'vxlan0', dst: '10.99.0.12', linkNetnsId: 0 });
    assert.equal(remoteRows(vxlan0.entries).find((e) => e.mac === '02:42:0a:00:01:10')?.dst, '10.99.0.11', 'connect on swarm01');
  });

  it('reads the bridge rows too: a MAC learned on vxlan0 (state "") and vxlan0\'s own MAC (permanent)', () => {
    const bridgeRows = vxlan0.entries.filter((e) => e.master === 'br0');
    assert.deepEqual(bridgeRows.map((e) => [e.mac, e.state, e.flags]), [
      ['02:42:0a:00:01:0e', '', []],
      ['0e:64:67:ce:4f:31', 'permanent', []],
    ]);
  });

  it('"dev" comes from the caller: bridge leaves "ifname" out when filtering by dev', () => {
    const unnamed = parseBridgeFdbJson(fixture('swarm00-overlay-backend-bridge-j-fdb-show-dev-vxlan0.json'));
    assert.ok(unnamed.entries.every((e) => e.dev === undefined));
  });

  it('on every node, every remote task of pass 3 has exactly one row with its node as dst; no local task has one', () => {
    for (const [node, self] of Object.entries(NODES)) {
      const { entries, problems } = parseBridgeFdbJson(fixture(`${node}-overlay-backend-bridge-j-fdb-show-dev-vxlan0.json`), { dev: 'vxlan0' });
      assert.deepEqual(problems, [], node);
      for (const task of TASKS) {
        const rows = remoteRows(entries).filter((e) => e.mac === task.mac).map((e) => e.dst);
        assert.deepEqual(rows, task.node === self ? [] : [task.node], `${node}: ${task.name}`);
      }
      // one more MAC per remote node: its load-balancer endpoint (see the fixtures README)
      assert.equal(remoteRows(entries).length, 6, node);
    }
  });

  it('the full table of the overlay namespace names each port: br0, vxlan0, veth0-2', () => {
    const { entries, problems } = parseBridgeFdbJson(fixture('swarm00-overlay-backend-bridge-j-fdb-show.json'));
    assert.deepEqual(problems, []);
    assert.deepEqual([...new Set(entries.map((e) => e.dev))], ['br0', 'vxlan0', 'veth0', 'veth1', 'veth2']);
    assert.equal(entries.find((e) => e.mac === '02:42:0a:00:01:08')?.dev, 'veth1', 'schemaregistry is local on swarm00');
    assert.equal(remoteRows(entries).length, 6);
    for (const node of ['swarm01', 'swarm02']) {
      assert.deepEqual(parseBridgeFdbJson(fixture(`${node}-overlay-backend-bridge-j-fdb-show.json`)).problems, [], node);
    }
  });
});

describe("parseBridgeFdbJson: a node's host namespace", () => {
  it('reads multicast self rows and bridge port rows (swarm00, swarm02, pass 5)', () => {
    const { entries, problems } = parseBridgeFdbJson(fixture('swarm00-host-bridge-j-fdb-show.json'));
    assert.deepEqual(problems, []);
    assert.equal(entries.length, 25);
    assert.deepEqual(entries[0], { mac: '33:33:00:00:00:01', flags: ['self'], state: 'permanent', dev: 'eth0' });
    assert.deepEqual(
      entries.filter((e) => e.master === 'docker_gwbridge').map((e) => e.dev),
      ['docker_gwbridge', 'veth97bb3c8', 'veth38b012c', 'vethaddb2d7'],
    );
    assert.equal(parseBridgeFdbJson(fixture('swarm02-host-bridge-j-fdb-show.json')).problems.length, 0);
  });
});

describe('parseBridgeFdbJson: edge cases', () => {
  it('empty output, not JSON, rows without mac', () => {
    assert.deepEqual(parseBridgeFdbJson(''), { entries: [], problems: [] });
    assert.equal(parseBridgeFdbJson('Error: Cannot find device "vxlan0"').problems.length, 1);
    const { entries, problems } = parseBridgeFdbJson('[{"ifname":"vxlan0"},{"mac":"aa:bb:cc:dd:ee:ff"}]');
    assert.deepEqual(entries, [{ mac: 'aa:bb:cc:dd:ee:ff', flags: [], state: '' }]);
    assert.match(problems[0].reason, /no mac/);
  });

  it('reads vlan, vni, port and link_netnsid spelled the ip way (not recorded: the lab uses none of them)', () => {
    const { entries } = parseBridgeFdbJson('[{"mac":"aa:bb:cc:dd:ee:ff","ifname":"vx","vlan":10,"dst":"10.99.0.11","port":4790,"vni":42,"link_netnsid":2,"flags":["self","extern_learn"],"state":"static"}]');
    assert.deepEqual(entries[0], {
      mac: 'aa:bb:cc:dd:ee:ff', flags: ['self', 'extern_learn'], state: 'static', dev: 'vx', dst: '10.99.0.11', vlan: 10, vni: 42, port: 4790, linkNetnsId: 2,
    });
  });
});
