// The local transport: nsenter on this machine, for when VS Code (or the CLI) runs on the node
// itself with the rights to enter its namespaces. No helper container, so it is the fastest.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineError } from '../engine/errors';
import type { EngineClient, RunOptions } from '../engine/types';
import type { NetCommand } from './command';
import { namespaceFileName, type Target } from './target';
import type { TransportRun } from './transports';

/** Where this machine sees a node's namespaces. */
export interface LocalNode {
  /** The engine's netns folder as seen here (the SandboxKey folder). */
  netnsFolder: string;
  /** The node's host network namespace as seen here. */
  hostNetns: string;
}

/** The local node when the engine on this machine's default socket is the node itself. */
export async function detectLocalNode(hostname: string, engine: EngineClient | undefined): Promise<LocalNode | undefined> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0 || !engine || engine.endpoint.kind !== 'unix') return undefined;
  try {
    const summary = await engine.summary({ timeoutMs: 2000 });
    if (summary.name !== hostname || os.hostname() !== hostname) return undefined;
  } catch {
    return undefined;
  }
  return { netnsFolder: '/var/run/docker/netns', hostNetns: '/proc/1/ns/net' };
}

async function namespacePath(target: Target, local: LocalNode, nodeEngine: EngineClient | undefined, signal?: AbortSignal): Promise<string> {
  switch (target.ns) {
    case 'host':
      return local.hostNetns;
    case 'attached':
      throw new EngineError('config', 'A probe task attached to a network can only be created through the manager.', 'Use the manager transport.');
    case 'sandbox': {
      if (!nodeEngine) throw new EngineError('config', `The local transport needs ${target.node.hostname}'s own engine to find the task's namespace.`, 'Set swarmDoctor.nodeEndpoints for it.');
      const container = (await nodeEngine.inspectRaw('container', target.task.containerId, { signal })) as { NetworkSettings?: { SandboxKey?: string } };
      const key = container.NetworkSettings?.SandboxKey;
      if (!key) throw new EngineError('engine', `The container of ${target.task.name} has no network namespace (SandboxKey).`);
      return path.join(local.netnsFolder, path.basename(key));
    }
    default:
      return path.join(local.netnsFolder, namespaceFileName(target)!);
  }
}

export async function runLocal(target: Target, command: NetCommand, local: LocalNode, nodeEngine: EngineClient | undefined, options: RunOptions): Promise<TransportRun> {
  if (process.getuid?.() !== 0) {
    throw new EngineError('permission', 'The local transport needs root to enter another network namespace.', 'Run VS Code (or swarm-doctor) as root on the node, or use the direct or manager transport.');
  }
  const nsPath = await namespacePath(target, local, nodeEngine, options.signal);
  if (!fs.existsSync(nsPath)) {
    throw new EngineError('notFound', `The namespace file ${nsPath} does not exist on this machine.`, 'The task may have stopped, or the netns folder differs (setting swarmDoctor.localNodes).');
  }
  const argv = [`--net=${nsPath}`, '--', ...command.argv];
  return new Promise<TransportRun>((resolve, reject) => {
    const child = spawn('nsenter', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let ended: EngineError | undefined;
    const stop = (error: EngineError) => {
      ended ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(new EngineError('timeout', `${command.argv[0]} did not finish within ${options.timeoutMs / 1000} s; it was stopped.`)), options.timeoutMs);
    const onAbort = () => stop(new EngineError('cancelled', `Cancelled: ${command.title}.`));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      if (!options.discardStdout) stdout.push(chunk);
      options.onStdout?.(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      ended ??= new EngineError('toolMissing', error.code === 'ENOENT' ? 'nsenter is not installed on this machine (util-linux).' : `nsenter failed: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (ended) return reject(ended);
      resolve({ how: `nsenter --net=${nsPath} on this machine`, exitCode: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1), stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
    });
  });
}
