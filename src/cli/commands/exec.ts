// swarm-doctor exec <task|node|service> [--ns sandbox|host|ingress|lb:NET|overlay:NET]
//                    [--via auto|direct|manager] -- <command...>
import type { EngineClient } from '../../engine/types';
import { freeCommand } from '../../netns/command';
import type { LocalNode } from '../../netns/localTransport';
import { formatHeader } from '../../netns/format';
import { NodeEngines } from '../../netns/nodeEngines';
import { removeLeftovers } from '../../netns/transports';
import { resolveTargets } from '../../netns/resolveTarget';
import { CommandRunner, type TransportChoice } from '../../netns/runner';
import { describeTarget, parseNamespaceOption, type Target, type TargetNode } from '../../netns/target';
import { fetchSwarm } from '../../swarm/fetchSnapshot';
import { UsageError } from '../args';
import type { SwarmSnapshot } from '../../swarm/snapshot';

/** How the CLI's commands reach the nodes (flags and SWARM_DOCTOR_* variables). */
export interface RunnerCliOptions {
  helperImage: string;
  netnsFolder: string;
  nodeEndpoints: Record<string, string>;
  localNodes: Record<string, LocalNode>;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ExecOptions extends RunnerCliOptions {
  name: string | undefined;
  argv: string[];
  ns?: string;
  via?: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

const VIA = new Set(['auto', 'direct', 'manager', 'local']);

/**
 * What exec and capture share: the named targets, a runner for them, and, first of all, the removal
 * of helpers a crashed earlier run left behind (its process is gone).
 */
export async function openRunner(manager: EngineClient, name: string, options: RunnerCliOptions & { ns?: string; via?: string }): Promise<{ targets: Target[]; engines: NodeEngines; runner: CommandRunner; snapshot: SwarmSnapshot }> {
  let choice;
  try {
    choice = options.ns ? parseNamespaceOption(options.ns) : undefined;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { summary, snapshot } = await fetchSwarm(manager, { signal: options.signal });
  const targets = resolveTargets(snapshot, name, choice);
  const { engines, runner } = await createRunner(manager, summary.swarm.nodeId, targets.map((t) => t.node), options);
  return { targets, engines, runner, snapshot };
}

/** A runner for the given nodes, after removing the helpers a crashed earlier run left on them. */
export async function createRunner(manager: EngineClient, managerNodeId: string | undefined, nodes: TargetNode[], options: RunnerCliOptions & { via?: string }): Promise<{ engines: NodeEngines; runner: CommandRunner }> {
  if (options.via && !VIA.has(options.via)) throw new UsageError(`--via must be auto, direct, manager or local, not "${options.via}"`);
  const engines = new NodeEngines({ manager, managerNodeId, endpoints: options.nodeEndpoints, timeoutMs: options.timeoutMs });
  const runner = new CommandRunner(engines, { via: (options.via ?? 'auto') as TransportChoice, helperImage: options.helperImage, netnsFolder: options.netnsFolder, timeoutMs: options.timeoutMs, localNodes: options.localNodes });
  try {
    await removeLeftovers([...new Set([manager, ...nodes.map((n) => engines.engineFor(n)).filter((e) => e !== undefined)])]);
  } catch (error) {
    engines.dispose();
    throw error;
  }
  return { engines, runner };
}

export async function runExec(manager: EngineClient, options: ExecOptions): Promise<number> {
  if (!options.name) throw new UsageError('exec needs a task, node or service name');
  if (!options.argv.length) throw new UsageError('exec needs a command after --, e.g. `-- iptables -S`');
  const { targets, engines, runner } = await openRunner(manager, options.name, options);
  const command = freeCommand(options.argv);
  try {
    if (targets.length === 1) {
      const result = await runner.run({ target: targets[0], command, signal: options.signal });
      options.err.write(formatHeader(result));
      options.out.write(result.stdout);
      options.err.write(result.stderr);
      return result.exitCode;
    }
    // Several tasks: one section each, in the order of the tasks.
    const results = await runner.runEach(targets, command, { signal: options.signal });
    let worst = 0;
    results.forEach((settled, i) => {
      if (settled.status === 'fulfilled') {
        options.out.write(`${formatHeader(settled.value)}${settled.value.stdout}${settled.value.stderr ? `# ---- stderr ----\n${settled.value.stderr}` : ''}\n`);
        worst = Math.max(worst, settled.value.exitCode);
      } else {
        options.out.write(`# where:    ${describeTarget(targets[i])}\n# error:    ${(settled.reason as Error).message}\n\n`);
        worst = Math.max(worst, 1);
      }
    });
    return worst;
  } finally {
    engines.dispose();
  }
}

/** "a=unix:///x,b=ssh://y" or JSON, from --node-endpoint flags or SWARM_DOCTOR_NODE_ENDPOINTS. */
export function parseNodeEndpoints(values: string[]): Record<string, string> {
  const endpoints: Record<string, string> = {};
  for (const value of values) {
    const trimmed = value.trim();
    if (!trimmed) continue;
    if (trimmed.startsWith('{')) {
      Object.assign(endpoints, JSON.parse(trimmed) as Record<string, string>);
      continue;
    }
    for (const pair of trimmed.split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--node-endpoint wants NODE=HOST, not "${pair}"`);
      endpoints[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
  }
  return endpoints;
}
