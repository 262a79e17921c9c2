import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demultiplex, FrameDecoder } from '../../src/engine/multiplexed';
import { networkFromApi, nodeFromApi, serviceFromApi, taskFromApi } from '../../src/engine/records';
import { CATALOG, catalogCommand } from '../../src/netns/catalog';
import { freeCommand, splitCommandLine } from '../../src/netns/command';
import { compareOutputs } from '../../src/netns/compare';
import { displayArgv, formatResult } from '../../src/netns/format';
import { resolveTargets } from '../../src/netns/resolveTarget';
import type { CommandResult } from '../../src/netns/runner';
import { describeTarget, namespaceFileName, parseNamespaceOption, type Target } from '../../src/netns/target';
import { buildSnapshot } from '../../src/swarm/snapshot';
import { syntheticSwarm } from '../support/syntheticSwarm';

const raw = syntheticSwarm({ nodes: 3, services: 4, tasks: 12 });
const snapshot = buildSnapshot({ nodes: raw.nodes.map(nodeFromApi), services: raw.services.map(serviceFromApi), tasks: raw.tasks.map(taskFromApi), networks: raw.networks.map(networkFromApi) });

describe('typed commands', () => {
  it('splits words like a shell, without expanding anything', () => {
    assert.deepEqual(splitCommandLine(`iptables -I INPUT -m comment --comment "two words" -j 'REJECT'`), ['iptables', '-I', 'INPUT', '-m', 'comment', '--comment', 'two words', '-j', 'REJECT']);
    assert.deepEqual(splitCommandLine('echo $(id) `id` ; rm -rf / | cat > x *'), ['echo', '$(id)', '`id`', ';', 'rm', '-rf', '/', '|', 'cat', '>', 'x', '*']);
    assert.deepEqual(splitCommandLine(`a\\ b "c\\"d" ''`), ['a b', 'c"d', '']);
    assert.throws(() => splitCommandLine('echo "open'), /Unclosed double quote/);
    assert.throws(() => freeCommand([]), /Type a command/);
  });

  it('catalog commands keep fixed scripts apart from their arguments', () => {
    const iptables = catalogCommand('iptables-nat');
    assert.equal(iptables.argv[0], 'sh');
    assert.equal(iptables.argv[1], '-c');
    assert.deepEqual(iptables.argv.slice(3), ['iptables', 'nat', '-nvL', '--line-numbers']);
    assert.doesNotMatch(iptables.argv[2], /\bnat\b/, 'the table is a positional argument, not part of the script');
    for (const entry of CATALOG) assert.ok(entry.command.argv.length > 0 && entry.command.title, entry.command.id);
    assert.equal(new Set(CATALOG.map((e) => e.command.id)).size, CATALOG.length, 'ids are unique');
    const ipvs = catalogCommand('ipvsadm');
    assert.match(ipvs.explainFailure!({ exitCode: 2, stdout: '', stderr: "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n" })!, /no IPVS/);
    assert.equal(ipvs.explainFailure!({ exitCode: 0, stdout: 'IP Virtual Server version 1.2.1', stderr: '' }), undefined);
  });

  it('shows argv quoted for reading', () => {
    assert.equal(displayArgv(['iptables', '-S', "it's", 'a b']), `iptables -S 'it'\\''s' 'a b'`);
  });
});

describe('targets', () => {
  it('names swarm namespaces as libnetwork does', () => {
    const node = { id: 'n', hostname: 'swarm01', address: '10.99.0.11' };
    assert.equal(namespaceFileName({ ns: 'overlay', node, network: { id: 'f7wl6iemdx9xfj88nr88cqrsf', name: 'backend' } }), '1-f7wl6iemdx');
    assert.equal(namespaceFileName({ ns: 'lb', node, network: { id: 'f7wl6iemdx9xfj88nr88cqrsf', name: 'backend' } }), 'lb_f7wl6iemd');
    assert.equal(namespaceFileName({ ns: 'ingress', node }), 'ingress_sbox');
    assert.throws(() => namespaceFileName({ ns: 'overlay', node, network: { id: '../../etc', name: 'x' } }), /not a network id/);
  });

  it('parses --ns', () => {
    assert.deepEqual(parseNamespaceOption('overlay:backend'), { ns: 'overlay', network: 'backend' });
    assert.deepEqual(parseNamespaceOption('host'), { ns: 'host' });
    assert.throws(() => parseNamespaceOption('lb'), /needs a network/);
    assert.throws(() => parseNamespaceOption('pid'), /must be sandbox/);
  });

  it('resolves tasks, nodes and services, and refuses what is ambiguous or absent', () => {
    const [task] = resolveTargets(snapshot, 'svc1.1');
    assert.equal(task.ns, 'sandbox');
    assert.match(describeTarget(task), /^node\d{3} \/ svc1\.1 \/ sandbox$/);
    const [host] = resolveTargets(snapshot, 'node002');
    assert.deepEqual([host.ns, host.node.hostname], ['host', 'node002']);
    const [overlay] = resolveTargets(snapshot, 'node002', { ns: 'overlay', network: 'net0' });
    assert.equal(overlay.ns === 'overlay' && overlay.network.name, 'net0');
    const all = resolveTargets(snapshot, 'svc2');
    assert.equal(all.length, 3);
    assert.throws(() => resolveTargets(snapshot, 'nope'), /No task, node or service is named "nope"/);
    assert.throws(() => resolveTargets(snapshot, 'node002', { ns: 'sandbox' }), /no sandbox of its own/);
    assert.throws(() => resolveTargets(snapshot, 'node002', { ns: 'overlay', network: 'nonet' }), /No network "nonet"/);
  });
});

