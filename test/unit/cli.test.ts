import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseArgs, UsageError } from '../../src/cli/args';
import { runCli } from '../support/runCli';
import { startFakeEngine, type FakeEngine } from '../support/fakeEngine';
import { syntheticSwarm } from '../support/syntheticSwarm';

const run = runCli;

describe('swarm-doctor CLI', () => {
  const raw = syntheticSwarm({ nodes: 3, services: 2, tasks: 4 });
  let engine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ '/info': raw.info, '/version': raw.version, '/nodes': raw.nodes, '/services': raw.services, '/tasks': raw.tasks, '/networks': raw.networks });
  });
  after(() => engine.close());

  it('ls nodes prints a table like docker node ls', async () => {
    const { code, out } = await run(['ls', 'nodes', '--host', `unix://${engine.socketPath}`]);
    assert.equal(code, 0);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0], /^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ADDRESS/);
    assert.equal(lines.length, 4);
    assert.match(lines[1], /node000\s+ready\s+active\s+leader\s+192\.168\.0\.0/);
  });

  it('ls tasks --json gives names, nodes and addresses', async () => {
    const { code, out } = await run(['ls', 'tasks', '--json', `--host=unix://${engine.socketPath}`]);
    assert.equal(code, 0);
    const tasks = JSON.parse(out) as { name: string; nodeHostname: string; addresses: { addresses: string[] }[] }[];
    assert.equal(tasks.length, 4);
    assert.ok(tasks.every((t) => t.name && t.nodeHostname && t.addresses[0].addresses.length === 1));
  });

  it('ls services and networks print tables', async () => {
    assert.match((await run(['ls', 'services', '--host', `unix://${engine.socketPath}`])).out, /svc0\s+global\s+2\/2/);
    assert.match((await run(['ls', 'networks', '--host', `unix://${engine.socketPath}`])).out, /net0\s+overlay\s+swarm\s+10\.0\.0\.0\/24\s+attachable\s+svc0,svc1/);
  });

  it('exit 1 with a sentence when the engine is unreachable; 2 on usage errors', async () => {
    const unreachable = await run(['ls', 'nodes', '--host', 'unix:///nonexistent/docker.sock']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.err, /^swarm-doctor: Cannot reach the Docker engine at unix:\/\/\/nonexistent\/docker\.sock: the socket does not exist\./);
    const context = await run(['ls', 'nodes', '--context', 'no-such-context']);
    assert.equal(context.code, 1);
    assert.match(context.err, /docker context "no-such-context" \(context "no-such-context" from the command line\) does not exist/);
    assert.equal((await run(['ls', 'pods', '--host', `unix://${engine.socketPath}`])).code, 2);
    assert.equal((await run(['ls', '--frobnicate'])).code, 2);
    assert.equal((await run(['--help'])).code, 0);
  });

  it('parses flags, values and the rest after --', () => {
    const parsed = parseArgs(['exec', 'web.1', '--via=manager', '--json', '--', 'iptables', '-S', '--x'], new Set(['via']), new Set(['json']));
    assert.deepEqual(parsed.positionals, ['exec', 'web.1']);
    assert.equal(parsed.flags.get('via'), 'manager');
    assert.deepEqual(parsed.rest, ['iptables', '-S', '--x']);
    assert.throws(() => parseArgs(['--via'], new Set(['via']), new Set()), UsageError);
  });

  it('pcap decodes a capture without an engine: filter, JSON, conversations', async () => {
    const { join } = await import('node:path');
    const file = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'viewer', 'incident.pcap');
    const rst = await run(['pcap', file, '--filter', 'tcp.flags.reset', '--json']);
    assert.equal(rst.code, 0, rst.err);
    const rows = rst.out.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => [r.number, r.source, r.destination]), [[2, '10.0.1.2', '10.0.1.10']]);
    // Named as the swarm had them when the capture was taken (incident.pcap.names.json beside it).
    assert.deepEqual([rows[0].sourceName, rows[0].destinationName], ['schemaregistry.1 on swarm00', 'sourcemysql.1 on swarm02']);
    const text = await run(['pcap', file, '--filter', 'tcp.flags.reset']);
    assert.match(text.out, /^\s+2 \s*0\.000028 10\.0\.1\.2 \(schemaregistry\.1 on swarm00\) → 10\.0\.1\.10 \(sourcemysql\.1 on swarm02\) TCP 60 8081 → 53880 \[RST, ACK\]/);
    const conversations = await run(['pcap', file, '--conversations']);
    assert.match(conversations.out, /10\.0\.1\.10:\d+ \(sourcemysql\.1 on swarm02\)\s+10\.0\.1\.2:8081 \(schemaregistry\.1 on swarm00\).*refused: RST from 10\.0\.1\.2:8081 \(the server\) after the SYN/);
    assert.match(conversations.out, /10\.0\.1\.9:\d+ \(connect\.1 on swarm01\)\s+10\.0\.1\.2:8081 \(schemaregistry\.1 on swarm00\).*completed/);
    const bad = await run(['pcap', file, '--filter', 'tcp.port ==']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /bad filter: expected a value after "==".*\(at 12\)/);
    assert.equal((await run(['pcap', '/nonexistent.pcap'])).code, 2);
  });

  it('pcap --vxlan-port decodes VXLAN on a swarm\'s own data-path port (the inner SYN, not bare UDP)', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { tcpFrame, udpFrame, vxlanPayload } = await import('../../src/capture/frameBuilder');
    const { pcapFile } = await import('../../src/capture/pcapWriter');
    const inner = tcpFrame('10.0.1.3', '10.0.1.2', { srcPort: 40000, dstPort: 8081, seq: 1, flags: 0x02 });
    const outer = udpFrame('10.99.0.12', '10.99.0.10', 51000, 7789, vxlanPayload(4097, inner));
    const dir = mkdtempSync(join(tmpdir(), 'vxlan-port-'));
    const file = join(dir, 'vxlan-7789.pcap');
    writeFileSync(file, pcapFile({ linkType: 1 }, [{ bytes: outer, seconds: 1, nanoseconds: 0 }]));
    try {
      const plain = JSON.parse((await run(['pcap', file, '--json'])).out.trim());
      assert.equal(plain.protocol, 'UDP', 'port 7789 is plain UDP by default');
      const decoded = await run(['pcap', file, '--json', '--vxlan-port', '7789']);
      assert.equal(decoded.code, 0, decoded.err);
      const row = JSON.parse(decoded.out.trim());
      assert.deepEqual([row.source, row.destination, row.protocol], ['10.0.1.3', '10.0.1.2', 'TCP']);
      assert.equal((await run(['pcap', file, '--vxlan-port', '0'])).code, 2, 'a bad port is a usage error');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
