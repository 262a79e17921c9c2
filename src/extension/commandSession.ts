// The runner the commands use, built from the store's manager connection and the settings, and
// rebuilt when either changes. Leftover helpers of a crashed session are removed once per manager.
import type { SwarmStore } from '../explorer/swarmStore';
import { NodeEngines } from '../netns/nodeEngines';
import { CommandRunner } from '../netns/runner';
import { removeLeftovers } from '../netns/transports';
import type { SwarmSnapshot } from '../swarm/snapshot';
import { readSettings } from './settings';

export class CommandSession {
  private runner: CommandRunner | undefined;
  private engines: NodeEngines | undefined;
  private cleanedFor: unknown;

  constructor(private readonly store: SwarmStore) {}

  /** The runner and the snapshot it works on; throws a sentence when the swarm is not usable. */
  current(): { runner: CommandRunner; snapshot: SwarmSnapshot } {
    const state = this.store.state;
    if (state.kind !== 'ready') {
      throw new Error(state.kind === 'failed' ? `Not connected to a swarm manager: ${state.error.message}` : 'Still connecting to the swarm manager.');
    }
    const manager = this.store.engine();
    if (!manager) throw new Error('Not connected to a Docker engine.');
    if (!this.runner || this.engines?.manager !== manager) {
      this.reset();
      const settings = readSettings();
      this.engines = new NodeEngines({ manager, managerNodeId: state.summary.swarm.nodeId, endpoints: settings.nodeEndpoints, timeoutMs: settings.timeoutMs });
      this.runner = new CommandRunner(this.engines, { via: settings.transport, helperImage: settings.helperImage, netnsFolder: settings.netnsFolder, timeoutMs: settings.commandTimeoutMs, localNodes: settings.localNodes });
    }
    if (this.cleanedFor !== manager) {
      this.cleanedFor = manager;
      const engines = this.engines!;
      const nodeEngines = state.snapshot.nodes.map((n) => engines.engineFor({ id: n.id, hostname: n.hostname, address: n.address }));
      void removeLeftovers([...new Set([manager, ...nodeEngines.filter((e) => e !== undefined)])]).catch(() => undefined);
    }
    void this.runner.retryCleanup();
    return { runner: this.runner, snapshot: state.snapshot };
  }

  /** Settings changed: the next command builds a new runner. */
  reset(): void {
    this.engines?.dispose();
    this.engines = undefined;
    this.runner = undefined;
  }

  dispose(): void {
    this.reset();
  }
}
