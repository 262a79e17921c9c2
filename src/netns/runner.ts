// Runs catalog and free commands in a target namespace by the best transport available, and
// reports where and how it ran, its exit status, output and duration.
import { asEngineError, EngineError } from '../engine/errors';
import type { EngineClient, RunOptions } from '../engine/types';
import type { NetCommand } from './command';
import type { NodeEngines } from './nodeEngines';
import { runDirect, runThroughManager, type TransportKind, type TransportRun, type TransportSettings } from './transports';
import { describeTarget, type Target } from './target';
import { detectLocalNode, runLocal, type LocalNode } from './localTransport';

export type TransportChoice = 'auto' | TransportKind;

export interface RunnerSettings extends TransportSettings {
  via: TransportChoice;
  timeoutMs: number;
  /** Nodes whose namespaces this machine can enter itself (hostname → where it sees them). */
  localNodes?: Record<string, LocalNode>;
}

export interface CommandResult {
  target: Target;
  command: NetCommand;
  transport: TransportKind;
  /** How it got there, in words. */
  how: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  startedAt: Date;
  durationMs: number;
  /** The tool's failure explained (e.g. no IPVS in the kernel). */
  explanation?: string;
}

export interface RunRequest {
  target: Target;
  command: NetCommand;
  via?: TransportChoice;
  signal?: AbortSignal;
  timeoutMs?: number;
  onStdout?: (chunk: Buffer) => void;
  /** Stdout went to onStdout only (long captures). */
  discardStdout?: boolean;
}

/** How long a direct engine that failed a ping is skipped before trying it again. */
const PING_CACHE_MS = 30_000;

export class CommandRunner {
  private readonly reachable = new Map<string, { ok: boolean; at: number }>();
  private readonly detected = new Map<string, Promise<LocalNode | undefined>>();
  /** Helpers whose removal failed because their engine was gone; removed once it answers again. */
  private readonly pendingCleanup = new Map<string, { engine: EngineClient; kind: 'container' | 'service'; id: string }>();

  constructor(readonly engines: NodeEngines, private readonly settings: RunnerSettings) {}

  /** Picks the transport for a node: its own engine when it answers, else the manager. */
  /** Where this machine sees the node's namespaces: configured, or detected when we run on the node. */
  private async localNode(target: Target): Promise<LocalNode | undefined> {
    const configured = this.settings.localNodes?.[target.node.hostname];
    if (configured) return configured;
    if (!this.detected.has(target.node.id)) this.detected.set(target.node.id, detectLocalNode(target.node.hostname, this.engines.engineFor(target.node)));
    return this.detected.get(target.node.id);
  }

  /** Picks the transport for a node: this machine when it is the node, its own engine when it answers, else the manager. */
  async chooseTransport(target: Target, via: TransportChoice, signal?: AbortSignal): Promise<TransportKind> {
    if (via === 'local') {
      if (!(await this.localNode(target))) throw new EngineError('config', `This machine is not ${target.node.hostname}, so the local transport cannot reach it.`, 'Use direct or manager, or configure swarmDoctor.localNodes when this machine sees the node\'s namespaces.');
      return 'local';
    }
    // Only the manager can create a task on a network; nothing else can stand in for it.
    if (target.ns === 'attached') return 'manager';
    if (via !== 'auto') return via;
    if (await this.localNode(target)) return 'local';
    const engine = this.engines.engineFor(target.node);
    if (!engine) return 'manager';
    const cached = this.reachable.get(target.node.id);
    if (cached && Date.now() - cached.at < PING_CACHE_MS) return cached.ok ? 'direct' : 'manager';
    const ok = await engine.ping({ timeoutMs: 2000, signal }).then(() => true, () => false);
    this.reachable.set(target.node.id, { ok, at: Date.now() });
    return ok ? 'direct' : 'manager';
  }

