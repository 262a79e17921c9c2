// swarm-doctor capture <task|node> [--ns ...] [--via ...] [--filter EXPR] [--count N]
//                      [--duration S] [--interface IF] -o FILE
import * as path from 'node:path';
import type { EngineClient } from '../../engine/types';
import { NodeEngines } from '../../netns/nodeEngines';
import { resolveTargets } from '../../netns/resolveTarget';
import { CommandRunner, type TransportChoice } from '../../netns/runner';
import { describeTarget, parseNamespaceOption } from '../../netns/target';
import { removeLeftovers } from '../../netns/transports';
import { CaptureSession } from '../../recorder/captureSession';
import { fetchSwarm } from '../../swarm/fetchSnapshot';
import { UsageError } from '../args';
import type { RunnerCliOptions } from './exec';

export interface CaptureCliOptions extends RunnerCliOptions {
  name?: string;
  output?: string;
  ns?: string;
  via?: string;
  filter?: string;
  count?: number;
  durationSeconds?: number;
  interface?: string;
  err: NodeJS.WritableStream;
}

export async function runCapture(manager: EngineClient, options: CaptureCliOptions): Promise<number> {
  if (!options.name) throw new UsageError('capture needs a task or node name');
  if (!options.output) throw new UsageError('capture needs -o FILE');
  let choice;
  try {
    choice = options.ns ? parseNamespaceOption(options.ns) : undefined;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { summary, snapshot } = await fetchSwarm(manager, { signal: options.signal });
  const targets = resolveTargets(snapshot, options.name, choice);
  if (targets.length !== 1) throw new UsageError(`"${options.name}" names ${targets.length} tasks: name one task (e.g. ${options.name}.1) or a node`);
  const engines = new NodeEngines({ manager, managerNodeId: summary.swarm.nodeId, endpoints: options.nodeEndpoints, timeoutMs: options.timeoutMs });
  const runner = new CommandRunner(engines, { via: (options.via ?? 'auto') as TransportChoice, helperImage: options.helperImage, netnsFolder: options.netnsFolder, timeoutMs: options.timeoutMs, localNodes: options.localNodes });
  try {
    await removeLeftovers([...new Set([manager, ...targets.map((t) => engines.engineFor(t.node)).filter((e) => e !== undefined)])]);
    const output = path.resolve(options.output);
    const session = new CaptureSession(runner, {
      target: targets[0],
      via: options.via as TransportChoice | undefined,
      interface: options.interface,
      filter: options.filter,
      count: options.count,
      durationSeconds: options.durationSeconds,
      folder: path.dirname(output),
      fileName: path.basename(output),
    });
    const onAbort = () => session.stop();
    options.signal.addEventListener('abort', onAbort, { once: true });
    options.err.write(`capturing in ${describeTarget(targets[0])} (Ctrl-C stops and keeps the file)\n`);
    const status = await session.run();
    options.signal.removeEventListener('abort', onAbort);
    const line = `${status.state}: ${status.packets} packets, ${status.bytes} bytes in ${status.file} via ${status.transport ?? '?'}${status.verified ? ' (SHA-256 checked against the node)' : ''}${status.message ? ` — ${status.message}` : ''}\n`;
    options.err.write(line);
    return status.state === 'failed' ? 1 : 0;
  } finally {
    engines.dispose();
  }
}
