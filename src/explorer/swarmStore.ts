// Holds the current swarm snapshot for the views and keeps it fresh: from the manager's event
// stream (debounced) and a slow poll, only while a view is visible. Task state changes on other
// nodes produce no manager event, which is why the poll stays as a fallback.
import { EventEmitter } from 'node:events';
import { describeEndpoint, type EngineEndpoint } from '../engine/endpoint';
import { asEngineError, EngineError } from '../engine/errors';
import type { EngineClient, EngineSummary } from '../engine/types';
import { fetchSwarm } from '../swarm/fetchSnapshot';
import type { SwarmSnapshot } from '../swarm/snapshot';

export type StoreState =
  | { kind: 'connecting'; endpoint?: EngineEndpoint }
  | { kind: 'ready'; endpoint: EngineEndpoint; summary: EngineSummary; snapshot: SwarmSnapshot }
  | { kind: 'failed'; endpoint?: EngineEndpoint; error: EngineError };

export interface SwarmStoreOptions {
  /** Creates the client; may throw an EngineError (bad context, missing TLS file...). */
  connect: () => EngineClient;
  debounceMs?: number;
  pollMs?: number;
  timeoutMs?: number;
  /** Delay before re-opening a broken event stream. */
  retryMs?: number;
}

export class SwarmStore {
  private readonly emitter = new EventEmitter();
  private client: EngineClient | undefined;
  private current: StoreState = { kind: 'connecting' };
  private visible = false;
  private inFlight: Promise<void> | undefined;
  private again = false;
  private debounceTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private eventsAbort: AbortController | undefined;
  private disposed = false;

  constructor(private readonly options: SwarmStoreOptions) {}

  get state(): StoreState {
    return this.current;
  }

  get endpointText(): string | undefined {
    return this.current.endpoint ? describeEndpoint(this.current.endpoint) : undefined;
  }

  /** The client in use, connecting on first use; undefined when the connection settings are wrong. */
  engine(): EngineClient | undefined {
    if (!this.client) {
      try {
        this.client = this.options.connect();
      } catch (error) {
        this.setState({ kind: 'failed', error: asEngineError(error) });
        return undefined;
      }
    }
    return this.client;
  }

  onDidChange(listener: (state: StoreState) => void): { dispose(): void } {
    this.emitter.on('change', listener);
    return { dispose: () => this.emitter.off('change', listener) };
  }

  private setState(state: StoreState): void {
    this.current = state;
    this.emitter.emit('change', state);
  }

  /** Views call this when their visibility changes; watching runs only while one is visible. */
  setVisible(visible: boolean): void {
    if (this.disposed || visible === this.visible) return;
    this.visible = visible;
    if (visible) {
      void this.refresh();
      this.schedulePoll();
    } else {
      this.stopWatching();
    }
  }

  /** Refreshes now; concurrent calls share one fetch, and a call during a fetch runs once more after it. */
  refresh(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.fetch().finally(() => {
      this.inFlight = undefined;
      if (this.again && !this.disposed) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.inFlight;
  }

  /** Settings changed: drop the client and connect again. */
  reconnect(): Promise<void> {
    this.stopEvents();
    this.client?.dispose();
    this.client = undefined;
    this.setState({ kind: 'connecting' });
    return this.refresh();
  }

  private async fetch(): Promise<void> {
    const client = this.engine();
    if (!client) return;
    if (this.current.kind !== 'ready') this.setState({ kind: 'connecting', endpoint: client.endpoint });
    try {
      const { summary, snapshot } = await fetchSwarm(client, { timeoutMs: this.options.timeoutMs });
      if (this.disposed || client !== this.client) return;
      this.setState({ kind: 'ready', endpoint: client.endpoint, summary, snapshot });
      if (this.visible) this.startEvents(client);
    } catch (error) {
      if (this.disposed || client !== this.client) return;
      this.stopEvents();
      this.setState({ kind: 'failed', endpoint: client.endpoint, error: asEngineError(error) });
    }
  }

  /** An engine event arrived: refresh once things settle. */
  private nudge(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.refresh();
    }, this.options.debounceMs ?? 500);
  }

  private startEvents(client: EngineClient): void {
    if (this.eventsAbort) return;
    const abort = new AbortController();
    this.eventsAbort = abort;
    client
      .streamEvents(() => this.nudge(), { signal: abort.signal })
      .catch(() => undefined)
      .finally(() => {
        if (this.eventsAbort !== abort) return;
        this.eventsAbort = undefined;
        // The stream ended or broke: find out what happened (a refresh reports a dead engine),
        // and the next successful refresh opens a new stream.
        if (!abort.signal.aborted && this.visible && !this.disposed) {
          setTimeout(() => void this.refresh(), this.options.retryMs ?? 2000).unref?.();
        }
      });
  }

  private stopEvents(): void {
    this.eventsAbort?.abort();
    this.eventsAbort = undefined;
  }

  private schedulePoll(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = setInterval(() => {
      if (this.visible) void this.refresh();
    }, this.options.pollMs ?? 15_000);
    this.pollTimer.unref?.();
  }

  private stopWatching(): void {
    this.stopEvents();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.pollTimer = undefined;
    this.debounceTimer = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.stopWatching();
    this.client?.dispose();
    this.client = undefined;
    this.emitter.removeAllListeners();
  }
}
