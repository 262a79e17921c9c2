// swarm-doctor capture <task|node> [--ns ...] [--via ...] [--filter EXPR] [--count N]
//                      [--duration S] [--interface IF] -o FILE
import * as path from 'node:path';
import type { EngineClient } from '../../engine/types';
import type { TransportChoice } from '../../netns/runner';
import { describeTarget } from '../../netns/target';
import { CaptureSession } from '../../recorder/captureSession';
import { UsageError } from '../args';
import { openRunner, type RunnerCliOptions } from './exec';
import { addressNames } from '../../swarm/snapshot';

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
  const { targets, engines, runner, snapshot } = await openRunner(manager, options.name, options);
  try {
    if (targets.length !== 1) throw new UsageError(`"${options.name}" names ${targets.length} tasks: name one task (e.g. ${options.name}.1) or a node`);
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
      names: addressNames(snapshot),
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
