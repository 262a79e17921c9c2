// Turns the Engine API's JSON (as recorded from a real engine) into our records. Pure, so unit
// tests feed it recorded JSON. The shapes below list only the fields we read.
import type {
  EngineEvent,
  EngineSummary,
  LocalSwarmState,
  NetworkRecord,
  NodeRecord,
  PublishedPort,
  ServiceMode,
  ServiceRecord,
  TaskRecord,
} from './types';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
const labels = (value: unknown): Record<string, string> =>
  value && typeof value === 'object' ? { ...(value as Record<string, string>) } : {};

export function nodeFromApi(raw: Json): NodeRecord {
  const spec = raw.Spec ?? {};
  const description = raw.Description ?? {};
  const status = raw.Status ?? {};
  const manager = raw.ManagerStatus;
  return {
    id: str(raw.ID),
    hostname: str(description.Hostname, str(raw.ID).slice(0, 12)),
    role: spec.Role === 'manager' ? 'manager' : 'worker',
    leader: manager?.Leader === true,
    managerReachability: manager ? str(manager.Reachability) : undefined,
    availability: (['active', 'pause', 'drain'].includes(spec.Availability) ? spec.Availability : 'active') as NodeRecord['availability'],
    state: (['unknown', 'down', 'ready', 'disconnected'].includes(status.State) ? status.State : 'unknown') as NodeRecord['state'],
    stateMessage: status.Message ? str(status.Message) : undefined,
    // A manager may report 0.0.0.0 in Status.Addr; its ManagerStatus.Addr (host:port) is then the real one.
    address:
      status.Addr && status.Addr !== '0.0.0.0'
        ? str(status.Addr)
        : manager?.Addr
          ? str(manager.Addr).replace(/:\d+$/, '')
          : str(status.Addr),
    engineVersion: str(description.Engine?.EngineVersion),
    labels: labels(spec.Labels),
    engineLabels: labels(description.Engine?.Labels),
    os: str(description.Platform?.OS),
    architecture: str(description.Platform?.Architecture),
    createdAt: raw.CreatedAt,
    updatedAt: raw.UpdatedAt,
  };
}

function serviceMode(mode: Json | undefined): { mode: ServiceMode; replicas?: number } {
  if (!mode) return { mode: 'replicated', replicas: 1 };
  if (mode.Replicated) return { mode: 'replicated', replicas: Number(mode.Replicated.Replicas ?? 1) };
  if (mode.Global) return { mode: 'global' };
  if (mode.ReplicatedJob) return { mode: 'replicated-job', replicas: Number(mode.ReplicatedJob.TotalCompletions ?? mode.ReplicatedJob.MaxConcurrent ?? 1) };
  if (mode.GlobalJob) return { mode: 'global-job' };
  return { mode: 'replicated', replicas: 1 };
}

/** Strips the digest the CLI pins to an image reference ("busybox:1@sha256:..."). */
export function shortImage(image: string): string {
  const at = image.indexOf('@sha256:');
  return at >= 0 ? image.slice(0, at) : image;
}

export function serviceFromApi(raw: Json): ServiceRecord {
  const spec = raw.Spec ?? {};
  const { mode, replicas } = serviceMode(spec.Mode);
  const endpoint = raw.Endpoint ?? {};
  const endpointSpec = endpoint.Spec ?? spec.EndpointSpec ?? {};
  const ports: PublishedPort[] = ((endpoint.Ports ?? endpointSpec.Ports ?? []) as Json[]).map((p) => ({
    protocol: (p.Protocol ?? 'tcp') as PublishedPort['protocol'],
    targetPort: Number(p.TargetPort),
    publishedPort: p.PublishedPort !== undefined ? Number(p.PublishedPort) : undefined,
    publishMode: p.PublishMode === 'host' ? 'host' : 'ingress',
  }));
  const networks = ((spec.TaskTemplate?.Networks ?? spec.Networks ?? []) as Json[]).map((n) => ({
    networkId: str(n.Target),
    aliases: Array.isArray(n.Aliases) ? n.Aliases.map(String) : [],
  }));
  return {
    id: str(raw.ID),
    name: str(spec.Name),
    mode,
    desiredReplicas: replicas,
    image: shortImage(str(spec.TaskTemplate?.ContainerSpec?.Image)),
    ports,
    networks,
    endpointMode: endpointSpec.Mode === 'dnsrr' ? 'dnsrr' : 'vip',
    virtualIps: ((endpoint.VirtualIPs ?? []) as Json[]).map((v) => ({ networkId: str(v.NetworkID), address: str(v.Addr) })),
    labels: labels(spec.Labels),
    constraints: Array.isArray(spec.TaskTemplate?.Placement?.Constraints) ? spec.TaskTemplate.Placement.Constraints.map(String) : [],
    createdAt: raw.CreatedAt,
    updatedAt: raw.UpdatedAt,
    updateState: raw.UpdateStatus?.State,
  };
}