  async run(request: RunRequest): Promise<CommandResult> {
    const { target, command } = request;
    const startedAt = new Date();
    const started = performance.now();
    const transport = await this.chooseTransport(target, request.via ?? this.settings.via, request.signal);
    const timeoutMs = request.timeoutMs ?? (command.timeoutSeconds ? command.timeoutSeconds * 1000 : this.settings.timeoutMs);
    let run: TransportRun;
    let engineWentAway = false;
    try {
      if (transport === 'local') {
        const local = (await this.localNode(target))!;
        run = await runLocal(target, command, local, this.engines.engineFor(target.node), { signal: request.signal, timeoutMs, onStdout: request.onStdout, discardStdout: request.discardStdout });
      } else if (transport === 'direct') {
        const engine = this.engines.engineFor(target.node);
        if (!engine) throw new EngineError('config', `No engine of node ${target.node.hostname} is configured for the direct transport.`, 'Set swarmDoctor.nodeEndpoints for it, or use the manager transport.');
        run = await runDirect(engine, target, command, this.settings, this.runOptions(engine, request, timeoutMs, () => (engineWentAway = true)));
      } else {
        run = await runThroughManager(this.engines.manager, target, command, this.settings, this.runOptions(this.engines.manager, request, timeoutMs, () => (engineWentAway = true)));
      }
      // A stopping dockerd kills its containers, so the wait answers with a signal's exit status;
      // the helper then cannot be removed. That is a node going down, not the command's answer.
      if (engineWentAway && run.exitCode >= 128) {
        this.reachable.delete(target.node.id);
        throw new EngineError('unreachable', `the node's engine stopped while the command ran (the helper was killed: exit ${run.exitCode}).`, 'The helper is removed once the node is back.');
      }
    } catch (error) {
      const e = asEngineError(error);
      throw new EngineError(e.kind, `${describeTarget(target)}: ${command.title} via ${transport}: ${e.message}`, e.hint, e.statusCode);
    }
    const result: CommandResult = {
      target,
      command,
      transport,
      how: run.how,
      exitCode: run.exitCode,
      stdout: run.stdout.toString('utf8'),
      stderr: run.stderr.toString('utf8'),
      startedAt,
      durationMs: performance.now() - started,
    };
    result.explanation = explainResult(result);
    return result;
  }

  private runOptions(engine: EngineClient, request: RunRequest, timeoutMs: number, onCleanupFailed: () => void): RunOptions {
    return {
      signal: request.signal,
      timeoutMs,
      onStdout: request.onStdout,
      discardStdout: request.discardStdout,
      onCleanupFailed: (kind, id) => {
        this.pendingCleanup.set(`${kind}:${id}`, { engine, kind, id });
        onCleanupFailed();
      },
    };
  }

  /** Helpers left on engines that were unreachable when their run ended. */
  get pendingCleanupCount(): number {
    return this.pendingCleanup.size;
  }

  /** Removes what could not be removed before; returns how many are still pending. */
  async retryCleanup(): Promise<number> {
    for (const [key, { engine, kind, id }] of this.pendingCleanup) {
      await engine.removeResource(kind, id, { timeoutMs: 5000 }).then(() => this.pendingCleanup.delete(key), () => undefined);
    }
    return this.pendingCleanup.size;
  }

  /** The same command in several targets at once (one per node, or every task of a service). */
  runEach(targets: Target[], command: NetCommand, options: { via?: TransportChoice; signal?: AbortSignal } = {}): Promise<PromiseSettledResult<CommandResult>[]> {
    return Promise.allSettled(targets.map((target) => this.run({ target, command, ...options })));
  }
}

const MISSING_TOOL = /(?:nsenter: failed to execute|exec:?) "?([^":\s]+)"?: (?:No such file or directory|executable file not found)|sh: (?:\d+: )?([^:\s]+): not found|can't execute '([^']+)': No such file/i;

function explainResult(result: CommandResult): string | undefined {
  const fromCommand = result.command.explainFailure?.(result);
  if (fromCommand) return fromCommand;
  if (result.exitCode === 125 && /no network namespace on this node has the address/.test(result.stderr)) {
    return `The job found no namespace with the task's address on ${result.target.node.hostname}: the task may have stopped, or the node's netns folder differs (setting swarmDoctor.netnsFolder).`;
  }
  if (result.exitCode === 1 && /nsenter: cannot open \/netns\//.test(result.stderr)) {
    return `That namespace does not exist on ${result.target.node.hostname} (swarm creates it only where the network or the routing mesh is in use).`;
  }
  const missing = MISSING_TOOL.exec(result.stderr);
  if (result.exitCode === 127 || missing) {
    const tool = missing?.[1] ?? missing?.[2] ?? missing?.[3] ?? result.command.argv[0];
    return result.transport === 'local'
      ? `"${tool}" is not installed on this machine.`
      : `"${tool}" is not in the helper image: use an image that has it (setting swarmDoctor.helperImage).`;
  }
  return undefined;
}
