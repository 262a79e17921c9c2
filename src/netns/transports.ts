// HOW a command gets to its namespace. Each transport turns (target, command) into a run on some
// engine, and says in words what it did, for the output header.
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { EngineError } from '../engine/errors';
import type { EngineClient, ProcessOutput, RunOptions } from '../engine/types';
import type { NetCommand } from './command';
import { HELPER_LABEL } from '../swarm/snapshot';
import { namespaceFileName, type Target } from './target';

export type TransportKind = 'direct' | 'manager' | 'local';

export { HELPER_LABEL } from '../swarm/snapshot';
export const OWNER_LABEL = 'swarm-doctor.owner';

export interface TransportSettings {
  helperImage: string;
  /** The engine's netns folder as seen on the node (for swarm's own namespaces). */
  netnsFolder: string;
}

export interface TransportRun extends ProcessOutput {
  /** e.g. "helper container on swarm02's engine unix:///...". */
  how: string;
}

/** Labels that let a later start find and remove what a crashed run left behind. */
export function helperLabels(purpose: string): Record<string, string> {
  return { [HELPER_LABEL]: purpose, [OWNER_LABEL]: `${os.hostname()}:${process.pid}`, 'swarm-doctor.started': new Date().toISOString() };
}

const uniqueName = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/**
 * Finds a task's sandbox by one of its addresses among the node's namespace files and runs the
 * command there. Fixed text: the address and the command come in as positional arguments.
 */
export const FIND_SANDBOX_SCRIPT = [
  'dir="$1"; shift; addresses="$1"; shift',
  'for f in "$dir"/*; do',
  '  case "${f##*/}" in ingress_sbox|lb_*|1-*) continue ;; esac',
  '  own=$(nsenter --net="$f" ip -o addr show 2>/dev/null) || continue',
  '  for a in $addresses; do',
  '    case "$own" in *" $a/"*) exec nsenter --net="$f" -- "$@" ;; esac',
  '  done',
  'done',
  'echo "swarm-doctor: no network namespace on this node has the address(es) $addresses" >&2',
  'exit 125',
].join('\n');

/** Exit status the scripts above use when the namespace is not there. */
export const NAMESPACE_NOT_FOUND = 125;

function swarmNamespacePath(settings: TransportSettings, target: Target): string {
  return `/netns/${namespaceFileName(target)}`;
}

export async function runDirect(engine: EngineClient, target: Target, command: NetCommand, settings: TransportSettings, options: RunOptions): Promise<TransportRun> {
  const capAdd = [...new Set(command.capabilities)];
  const labels = helperLabels('command');
  const name = uniqueName('swarm-doctor-helper');
  const how = `helper container (${settings.helperImage}) on the node's engine ${engine.endpoint.url}`;
  switch (target.ns) {
    case 'sandbox':
      return { how: `${how}, --net container:${target.task.containerId.slice(0, 12)}`, ...(await engine.runContainer({ image: settings.helperImage, argv: command.argv, networkMode: `container:${target.task.containerId}`, capAdd, labels, name }, options)) };
    case 'attached':
      throw new EngineError('config', 'A probe task attached to a network can only be created through the manager.', 'Use the manager transport.');
    case 'host':
      return { how: `${how}, --net host`, ...(await engine.runContainer({ image: settings.helperImage, argv: command.argv, networkMode: 'host', capAdd, labels, name }, options)) };
    default: {
      // Swarm's own namespaces exist only as files in the engine's netns folder: enter by nsenter.
      const path = swarmNamespacePath(settings, target);
      return {
        how: `${how}, nsenter --net=${settings.netnsFolder}/${namespaceFileName(target)}`,
        ...(await engine.runContainer(
          { image: settings.helperImage, argv: ['nsenter', `--net=${path}`, '--', ...command.argv], networkMode: 'none', capAdd: [...new Set([...capAdd, 'SYS_ADMIN'])], binds: [`${settings.netnsFolder}:/netns:ro`], labels, name },
          options,
        )),
      };
    }
  }
}

export async function runThroughManager(manager: EngineClient, target: Target, command: NetCommand, settings: TransportSettings, options: RunOptions): Promise<TransportRun> {
  const labels = helperLabels('job');
  const name = uniqueName('swarm-doctor-job');
  const mount = { source: settings.netnsFolder, target: '/netns', readOnly: true, propagation: 'rslave' as const };
  const how = `one-shot service ${name} (${settings.helperImage}) pinned to ${target.node.hostname}, created through the manager ${manager.endpoint.url}`;
  const capAdd = [...new Set([...command.capabilities, 'SYS_ADMIN'])];
  let argv: string[];
  let network: string | undefined;
  let mounts = [mount];
  switch (target.ns) {
    case 'sandbox':
      if (!target.task.addresses.length) throw new EngineError('engine', `The task ${target.task.name} has no network address, so a job cannot find its namespace.`, 'Use the direct transport (configure swarmDoctor.nodeEndpoints for its node).');
      argv = ['sh', '-c', FIND_SANDBOX_SCRIPT, 'find-sandbox', '/netns', target.task.addresses.join(' '), ...command.argv];
      break;
    case 'host':
      argv = command.argv;
      network = 'host';
      mounts = [];
      break;
    case 'attached':
      argv = command.argv;
      network = target.network.id;
      mounts = [];
      break;
    default:
      argv = ['nsenter', `--net=${swarmNamespacePath(settings, target)}`, '--', ...command.argv];
  }
  const result = await manager.runNodeJob({ image: settings.helperImage, argv, nodeId: target.node.id, capAdd: target.ns === 'host' || target.ns === 'attached' ? [...new Set(command.capabilities)] : capAdd, mounts, network, labels, name }, options);
  return { how, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

/** Removes helper containers and jobs that a crashed run of ours left behind (owner process gone). */
export async function removeLeftovers(engines: EngineClient[], options: { maxAgeMs?: number } = {}): Promise<number> {
  const maxAge = options.maxAgeMs ?? 60 * 60 * 1000;
  let removed = 0;
  for (const engine of engines) {
    for (const kind of ['container', 'service'] as const) {
      let resources;
      try {
        resources = await engine.listLabeled(kind, HELPER_LABEL, { timeoutMs: 5000 });
      } catch {
        continue; // a worker cannot list services; an unreachable engine is reported elsewhere
      }
      for (const resource of resources) {
        const [host, pid] = (resource.labels[OWNER_LABEL] ?? '').split(':');
        const age = resource.createdAt ? Date.now() - Date.parse(resource.createdAt) : Infinity;
        const ownerGone = host === os.hostname() && pid !== undefined && !processAlive(Number(pid));
        if (ownerGone || age > maxAge || host === undefined || host === '') {
          await engine.removeResource(kind, resource.id).then(() => removed++, () => undefined);
        }
      }
    }
  }
  return removed;
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
