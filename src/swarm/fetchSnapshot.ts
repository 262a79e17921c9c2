// Reads nodes, services, tasks and networks from a manager and builds a snapshot. Checks first
// that the engine is a swarm manager, so the user hears "this is a worker" rather than an HTTP 503.
import { EngineError } from '../engine/errors';
import type { CallOptions, EngineClient, EngineSummary } from '../engine/types';
import { describeEndpoint } from '../engine/endpoint';
import { buildSnapshot, type SwarmSnapshot } from './snapshot';

export interface FetchedSwarm {
  summary: EngineSummary;
  snapshot: SwarmSnapshot;
}

export function requireManager(summary: EngineSummary, client: EngineClient): void {
  const url = describeEndpoint(client.endpoint);
  const swarm = summary.swarm;
  if (swarm.localNodeState === 'locked') {
    throw new EngineError('notManager', `The swarm manager at ${url} is locked.`, 'Unlock it with `docker swarm unlock`.');
  }
  if (swarm.localNodeState !== 'active') {
    const detail = swarm.error ? ` (${swarm.error})` : '';
    throw new EngineError(
      'notSwarm',
      `The engine at ${url} (${summary.name}) is not part of an active swarm: its swarm state is "${swarm.localNodeState}"${detail}.`,
      'Connect to a swarm manager (pick another context or host), or create a swarm with `docker swarm init`.',
    );
  }
  if (!swarm.controlAvailable) {
    throw new EngineError(
      'notManager',
      `The engine at ${url} (${summary.name}) is a swarm worker, not a manager.`,
      'Connect to a manager node: pick another context or host.',
    );
  }
}

export async function fetchSwarm(client: EngineClient, options: CallOptions = {}): Promise<FetchedSwarm> {
  const summary = await client.summary(options);
  requireManager(summary, client);
  const [nodes, services, tasks, networks] = await Promise.all([
    client.listNodes(options),
    client.listServices(options),
    client.listTasks(options),
    client.listNetworks(options),
  ]);
  return { summary, snapshot: buildSnapshot({ nodes, services, tasks, networks }) };
}
