// swarm-doctor ls nodes|services|tasks|networks [--json]
import type { EngineClient } from '../../engine/types';
import { fetchSwarm } from '../../swarm/fetchSnapshot';
import { splitCidr, taskName, type SwarmSnapshot } from '../../swarm/snapshot';
import { UsageError } from '../args';
import { formatTable } from '../table';

export const LS_KINDS = ['nodes', 'services', 'tasks', 'networks'] as const;
export type LsKind = (typeof LS_KINDS)[number];

const short = (id: string) => id.slice(0, 12);

/** Rows as JSON objects: our records plus the names a reader would otherwise have to join. */
export function lsJson(snapshot: SwarmSnapshot, kind: LsKind): unknown[] {
  switch (kind) {
    case 'nodes':
      return snapshot.nodes.map((node) => ({ ...node, tasks: (snapshot.tasksByNode.get(node.id) ?? []).length }));
    case 'services':
      return snapshot.services.map((service) => ({
        ...service,
        replicas: snapshot.health.get(service.id),
        networkNames: service.networks.map((n) => snapshot.networkById.get(n.networkId)?.name ?? n.networkId),
      }));
    case 'tasks':
      return currentTasks(snapshot).map((task) => {
        const service = snapshot.serviceById.get(task.serviceId);
        return { ...task, name: taskName(task, service), serviceName: service?.name, nodeHostname: snapshot.nodeById.get(task.nodeId ?? '')?.hostname };
      });
    case 'networks':
      return snapshot.networks.map((network) => ({
        ...network,
        services: (snapshot.servicesByNetwork.get(network.id) ?? []).map((s) => s.name),
      }));
  }
}

function currentTasks(snapshot: SwarmSnapshot) {
  return snapshot.services.flatMap((s) => snapshot.tasksByService.get(s.id) ?? []);
}

export function lsTable(snapshot: SwarmSnapshot, kind: LsKind): string {
  switch (kind) {
    case 'nodes':
      return formatTable(
        ['ID', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ADDRESS', 'ENGINE VERSION', 'LABELS'],
        snapshot.nodes.map((n) => [
          short(n.id),
          n.hostname,
          n.state,
          n.availability,
          n.role === 'manager' ? (n.leader ? 'leader' : n.managerReachability ?? 'manager') : '',
          n.address,
          n.engineVersion,
          Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(','),
        ]),
      );
    case 'services':
      return formatTable(
        ['ID', 'NAME', 'MODE', 'REPLICAS', 'IMAGE', 'PORTS', 'ENDPOINT', 'NETWORKS'],
        snapshot.services.map((s) => {
          const h = snapshot.health.get(s.id);
          return [
            short(s.id),
            s.name,
            s.mode,
            `${h?.running ?? 0}/${h?.desired ?? 0}`,
            s.image,
            s.ports.map((p) => `${p.publishedPort ?? '*'}:${p.targetPort}/${p.protocol}${p.publishMode === 'host' ? '(host)' : ''}`).join(','),
            s.endpointMode + (s.virtualIps.length ? ` ${s.virtualIps.map((v) => splitCidr(v.address).address).join(',')}` : ''),
            s.networks.map((n) => snapshot.networkById.get(n.networkId)?.name ?? short(n.networkId)).join(','),
          ];
        }),
      );
    case 'tasks':
      return formatTable(
        ['ID', 'NAME', 'NODE', 'DESIRED', 'CURRENT', 'ADDRESSES', 'ERROR'],
        currentTasks(snapshot).map((t) => [
          short(t.id),
          taskName(t, snapshot.serviceById.get(t.serviceId)),
          snapshot.nodeById.get(t.nodeId ?? '')?.hostname ?? '',
          t.desiredState,
          t.state,
          t.addresses.map((a) => `${a.networkName}:${a.addresses.map((c) => splitCidr(c).address).join('+')}`).join(','),
          t.error ?? '',
        ]),
      );
    case 'networks':
      return formatTable(
        ['ID', 'NAME', 'DRIVER', 'SCOPE', 'SUBNET', 'FLAGS', 'SERVICES'],
        snapshot.networks.map((n) => [
          short(n.id),
          n.name,
          n.driver,
          n.scope,
          n.subnets.map((s) => s.subnet).join(','),
          [n.ingress && 'ingress', n.attachable && 'attachable', n.internal && 'internal', n.encrypted && 'encrypted'].filter(Boolean).join(','),
          (snapshot.servicesByNetwork.get(n.id) ?? []).map((s) => s.name).join(','),
        ]),
      );
  }
}

export async function runLs(client: EngineClient, kind: string | undefined, json: boolean, signal: AbortSignal, timeoutMs?: number): Promise<string> {
  if (!kind || !(LS_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`ls needs one of: ${LS_KINDS.join(', ')}`);
  }
  const { snapshot } = await fetchSwarm(client, { signal, timeoutMs });
  return json ? JSON.stringify(lsJson(snapshot, kind as LsKind), null, 2) + '\n' : lsTable(snapshot, kind as LsKind);
}