export function taskFromApi(raw: Json): TaskRecord {
  const status = raw.Status ?? {};
  return {
    id: str(raw.ID),
    serviceId: str(raw.ServiceID),
    nodeId: raw.NodeID ? str(raw.NodeID) : undefined,
    slot: typeof raw.Slot === 'number' && raw.Slot > 0 ? raw.Slot : undefined,
    desiredState: str(raw.DesiredState),
    state: str(status.State),
    message: str(status.Message),
    error: status.Err ? str(status.Err) : undefined,
    containerId: status.ContainerStatus?.ContainerID ? str(status.ContainerStatus.ContainerID) : undefined,
    timestamp: status.Timestamp,
    image: shortImage(str(raw.Spec?.ContainerSpec?.Image)),
    addresses: ((raw.NetworksAttachments ?? []) as Json[]).map((a) => ({
      networkId: str(a.Network?.ID),
      networkName: str(a.Network?.Spec?.Name),
      addresses: Array.isArray(a.Addresses) ? a.Addresses.map(String) : [],
    })),
  };
}

const TRUE_OPTION = /^(1|true|yes|on)?$/i;

export function networkFromApi(raw: Json): NetworkRecord {
  const options = labels(raw.Options);
  return {
    id: str(raw.Id ?? raw.ID),
    name: str(raw.Name),
    driver: str(raw.Driver),
    scope: str(raw.Scope),
    subnets: ((raw.IPAM?.Config ?? []) as Json[])
      .filter((c) => c.Subnet)
      .map((c) => ({ subnet: str(c.Subnet), gateway: c.Gateway ? str(c.Gateway) : undefined })),
    attachable: raw.Attachable === true,
    internal: raw.Internal === true,
    ingress: raw.Ingress === true,
    // `docker network create --opt encrypted` stores the key "encrypted" with an empty value.
    encrypted: 'encrypted' in options && TRUE_OPTION.test(options.encrypted),
    labels: labels(raw.Labels),
    options,
  };
}

export function summaryFromApi(info: Json, version: Json): EngineSummary {
  const swarm = info.Swarm ?? {};
  const state = str(swarm.LocalNodeState, 'inactive') as LocalSwarmState;
  return {
    name: str(info.Name),
    serverVersion: str(version.Version ?? info.ServerVersion),
    apiVersion: str(version.ApiVersion),
    os: str(info.OperatingSystem ?? version.Os),
    architecture: str(info.Architecture ?? version.Arch),
    swarm: {
      localNodeState: state,
      controlAvailable: swarm.ControlAvailable === true,
      nodeId: swarm.NodeID || undefined,
      nodeAddress: swarm.NodeAddr || undefined,
      clusterId: swarm.Cluster?.ID || undefined,
      managers: typeof swarm.Managers === 'number' ? swarm.Managers : undefined,
      nodes: typeof swarm.Nodes === 'number' ? swarm.Nodes : undefined,
      error: swarm.Error || undefined,
    },
  };
}

export function eventFromApi(raw: Json): EngineEvent {
  return {
    type: str(raw.Type),
    action: str(raw.Action),
    actorId: str(raw.Actor?.ID),
    actorName: raw.Actor?.Attributes?.name,
    scope: raw.scope,
    time: Number(raw.time ?? 0),
  };
}
