// Commands in task namespaces on every node, by both transports, against the real lab swarm.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { EngineError } from '../../src/engine/errors';
import type { EngineClient } from '../../src/engine/types';
import { catalogCommand } from '../../src/netns/catalog';
import { freeCommand } from '../../src/netns/command';
import { NodeEngines } from '../../src/netns/nodeEngines';
import { resolveTargets } from '../../src/netns/resolveTarget';
import { CommandRunner } from '../../src/netns/runner';
import type { Target } from '../../src/netns/target';
import { HELPER_LABEL } from '../../src/netns/transports';
import { fetchSwarm } from '../../src/swarm/fetchSnapshot';
import type { SwarmSnapshot } from '../../src/swarm/snapshot';
import { engineOf, eventually, labInfo, labNodeEndpoints, managerEngine, labConverged } from '../support/lab';

const TASKS = { swarm00: 'schemaregistry.1', swarm01: 'connect.1', swarm02: 'sourcemysql.1' } as const;
const TRANSPORTS = ['direct', 'manager'] as const;

describe('network commands in task namespaces on the lab', () => {
  let manager: EngineClient;
  let snapshot: SwarmSnapshot;
  let engines: NodeEngines;
  let runner: CommandRunner;
  const targets = {} as Record<keyof typeof TASKS, Target>;

  before(async () => {
    await labConverged();
    manager = managerEngine();
    const fetched = await fetchSwarm(manager);
    snapshot = fetched.snapshot;
    engines = new NodeEngines({ manager, managerNodeId: fetched.summary.swarm.nodeId, endpoints: labNodeEndpoints(), timeoutMs: 15_000 });
    runner = new CommandRunner(engines, { via: 'auto', helperImage: labInfo().toolsImage, netnsFolder: '/var/run/docker/netns', timeoutMs: 30_000 });
    for (const [node, task] of Object.entries(TASKS)) {
      const [target] = resolveTargets(snapshot, task);
      assert.equal(target.node.hostname, node, `${task} runs on ${node}`);
      targets[node as keyof typeof TASKS] = target;
    }
  });
  after(() => {
    engines.dispose();
    manager.dispose();
  });

  for (const via of TRANSPORTS) {
    it(`ip -o addr shows each task's own addresses (${via})`, async () => {
      for (const [node, target] of Object.entries(targets)) {
        const result = await runner.run({ target, command: freeCommand(['ip', '-o', 'addr']), via });
        assert.equal(result.exitCode, 0, result.stderr);
        assert.equal(result.transport, via);
        assert.ok(target.ns === 'sandbox');
        for (const address of target.task.addresses) assert.match(result.stdout, new RegExp(` inet ${address.replace(/\./g, '\\.')}/`), `${node}: ${address} in\n${result.stdout}`);
        // No other task's address shows up in this namespace.
        for (const other of Object.values(targets)) {
          if (other === target || other.ns !== 'sandbox') continue;
          for (const address of other.task.addresses) assert.doesNotMatch(result.stdout, new RegExp(` inet ${address.replace(/\./g, '\\.')}/`));
        }
        assert.match(result.how, via === 'direct' ? /helper container .* --net container:/ : /one-shot service swarm-doctor-job-.* pinned to swarm0\d/);
      }
    });
  }

  it('a rule added in one task shows in iptables -S there only, by both transports', async () => {
    const marker = `sd-test-${randomBytes(4).toString('hex')}`;
    const add = ['iptables', '-I', 'INPUT', '-s', '192.0.2.77', '-p', 'tcp', '--dport', '8081', '-m', 'comment', '--comment', marker, '-j', 'REJECT', '--reject-with', 'tcp-reset'];
    const added = await runner.run({ target: targets.swarm02, command: freeCommand(add), via: 'direct' });
    assert.equal(added.exitCode, 0, added.stderr);
    try {
      for (const via of TRANSPORTS) {
        for (const [node, target] of Object.entries(targets)) {
          const result = await runner.run({ target, command: catalogCommand('iptables-filter-S'), via });
          assert.equal(result.exitCode, 0, result.stderr);
          assert.match(result.stdout, /### iptables-nft \(filter table\)/);
          const has = result.stdout.includes(marker);
          assert.equal(has, node === 'swarm02', `${via}: the rule is ${has ? '' : 'not '}in ${node}`);
          if (has) assert.match(result.stdout, new RegExp(`-A INPUT -s 192\\.0\\.2\\.77/32 -p tcp -m tcp --dport 8081 -m comment --comment ${marker} -j REJECT --reject-with tcp-reset`));
        }
      }
    } finally {
      const removed = await runner.run({ target: targets.swarm02, command: freeCommand(['iptables', '-D', ...add.slice(2)]), via: 'direct' });
      assert.equal(removed.exitCode, 0, removed.stderr);
    }
  });

  it('hostile words reach the program as they are, never a shell', async () => {
    const words = ['a; touch /tmp/pwned', '$(id)', '`id`', '&& echo x', "'quoted'", '*', '\n'];
    for (const via of TRANSPORTS) {
      const result = await runner.run({ target: targets.swarm01, command: freeCommand(['printf', '[%s]', ...words]), via });
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.stdout, words.map((w) => `[${w}]`).join(''));
    }
  });

  it('stderr and the exit status are kept; a missing tool is named', async () => {
    for (const via of TRANSPORTS) {
      const failing = await runner.run({ target: targets.swarm00, command: freeCommand(['ip', 'route', 'get', 'not-an-address']), via });
      assert.notEqual(failing.exitCode, 0);
      assert.match(failing.stderr, /not-an-address|Error/i);
      const missing = await runner.run({ target: targets.swarm00, command: freeCommand(['no-such-tool-xyz', '-v']), via }).then(
        (r) => r.explanation ?? `exit ${r.exitCode}: ${r.stderr}`,
        (e: EngineError) => e.message,
      );
      assert.match(missing, /"no-such-tool-xyz" is not in the helper image/, `${via}: ${missing}`);
    }
  });

  it('a helper image missing on the node gives a clear message', async () => {
    const noImage = new CommandRunner(engines, { via: 'auto', helperImage: 'swarm-lab/not-there:1', netnsFolder: '/var/run/docker/netns', timeoutMs: 30_000 });
    for (const via of TRANSPORTS) {
      await assert.rejects(noImage.run({ target: targets.swarm02, command: freeCommand(['true']), via }), (e: EngineError) => e.kind === 'imageMissing' && /swarm-lab\/not-there:1/.test(e.message), via);
    }
  });

  it('cancelling a running command leaves no helper container or job on any node', async () => {
    for (const via of TRANSPORTS) {
      const abort = new AbortController();
      const running = runner.run({ target: targets.swarm02, command: freeCommand(['sleep', '60']), via, signal: abort.signal });
      await new Promise((r) => setTimeout(r, via === 'direct' ? 1500 : 2500));
      abort.abort();
      await assert.rejects(running, (e: EngineError) => e.kind === 'cancelled', via);
    }
    assert.deepEqual(await manager.listLabeled('service', HELPER_LABEL), [], 'no job service left');
    // The nodes' agents stop and remove the task containers of a removed service within seconds.
    for (const node of labInfo().nodes) {
      const engine = engineOf(node.name);
      try {
        await eventually(`no helper container left on ${node.name}`, async () => ((await engine.listLabeled('container', HELPER_LABEL)).length === 0 ? true : undefined), 30_000);
      } finally {
        engine.dispose();
      }
    }
  });

  it('swarm\'s own namespaces: the overlay namespace of the network holds vxlan0', async () => {
    const [overlay] = resolveTargets(snapshot, 'swarm01', { ns: 'overlay', network: labInfo().network });
    for (const via of TRANSPORTS) {
      const result = await runner.run({ target: overlay, command: freeCommand(['ip', '-d', 'link', 'show', 'vxlan0']), via });
      assert.equal(result.exitCode, 0, `${via}: ${result.stderr}`);
      assert.match(result.stdout, /vxlan id \d+/);
    }
    const [ingress] = resolveTargets(snapshot, 'swarm00', { ns: 'ingress' });
    const result = await runner.run({ target: ingress, command: freeCommand(['ip', '-o', 'addr']), via: 'direct' });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /inet 10\.0\.0\.\d+\/24/);
  });
});
