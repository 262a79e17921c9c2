// Latency of one command in a task's namespace, per transport, on the lab swarm.
// Targets: direct under 0.5 s, manager-only under 2.5 s (p50). The peer run is the docker CLI's own
// `docker run --rm --net container:<id>` with the same image and command, timed in the same script.
import { execFileSync, spawnSync } from 'node:child_process';
import { connectEngine } from '../src/engine/dockerodeEngine';
import { parseDockerHost } from '../src/engine/endpoint';
import { freeCommand } from '../src/netns/command';
import { NodeEngines } from '../src/netns/nodeEngines';
import { resolveTargets } from '../src/netns/resolveTarget';
import { CommandRunner } from '../src/netns/runner';
import { fetchSwarm } from '../src/swarm/fetchSnapshot';

const RUNS = 12;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * q) - 1)];

interface LabInfo {
  nodes: { name: string; socket: string }[];
  toolsImage: string;
}

export async function transportBench(): Promise<boolean> {
  let lab: LabInfo;
  try {
    lab = JSON.parse(execFileSync('bash', ['lab/lab.sh', 'info'], { encoding: 'utf8' })) as LabInfo;
    execFileSync('bash', ['lab/lab.sh', 'status'], { stdio: 'ignore' });
  } catch {
    console.log('transports: NOT MEASURED: the lab swarm is not up (npm run lab -- up)');
    return false;
  }
  const manager = connectEngine(parseDockerHost(`unix://${lab.nodes[0].socket}`, 'bench'));
  const { summary, snapshot } = await fetchSwarm(manager);
  const engines = new NodeEngines({ manager, managerNodeId: summary.swarm.nodeId, endpoints: Object.fromEntries(lab.nodes.map((n) => [n.name, `unix://${n.socket}`])), timeoutMs: 15_000 });
  const runner = new CommandRunner(engines, { via: 'auto', helperImage: lab.toolsImage, netnsFolder: '/var/run/docker/netns', timeoutMs: 30_000 });
  const [target] = resolveTargets(snapshot, 'sourcemysql.1');
  const command = freeCommand(['ip', '-o', 'addr']);
  const results: Record<string, number[]> = { direct: [], manager: [], 'docker CLI (peer)': [] };
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const via of ['direct', 'manager'] as const) {
        const t0 = performance.now();
        const r = await runner.run({ target, command, via });
        if (r.exitCode !== 0) throw new Error(`${via}: exit ${r.exitCode}: ${r.stderr}`);
        results[via].push(performance.now() - t0);
      }
      if (target.ns !== 'sandbox') throw new Error('expected a sandbox');
      const socket = lab.nodes.find((n) => n.name === target.node.hostname)!.socket;
      const t0 = performance.now();
      const peer = spawnSync('/usr/bin/docker', ['-H', `unix://${socket}`, 'run', '--rm', '--net', `container:${target.task.containerId}`, '--cap-add', 'NET_ADMIN', lab.toolsImage, 'ip', '-o', 'addr'], { encoding: 'utf8' });
      if (peer.status !== 0) throw new Error(`docker CLI: ${peer.stderr}`);
      results['docker CLI (peer)'].push(performance.now() - t0);
    }
  } finally {
    engines.dispose();
    manager.dispose();
  }
  const p50 = (k: string) => quantile(results[k], 0.5);
  console.log(`transports: one \`ip -o addr\` in sourcemysql.1's sandbox on swarm02, ${RUNS} runs each`);
  for (const key of Object.keys(results)) console.log(`  ${key.padEnd(18)} p50 ${(p50(key) / 1000).toFixed(2)} s   p95 ${(quantile(results[key], 0.95) / 1000).toFixed(2)} s`);
  const directOk = p50('direct') < 500;
  const managerOk = p50('manager') < 2500;
  console.log(`  direct / docker CLI: ${(p50('direct') / p50('docker CLI (peer)')).toFixed(2)}   targets: direct < 0.5 s ${directOk ? 'met' : 'MISSED'}, manager-only < 2.5 s ${managerOk ? 'met' : 'MISSED'}`);
  return directOk && managerOk;
}