describe('side by side', () => {
  it('aligns lines and marks the ones not everywhere', () => {
    const rows = compareOutputs([
      { label: 'a', text: '-P INPUT ACCEPT\n-A INPUT -s 10.0.1.5/32 -j REJECT\n-A FORWARD -j DOCKER' },
      { label: 'b', text: '-P INPUT ACCEPT\n-A FORWARD -j DOCKER' },
      { label: 'c', text: '-P INPUT ACCEPT\n-A FORWARD -j DOCKER\n-A OUTPUT -j LOG' },
    ]);
    assert.deepEqual(rows.map((r) => [r.cells, r.differs]), [
      [['-P INPUT ACCEPT', '-P INPUT ACCEPT', '-P INPUT ACCEPT'], false],
      [['-A INPUT -s 10.0.1.5/32 -j REJECT', undefined, undefined], true],
      [['-A FORWARD -j DOCKER', '-A FORWARD -j DOCKER', '-A FORWARD -j DOCKER'], false],
      [[undefined, undefined, '-A OUTPUT -j LOG'], true],
    ]);
  });

  it('pairs lines of the same shape, marks changed numbers, and can ignore them', () => {
    const cols = [{ label: 'a', text: '   12  720 ACCEPT all\n10.0.1.0/24 dev eth0 src 10.0.1.5' }, { label: 'b', text: '    3  180 ACCEPT all\n10.0.1.0/24 dev eth0 src 10.0.1.9' }];
    const rows = compareOutputs(cols);
    assert.equal(rows.length, 2, 'one row per shape');
    assert.deepEqual(rows.map((r) => [r.changed, r.missing, r.differs]), [[true, false, true], [true, false, true]]);
    assert.equal(compareOutputs(cols, { ignoreNumbers: true }).filter((r) => r.differs).length, 0);
    const same = compareOutputs([{ label: 'a', text: 'x 1' }, { label: 'b', text: 'x  1' }]);
    assert.deepEqual(same.map((r) => r.differs), [false], 'spacing is not a difference');
  });

  it('keeps repeated lines apart', () => {
    const rows = compareOutputs([{ label: 'a', text: 'x\nx' }, { label: 'b', text: 'x' }]);
    assert.deepEqual(rows.map((r) => r.differs), [false, true]);
  });
});

describe('engine stream framing', () => {
  function framed(type: number, text: string): Buffer {
    const header = Buffer.alloc(8);
    header[0] = type;
    header.writeUInt32BE(Buffer.byteLength(text), 4);
    return Buffer.concat([header, Buffer.from(text)]);
  }
  it('splits stdout and stderr, across chunk boundaries', () => {
    const body = Buffer.concat([framed(1, 'out1\n'), framed(2, 'err\n'), framed(1, 'out2\n')]);
    assert.deepEqual(demultiplex(body), { stdout: Buffer.from('out1\nout2\n'), stderr: Buffer.from('err\n'), leftover: 0 });
    const seen: string[] = [];
    const decoder = new FrameDecoder((kind, payload) => seen.push(`${kind}:${payload}`));
    for (let i = 0; i < body.length; i += 3) decoder.push(body.subarray(i, i + 3));
    assert.deepEqual(seen, ['stdout:out1\n', 'stderr:err\n', 'stdout:out2\n']);
    assert.equal(demultiplex(body.subarray(0, body.length - 2)).leftover, 13 - 2, 'a truncated last frame is reported');
  });
});

describe('output header', () => {
  it('says where, how, exit status and duration, and keeps stderr', () => {
    const target: Target = { ns: 'sandbox', node: { id: 'n', hostname: 'swarm02', address: '10.99.0.12' }, task: { id: 't', name: 'sourcemysql.1', containerId: 'c', addresses: ['10.0.1.5'] } };
    const result: CommandResult = { target, command: freeCommand(['iptables', '-nvL']), transport: 'manager', how: 'replicated job x pinned to swarm02', exitCode: 1, stdout: 'Chain INPUT\n', stderr: 'warning: x\n', startedAt: new Date('2026-11-26T12:00:00Z'), durationMs: 1234 };
    const text = formatResult(result);
    assert.match(text, /^# where:    swarm02 \/ sourcemysql\.1 \/ sandbox\n# command:  iptables -nvL\n# via:      manager: replicated job x pinned to swarm02\n# exit:     1 \(failed\)    took 1\.23 s    at 2026-11-26T12:00:00\.000Z\n/);
    assert.match(text, /Chain INPUT\n\n# ---- stderr ----\nwarning: x\n$/);
  });
});

describe('catalog parsing of real output', () => {
  it('splits the two iptables backends and parses each', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const text = readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'netns', 'swarm02-sourcemysql-catalog-iptables-filter.txt'), 'utf8');
    const sections = catalogCommand('iptables-filter').parse!(text) as { backend: string; ruleCount?: number; parsed?: { rules: { target: string; chain: string; pkts?: number }[] } }[];
    assert.deepEqual(sections.map((s) => [s.backend, s.ruleCount]), [['nft', 1], ['legacy', 0]]);
    const reject = sections[0].parsed!.rules.find((r) => r.target === 'REJECT');
    assert.ok(reject, 'the REJECT rule is parsed from the nft section');
    assert.equal(reject.chain, 'INPUT');
    assert.equal(sections[1].parsed!.rules.length, 0);
  });
});
