// The lab swarm as the e2e runs see it: the settings that point the extension at it (the same ones
// `npm run demo` uses), its state, and a little client traffic for the capture journey.
import { execFile, execFileSync } from 'node:child_process';
import * as path from 'node:path';

export interface LabInfo {
  nodes: { name: string; role: string; socket: string }[];
  toolsImage: string;
  manager: string;
  schemaregistry: { port: number; node: string };
}

function labSh(repoRoot: string, ...args: string[]): string {
  return execFileSync('bash', [path.join(repoRoot, 'lab', 'lab.sh'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

/** Injects or removes one of lab/faults.sh's faults (incident, vxlan-drop, mtu, encrypted). */
export function labFault(repoRoot: string, name: string, state: 'on' | 'off'): void {
  execFileSync('bash', [path.join(repoRoot, 'lab', 'faults.sh'), name, state], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

export function labInfo(repoRoot: string): LabInfo {
  return JSON.parse(labSh(repoRoot, 'info')) as LabInfo;
}

/** `npm run lab -- status` as text (for failure reports), never throws. */
export function labStatus(repoRoot: string): string {
  try {
    return labSh(repoRoot, 'status');
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return `lab status failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}

/** User settings for the extension: the lab's manager, its tools image, each node's own engine. */
export function labSettings(repoRoot: string): Record<string, unknown> {
  const env = labSh(repoRoot, 'env');
  const host = /^\s*(?:export\s+)?DOCKER_HOST=["']?([^"'\s]+)/m.exec(env)?.[1];
  if (!host) throw new Error(`lab/lab.sh env printed no DOCKER_HOST:\n${env}`);
  const info = labInfo(repoRoot);
  return {
    'swarmDoctor.host': host,
    'swarmDoctor.helperImage': info.toolsImage,
    'swarmDoctor.nodeEndpoints': Object.fromEntries(info.nodes.map((n) => [n.name, `unix://${n.socket}`])),
  };
}

function docker(socket: string, args: string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', ['-H', `unix://${socket}`, ...args], { encoding: 'utf8', timeout: timeoutMs }, (error, stdout, stderr) =>
      error ? reject(new Error(`docker ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
}

/**
 * HTTP requests from a task of `fromService` to schemaregistry, one a second, each through a
 * short `docker exec` on the task's own node (so nothing keeps running in the container once
 * stopped). The capture journey needs packets to see; the lab's clients are otherwise idle.
 */
export async function startClientTraffic(repoRoot: string, fromService = 'connect'): Promise<{ stop(): Promise<{ requests: number; lastError: string }> }> {
  const info = labInfo(repoRoot);
  let container: { socket: string; id: string } | undefined;
  for (const node of info.nodes) {
    const id = (await docker(node.socket, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${fromService}`]).catch(() => '')).trim().split('\n')[0];
    if (id) {
      container = { socket: node.socket, id };
      break;
    }
  }
  if (!container) throw new Error(`no running container of service ${fromService} on any lab node`);
  const url = `http://schemaregistry:${info.schemaregistry.port}/`;
  let stopped = false;
  let requests = 0;
  let lastError = '';
  const loop = (async () => {
    while (!stopped) {
      // (busybox wget's -T crashes in the lab image; the docker client is stopped after 10 s instead)
      await docker(container.socket, ['exec', container.id, 'wget', '-q', '-O', '/dev/null', url], 10_000).then(
        () => requests++,
        (error: Error) => (lastError = error.message),
      );
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { requests, lastError };
    },
  };
}

