// Access to the lab swarm for lab tests: its layout (from `lab/lab.sh info`) and engine clients
// for the manager and for each node's own engine. A lab test fails, loudly, when the lab is down:
// `npm test` brings it up first.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { connectEngine } from '../../src/engine/dockerodeEngine';
import { parseDockerHost } from '../../src/engine/endpoint';
import type { EngineClient } from '../../src/engine/types';

export interface LabNode {
  name: string;
  role: 'manager' | 'worker';
  address: string;
  socket: string;
  netnsDir: string | null;
  pid: number;
}

export interface LabInfo {
  nodes: LabNode[];
  toolsImage: string;
  appImage: string;
  network: string;
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const LAB_SCRIPT = path.join(REPO_ROOT, 'lab', 'lab.sh');

export function lab(...args: string[]): string {
  return execFileSync('bash', [LAB_SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

let cached: LabInfo | undefined;
export function labInfo(): LabInfo {
  if (!cached) {
    try {
      cached = JSON.parse(lab('info')) as LabInfo;
    } catch (error) {
      throw new Error(`The lab swarm is not up (run \`npm run lab -- up\`): ${(error as Error).message}`);
    }
  }
  return cached;
}

export function labNode(name: string): LabNode {
  const node = labInfo().nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no lab node ${name}`);
  return node;
}

export function engineOf(name: string, timeoutMs = 10_000): EngineClient {
  return connectEngine(parseDockerHost(`unix://${labNode(name).socket}`, `lab ${name}`), { timeoutMs });
}

export function managerEngine(): EngineClient {
  return engineOf(labInfo().nodes.find((n) => n.role === 'manager')!.name);
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Every lab node's own engine endpoint, as swarmDoctor.nodeEndpoints takes them. */
export function labNodeEndpoints(): Record<string, string> {
  return Object.fromEntries(labInfo().nodes.map((n) => [n.name, `unix://${n.socket}`]));
}

/**
 * Waits until every node is Ready and every service runs all its tasks: after a test stopped and
 * restarted a node, swarm needs some seconds to replace the tasks it lost.
 */
export async function labConverged(timeoutMs = 90_000): Promise<void> {
  const { fetchSwarm } = await import('../../src/swarm/fetchSnapshot');
  const manager = managerEngine();
  try {
    await eventually(
      'every node Ready and every service fully running',
      async () => {
        const { snapshot } = await fetchSwarm(manager);
        const nodesReady = snapshot.nodes.length === labInfo().nodes.length && snapshot.nodes.every((n) => n.state === 'ready');
        const servicesRunning = snapshot.services.every((s) => {
          const health = snapshot.health.get(s.id);
          return health !== undefined && health.running === health.desired && health.desired > 0;
        });
        return nodesReady && servicesRunning ? true : undefined;
      },
      timeoutMs,
      1000,
    );
  } finally {
    manager.dispose();
  }
}
