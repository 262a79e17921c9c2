// One running capture: tcpdump in a target namespace by any transport, its pcap stream written to
// a file as packets arrive. Stop, cancel, a lost node or a crash keep every complete packet.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeCaptureNames, writeCaptureNames } from '../capture/captureNames';
import { asEngineError, EngineError } from '../engine/errors';
import type { NetCommand } from '../netns/command';
import type { CommandRunner, TransportChoice } from '../netns/runner';
import { describeTarget, type Target } from '../netns/target';
import type { TransportKind } from '../netns/transports';
import { ManagerCaptureDecoder, MANAGER_CAPTURE_SCRIPT } from './managerFraming';
import { PcapRecordWriter, PcapStreamError } from './pcapRecordWriter';

export interface CaptureOptions {
  target: Target;
  via?: TransportChoice;
  /** tcpdump -i; "any" by default. */
  interface?: string;
  /** A BPF expression, passed to tcpdump as one argument. */
  filter?: string;
  count?: number;
  durationSeconds?: number;
  /** Stop once the file holds this many bytes. */
  maxBytes?: number;
  folder: string;
  /** File name inside folder; default from node, task and time. */
  fileName?: string;
  /** A label to group captures (the two ends of a conversation). */
  group?: string;
  /** The swarm's names for its addresses now, kept beside the file (captureNames.ts) so that the
   *  capture is read with them later, whatever moved since. */
  names?: ReadonlyMap<string, string>;
}

export type CaptureState = 'checking' | 'running' | 'completed' | 'stopped' | 'failed';

export interface CaptureStatus {
  id: string;
  state: CaptureState;
  target: Target;
  file: string;
  transport?: TransportKind;
  filter: string;
  interface: string;
  packets: number;
  bytes: number;
  startedAt: Date;
  endedAt?: Date;
  /** Why it failed, or tcpdump's own last words. */
  message?: string;
  /** Through the manager: the file's SHA-256 matched what tcpdump wrote on the node. */
  verified?: boolean;
  group?: string;
}

/** Names safe on any file system, from names that may hold anything. */
export function sanitiseFileName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80) || 'capture';
}

export function defaultCaptureFileName(target: Target, when: Date): string {
  const stamp = when.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
  const what = target.ns === 'sandbox' ? target.task.name : target.ns === 'lb' || target.ns === 'overlay' ? `${target.ns}-${target.network.name}` : target.ns;
  return `${sanitiseFileName(target.node.hostname)}-${sanitiseFileName(what)}-${stamp}.pcap`;
}

let counter = 0;

/** tcpdump's routine lines, not worth showing as the capture's message. */
const isTcpdumpNoise = (line: string) => !line.trim() || /listening on|verbose output suppressed|data link type|packets? (captured|received by filter|dropped by (kernel|interface))/.test(line);

export class CaptureSession {
  readonly status: CaptureStatus;
  private readonly emitter = new EventEmitter();
  private readonly abort = new AbortController();
  private stoppedByUser = false;
  private failure: Error | undefined;
  private lastEmit = 0;

  constructor(private readonly runner: CommandRunner, private readonly options: CaptureOptions) {
    const startedAt = new Date();
    this.status = {
      id: `capture-${++counter}-${startedAt.getTime()}`,
      state: 'checking',
      target: options.target,
      file: path.join(options.folder, options.fileName ? sanitiseFileName(options.fileName) : defaultCaptureFileName(options.target, startedAt)),
      filter: options.filter?.trim() ?? '',
      interface: options.interface?.trim() || 'any',
      packets: 0,
      bytes: 0,
      startedAt,
      group: options.group,
    };
  }

  onDidChange(listener: (status: CaptureStatus) => void): { dispose(): void } {
    this.emitter.on('change', listener);
    return { dispose: () => this.emitter.off('change', listener) };
  }

