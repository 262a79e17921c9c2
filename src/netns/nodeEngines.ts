// Which engine reaches each node directly: a configured endpoint (swarmDoctor.nodeEndpoints /
// --node-endpoint), the manager's own engine for the manager's node, or a docker context named
// after the node. Nodes with none are reached through the manager (a job pinned to the node).
import { connectEngine } from '../engine/dockerodeEngine';
import { listContexts, parseDockerHost, resolveEndpoint, type EndpointEnvironment, processEnvironment } from '../engine/endpoint';
import type { EngineClient } from '../engine/types';
import type { TargetNode } from './target';

export interface NodeEnginesOptions {
  manager: EngineClient;
  /** The node id of the manager engine (from its /info). */
  managerNodeId?: string;
  /** hostname → docker host. */
  endpoints: Record<string, string>;
  timeoutMs: number;
  environment?: EndpointEnvironment;
}

export class NodeEngines {
  private readonly clients = new Map<string, EngineClient | null>();

  constructor(private readonly options: NodeEnginesOptions) {}

  get manager(): EngineClient {
    return this.options.manager;
  }

  /** How this node's own engine would be reached, or undefined when only the manager can. */
  describe(node: TargetNode): string | undefined {
    const client = this.engineFor(node);
    return client ? client.endpoint.url : undefined;
  }

  /** The node's own engine, or undefined. Never throws: a bad endpoint means "not direct". */
  engineFor(node: TargetNode): EngineClient | undefined {
    if (this.clients.has(node.id)) return this.clients.get(node.id) ?? undefined;
    let client: EngineClient | null = null;
    try {
      const configured = this.options.endpoints[node.hostname];
      if (configured) {
        client = connectEngine(parseDockerHost(configured, `swarmDoctor.nodeEndpoints["${node.hostname}"]`), { timeoutMs: this.options.timeoutMs });
      } else if (node.id === this.options.managerNodeId) {
        client = this.options.manager;
      } else {
        const environment = this.options.environment ?? processEnvironment();
        if (listContexts(environment).some((c) => c.name === node.hostname)) {
          client = connectEngine(resolveEndpoint({ context: node.hostname, origin: `the context named after node ${node.hostname}` }, environment), { timeoutMs: this.options.timeoutMs });
        }
      }
    } catch {
      client = null;
    }
    this.clients.set(node.id, client);
    return client ?? undefined;
  }

  dispose(): void {
    for (const client of this.clients.values()) if (client && client !== this.options.manager) client.dispose();
    this.clients.clear();
  }
}
