// All captures of this session, running and finished, for the Captures view and the status bar.
import { EventEmitter } from 'node:events';
import type { CommandRunner } from '../netns/runner';
import { CaptureSession, type CaptureOptions, type CaptureStatus } from './captureSession';

export class CaptureManager {
  private readonly emitter = new EventEmitter();
  private readonly sessions: CaptureSession[] = [];
  private readonly finishing = new Set<Promise<CaptureStatus>>();

  onDidChange(listener: () => void): { dispose(): void } {
    this.emitter.on('change', listener);
    return { dispose: () => this.emitter.off('change', listener) };
  }

  /** Starts a capture; resolves when it ends (the status says how). */
  start(runner: CommandRunner, options: CaptureOptions): { session: CaptureSession; done: Promise<CaptureStatus> } {
    const session = new CaptureSession(runner, options);
    this.sessions.unshift(session);
    session.onDidChange(() => this.emitter.emit('change'));
    this.emitter.emit('change');
    const done = session.run();
    this.finishing.add(done);
    void done.finally(() => this.finishing.delete(done));
    return { session, done };
  }

  get all(): readonly CaptureStatus[] {
    return this.sessions.map((s) => s.status);
  }

  get running(): readonly CaptureStatus[] {
    return this.all.filter((s) => s.state === 'running' || s.state === 'checking');
  }

  find(id: string): CaptureSession | undefined {
    return this.sessions.find((s) => s.status.id === id);
  }

  stop(id: string): void {
    this.find(id)?.stop();
  }

  stopAll(): void {
    for (const session of this.sessions) if (session.status.state === 'running' || session.status.state === 'checking') session.stop();
  }

  /** Forgets finished captures (their files stay). */
  clearFinished(): void {
    for (let i = this.sessions.length - 1; i >= 0; i--) {
      const state = this.sessions[i].status.state;
      if (state !== 'running' && state !== 'checking') this.sessions.splice(i, 1);
    }
    this.emitter.emit('change');
  }

  /** Stops every capture and waits (at most timeoutMs) until their helpers are removed. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.stopAll();
    await Promise.race([Promise.allSettled([...this.finishing]), new Promise((r) => setTimeout(r, timeoutMs))]);
    this.emitter.removeAllListeners();
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
