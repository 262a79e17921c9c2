// conntrack -L parser on outputs recorded on the lab swarm (test/fixtures/netns/README.md).
// conntrack prints the entries on stdout and its summary line on stderr: both were kept.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConntrackList } from '../../../src/netns/parsers';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/netns');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

describe('parseConntrackList on recorded outputs', () => {
  it('reads a TCP entry of the server task: state, timeout, both tuples, ASSURED, mark, use', () => {
    const { connections, problems } = parseConntrackList(fixture('swarm00-task-schemaregistry-conntrack-L.txt'));
    assert.deepEqual(problems, []);
    assert.equal(connections.length, 4);
    const [tcp] = connections;
    assert.deepEqual([tcp.protocol, tcp.protocolNumber, tcp.timeout, tcp.state], ['tcp', 6, 95, 'TIME_WAIT']);
    assert.deepEqual(tcp.original, {
      src: '10.0.1.4', dst: '10.0.1.10', sport: 52624, dport: 8081,
      fields: { src: '10.0.1.4', dst: '10.0.1.10', sport: '52624', dport: '8081' },
    });
    assert.deepEqual([tcp.reply.src, tcp.reply.dst, tcp.reply.sport, tcp.reply.dport], ['10.0.1.10', '10.0.1.4', 8081, 52624]);
    assert.deepEqual([tcp.flags, tcp.assured, tcp.unreplied, tcp.mark, tcp.use, tcp.zone], [['ASSURED'], true, false, 0, 1, undefined]);
    assert.deepEqual(tcp.extra, {});
  });

  it('reads ICMP entries: no state, type/code/id in each direction', () => {
    const icmp = parseConntrackList(fixture('swarm00-task-schemaregistry-conntrack-L.txt')).connections[1];
    assert.deepEqual([icmp.protocol, icmp.protocolNumber, icmp.state], ['icmp', 1, undefined]);
    assert.deepEqual([icmp.original.type, icmp.original.code, icmp.original.id], [8, 0, 46]);
    assert.deepEqual([icmp.reply.type, icmp.reply.code, icmp.reply.id], [0, 0, 46]);
  });

  it('takes the count from the stderr summary line, alone or appended to stdout', () => {
    const stdout = fixture('swarm00-task-schemaregistry-conntrack-L.txt');
    const stderr = fixture('swarm00-task-schemaregistry-conntrack-L.stderr.txt');
    assert.deepEqual(parseConntrackList(stderr), { connections: [], shownCount: 4, problems: [] });
    const both = parseConntrackList(stdout + stderr);
    assert.equal(both.shownCount, both.connections.length);
  });

  it('the refused SYNs of the incident left no entry on either side (pass 2): only earlier, completed flows', () => {
    const server = parseConntrackList(fixture('swarm00-task-schemaregistry-conntrack-L-incident2.txt'));
    const client = parseConntrackList(fixture('swarm02-task-sourcemysql-conntrack-L.txt'));
    assert.equal(client.connections.length, parseConntrackList(fixture('swarm02-task-sourcemysql-conntrack-L.stderr.txt')).shownCount);
    for (const { connections } of [server, client]) {
      const fromClient = connections.filter((c) => c.protocol === 'tcp' && c.original.src === '10.0.1.9');
      assert.ok(fromClient.length > 0);
      assert.ok(fromClient.every((c) => c.assured && c.state === 'TIME_WAIT' && c.original.dport === 8081));
    }
  });

  it("reads a node's host table: ESTABLISHED manager links, gossip, one-way VXLAN flows, IGMP as 'unknown'", () => {
    const stdout = fixture('swarm00-host-conntrack-L.txt');
    const { connections, problems } = parseConntrackList(stdout);
    assert.deepEqual(problems, []);
    assert.equal(connections.length, parseConntrackList(fixture('swarm00-host-conntrack-L.stderr.txt')).shownCount);
    const managerLinks = connections.filter((c) => c.state === 'ESTABLISHED');
    assert.deepEqual(managerLinks.map((c) => [c.original.src, c.original.dport, c.timeout > 400000]).sort(), [['10.99.0.11', 2377, true], ['10.99.0.12', 2377, true]]);
    // VXLAN: each direction picks its own source port, so no packet ever matches a reply tuple
    const vxlan = connections.filter((c) => c.protocol === 'udp' && c.original.dport === 4789);
    assert.ok(vxlan.length >= 2 && vxlan.every((c) => c.unreplied && !c.assured));
    const igmp = connections.filter((c) => c.protocol === 'unknown');
    assert.deepEqual(igmp.map((c) => [c.protocolNumber, c.original.dst, c.original.sport]), [[2, '224.0.0.22', undefined], [2, '224.0.0.22', undefined]]);
    assert.deepEqual(parseConntrackList(fixture('swarm02-host-conntrack-L.txt')).problems, []);
  });
});

describe('parseConntrackList: forms not in the recordings, and bad input', () => {
  it('-o extended (family prefix), zone, secctx, -o id, [OFFLOAD], an unreplied SYN_SENT', () => {
    const text = [
      'ipv4     2 tcp      6 118 SYN_SENT src=10.0.1.4 dst=10.0.1.10 sport=40000 dport=8081 [UNREPLIED] src=10.0.1.10 dst=10.0.1.4 sport=8081 dport=40000 mark=0 zone=3 use=1 id=123456',
      'tcp      6 86399 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 [OFFLOAD] mark=0x10 secctx=system_u:object_r:unlabeled_t:s0 use=2',
    ].join('\n');
    const { connections, problems } = parseConntrackList(text);
    assert.deepEqual(problems, []);
    const [syn, offloaded] = connections;
    assert.deepEqual([syn.family, syn.state, syn.unreplied, syn.zone, syn.use, syn.extra], ['ipv4', 'SYN_SENT', true, 3, 1, { id: '123456' }]);
    assert.equal(syn.reply.sport, 8081, 'id= after use= is the entry id, not an ICMP id');
    assert.equal(syn.reply.id, undefined);
    assert.deepEqual([offloaded.flags, offloaded.mark, offloaded.extra.secctx], [['OFFLOAD'], 16, 'system_u:object_r:unlabeled_t:s0']);
  });

  it('empty output, error messages and garbage become problems, not a crash', () => {
    assert.deepEqual(parseConntrackList(''), { connections: [], problems: [] });
    const text = [
      'conntrack v1.4.7 (conntrack-tools): Operation failed: Operation not permitted',
      'hello world',
      'tcp 6 10 ESTABLISHED weird',
      'udp 17 29 dport=53',
    ].join('\n');
    const { connections, problems } = parseConntrackList(text);
    assert.deepEqual(connections, []);
    assert.deepEqual(problems.map((p) => p.line), [1, 2, 3, 4]);
    assert.match(problems[0].reason, /conntrack reported an error/);
  });
});