  private changed(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastEmit < 250) return; // many packets a second: views refresh a few times a second
    this.lastEmit = now;
    this.emitter.emit('change', this.status);
  }

  /** Stops the capture; what arrived stays in the file. */
  stop(): void {
    this.stoppedByUser = true;
    this.abort.abort();
  }

  private tcpdumpArgs(): string[] {
    const args = ['-i', this.status.interface];
    if (this.options.count) args.push('-c', String(this.options.count));
    if (this.status.filter) args.push(this.status.filter);
    return args;
  }

  /** Compile-checks the filter in the target first, so tcpdump's own error is shown before anything runs. */
  private async checkFilter(): Promise<void> {
    const check: NetCommand = { id: 'tcpdump-check', title: `tcpdump -d (check the filter)`, argv: ['tcpdump', '-d', ...this.tcpdumpArgs().filter((a, i, all) => a !== '-c' && all[i - 1] !== '-c')], capabilities: ['NET_ADMIN', 'NET_RAW'] };
    const result = await this.runner.run({ target: this.options.target, command: check, via: this.options.via, signal: this.abort.signal, timeoutMs: 60_000 });
    if (result.exitCode !== 0) {
      const said = result.stderr.trim().split('\n').filter((l) => !/^tcpdump: verbose output suppressed/.test(l)).join(' ');
      throw new EngineError('engine', `tcpdump rejected the capture in ${describeTarget(this.options.target)}: ${said || `exit ${result.exitCode}`}${result.explanation ? ` (${result.explanation})` : ''}`);
    }
  }

  /** Runs the capture to its end (count, duration, stop or failure). Never throws: see status. */
  async run(): Promise<CaptureStatus> {
    let writer: PcapRecordWriter | undefined;
    try {
      try {
        fs.mkdirSync(path.dirname(this.status.file), { recursive: true });
      } catch (error) {
        throw new PcapStreamError(`Cannot create the capture folder ${path.dirname(this.status.file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
      }
      writer = new PcapRecordWriter(this.status.file);
      if (this.options.names?.size) writeCaptureNames(this.status.file, this.options.names, this.status.startedAt);
      await this.checkFilter();
      const transport = await this.runner.chooseTransport(this.options.target, this.options.via ?? 'auto', this.abort.signal);
      this.status.transport = transport;
      this.status.state = 'running';
      this.changed(true);
      const w = writer;
      let reported: { status: number; sha256?: string } | undefined;
      const accept = (bytes: Buffer) => {
        if (this.failure) return;
        try {
          w.push(bytes);
        } catch (error) {
          // Disk full, unwritable, corrupt stream: stop on the node too.
          this.failure = error as Error;
          this.abort.abort();
          return;
        }
        this.status.packets = w.packets;
        this.status.bytes = w.bytes;
        this.changed();
        if (this.options.maxBytes && w.bytes >= this.options.maxBytes) this.stop();
      };
      const decoder = new ManagerCaptureDecoder((event) => {
        if (event.kind === 'data') accept(event.bytes);
        else if (event.kind === 'exit') reported = event;
        else if (!isTcpdumpNoise(event.text)) this.status.message = event.text;
      });
      const duration = this.options.durationSeconds ? String(Math.ceil(this.options.durationSeconds)) : '0';
      const command: NetCommand =
        transport === 'manager'
          ? { id: 'capture', title: `tcpdump ${this.tcpdumpArgs().join(' ')}`, argv: ['sh', '-c', MANAGER_CAPTURE_SCRIPT, 'capture', duration, ...this.tcpdumpArgs()], capabilities: ['NET_ADMIN', 'NET_RAW'] }
          : { id: 'capture', title: `tcpdump ${this.tcpdumpArgs().join(' ')}`, argv: [...(duration !== '0' ? ['timeout', '-s', 'INT', duration] : []), 'tcpdump', '-U', '-w', '-', ...this.tcpdumpArgs()], capabilities: ['NET_ADMIN', 'NET_RAW'] };
      const result = await this.runner.run({
        target: this.options.target,
        command,
        via: transport,
        signal: this.abort.signal,
        // Bounded even without a duration: a forgotten capture must not run for ever.
        timeoutMs: ((this.options.durationSeconds ?? 24 * 3600) + 120) * 1000,
        onStdout: (chunk) => (transport === 'manager' ? this.decodeManager(decoder, chunk) : accept(chunk)),
        discardStdout: true,
      });
      if (this.failure) throw this.failure;
      const tcpdumpSaid = result.stderr.trim().split('\n').filter((l) => !isTcpdumpNoise(l)).pop();
      if (tcpdumpSaid) this.status.message = tcpdumpSaid;
      if (reported?.sha256) this.status.verified = reported.sha256 === sha256File(this.status.file) && w.partialBytes === 0;
      const exit = transport === 'manager' ? reported?.status ?? result.exitCode : result.exitCode;
      // timeout(1) answers 124 when the duration ended the capture: that is a normal end.
      if (exit !== 0 && exit !== 124 && !w.started) throw new EngineError('engine', `tcpdump failed in ${describeTarget(this.options.target)} (exit ${exit}): ${tcpdumpSaid ?? result.explanation ?? 'no message'}`);
      this.status.state = 'completed';
    } catch (error) {
      if (this.failure) {
        this.status.state = 'failed';
        this.status.message = this.failure.message;
      } else if (this.stoppedByUser && !(error instanceof PcapStreamError)) {
        this.status.state = 'stopped';
      } else {
        this.status.state = 'failed';
        this.status.message = asEngineError(error).fullMessage;
      }
    } finally {
      if (writer) {
        this.status.packets = writer.packets;
        this.status.bytes = writer.bytes;
      }
      writer?.close();
      this.status.endedAt = new Date();
      if (writer && !writer.started) {
        // Nothing arrived at all: leave no empty file that no reader could open.
        fs.rmSync(this.status.file, { force: true });
        removeCaptureNames(this.status.file);
      }
      this.changed(true);
    }
    return this.status;
  }

  private decodeManager(decoder: ManagerCaptureDecoder, chunk: Buffer): void {
    try {
      decoder.push(chunk);
    } catch (error) {
      this.failure = error as Error;
      this.abort.abort();
    }
  }
}

function sha256File(file: string): string | undefined {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}
