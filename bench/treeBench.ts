// Scale: model + tree items for 100 nodes / 1,000 services / 10,000 tasks, fetched from a fake
// engine over a real unix socket. Target: under 200 ms. The peer run fetches the same JSON with
// plain node:http and JSON.parse, the floor for any client.
import { fork } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { connectEngine } from '../src/engine/dockerodeEngine';
import { parseDockerHost } from '../src/engine/endpoint';
import { expandAll, rootEntries } from '../src/explorer/treeModel';
import { fetchSwarm } from '../src/swarm/fetchSnapshot';

const SIZE = { nodes: 100, services: 1000, tasks: 10_000 };
const RUNS = 15;
/** Runs before measuring, so the JIT has compiled the hot paths as it has in a long-lived extension host. */
const WARMUP = 3;

function getJson(socketPath: string, route: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: route }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      })
      .on('error', reject);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];

export async function treeBench(): Promise<boolean> {
  const child = fork(path.join(__dirname, '..', 'test', 'support', 'fakeEngineProcess.js'), [String(SIZE.nodes), String(SIZE.services), String(SIZE.tasks)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const socketPath = await new Promise<string>((resolve) => child.stdout!.once('data', (d) => resolve(String(d).trim())));
  try {
    const client = connectEngine(parseDockerHost(`unix://${socketPath}`, 'bench'), { timeoutMs: 30_000 });
    const peer: number[] = [];
    const fetchMs: number[] = [];
    const modelAndTree: number[] = [];
    const total: number[] = [];
    let entries = 0;
    let cold = 0;
    for (let run = -WARMUP; run < RUNS; run++) {
      if (run === 0) peer.length = fetchMs.length = modelAndTree.length = total.length = 0;
      let t0 = performance.now();
      await Promise.all(['/info', '/version', '/nodes', '/services', '/tasks', '/networks'].map((r) => getJson(socketPath, r)));
      peer.push(performance.now() - t0);

      t0 = performance.now();
      const { snapshot } = await fetchSwarm(client);
      const t1 = performance.now();
      entries = 0;
      for (const view of ['nodes', 'services', 'networks'] as const) entries += expandAll(rootEntries(snapshot, view), () => undefined);
      const t2 = performance.now();
      fetchMs.push(t1 - t0);
      modelAndTree.push(t2 - t1);
      total.push(t2 - t0);
      if (run === -WARMUP) cold = t2 - t0;
    }
    client.dispose();
    const ok = median(total) < 200;
    console.log(`tree: ${SIZE.nodes} nodes / ${SIZE.services} services / ${SIZE.tasks} tasks, ${entries} tree items in 3 views, ${RUNS} runs after ${WARMUP} warm-up runs; first (cold) run ${cold.toFixed(1)} ms`);
    console.log(`  fetch + model + all tree items: median ${median(total).toFixed(1)} ms, p95 ${p95(total).toFixed(1)} ms  (target < 200 ms: ${ok ? 'met' : 'MISSED'})`);
    console.log(`    of which fetch (dockerode, HTTP, JSON, records, snapshot): median ${median(fetchMs).toFixed(1)} ms`);
    console.log(`    of which tree items (all three views fully expanded; tooltips are built on hover): median ${median(modelAndTree).toFixed(1)} ms`);
    console.log(`  peer: plain node:http GET + JSON.parse of the same six payloads: median ${median(peer).toFixed(1)} ms`);
    console.log(`  ratio ours / peer: ${(median(total) / median(peer)).toFixed(2)}`);
    return ok;
  } finally {
    child.kill('SIGTERM');
  }
}
