// Our own records for what the Docker Engine API returns. Dockerode's types stay inside
// dockerodeEngine.ts; everything above the engine layer sees only these.

export type NodeRole = 'manager' | 'worker';
export type NodeAvailability = 'active' | 'pause' | 'drain';
export type NodeState = 'unknown' | 'down' | 'ready' | 'disconnected';

export interface NodeRecord {
  id: string;
  hostname: string;
  role: NodeRole;
  /** True for the manager that is the raft leader. */
  leader: boolean;
  /** Manager reachability ("reachable", "unreachable") or undefined for workers. */
  managerReachability?: string;
  availability: NodeAvailability;
  state: NodeState;
  stateMessage?: string;
  /** The address the node advertises to the swarm (Status.Addr). */
  address: string;
  engineVersion: string;
  /** Node labels set with `docker node update --label-add`. */
  labels: Record<string, string>;
  engineLabels: Record<string, string>;
  os: string;
  architecture: string;
  createdAt?: string;
  updatedAt?: string;
}

export type ServiceMode = 'replicated' | 'global' | 'replicated-job' | 'global-job';
export type EndpointMode = 'vip' | 'dnsrr';

export interface PublishedPort {
  protocol: 'tcp' | 'udp' | 'sctp';
  targetPort: number;
  publishedPort?: number;
  /** "ingress" (routing mesh) or "host" (published on the node running the task). */
  publishMode: 'ingress' | 'host';
}

export interface VirtualIp {
  networkId: string;
  /** CIDR, e.g. 10.0.1.5/24 */
  address: string;
}

export interface ServiceRecord {
  id: string;
  name: string;
  mode: ServiceMode;
  /** Desired replicas for replicated services; undefined for global ones. */
  desiredReplicas?: number;
  image: string;
  ports: PublishedPort[];
  /** Network ids the service is attached to, with its aliases there. */
  networks: { networkId: string; aliases: string[] }[];
  endpointMode: EndpointMode;
  virtualIps: VirtualIp[];
  labels: Record<string, string>;
  constraints: string[];
  createdAt?: string;
  updatedAt?: string;
  updateState?: string;
}

export interface TaskNetworkAddresses {
  networkId: string;
  networkName: string;
  /** CIDR addresses, e.g. 10.0.1.7/24 */
  addresses: string[];
}

export interface TaskRecord {
  id: string;
  serviceId: string;
  nodeId?: string;
  /** Replica slot; undefined for global tasks. */
  slot?: number;
  desiredState: string;
  state: string;
  message: string;
  error?: string;
  containerId?: string;
  /** When the task last changed state. */
  timestamp?: string;
  image: string;
  addresses: TaskNetworkAddresses[];
}

export interface SubnetRecord {
  subnet: string;
  gateway?: string;
}

export interface NetworkRecord {
  id: string;
  name: string;
  driver: string;
  scope: string;
  subnets: SubnetRecord[];
  attachable: boolean;
  internal: boolean;
  ingress: boolean;
  encrypted: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
}

export type LocalSwarmState = 'inactive' | 'pending' | 'active' | 'error' | 'locked';

export interface EngineSummary {
  /** The engine host's name. */
  name: string;
  serverVersion: string;
  apiVersion: string;
  os: string;
  architecture: string;
  swarm: {
    localNodeState: LocalSwarmState;
    /** True when this engine is a swarm manager (can answer node/service/task calls). */
    controlAvailable: boolean;
    nodeId?: string;
    nodeAddress?: string;
    clusterId?: string;
    managers?: number;
    nodes?: number;
    error?: string;
  };
}

/** One message from the engine's event stream, reduced to what refreshing needs. */
export interface EngineEvent {
  type: string;
  action: string;
  actorId: string;
  actorName?: string;
  scope?: string;
  time: number;
}

export type InspectKind = 'node' | 'service' | 'task' | 'network' | 'container';

export interface CallOptions {
  /** Aborts the call. */
  signal?: AbortSignal;
  /** Overrides the client's default timeout for this call, in milliseconds. */
  timeoutMs?: number;
}

/** A short-lived helper container: what runs, in which namespaces, with which rights. */
export interface HelperContainerSpec {
  image: string;
  /** The program and its arguments, as an array: never a shell string built from input. */
  argv: string[];
  /** e.g. "container:<id>" (a task's sandbox), "host", "none". */
  networkMode: string;
  capAdd?: string[];
  privileged?: boolean;
  /** "host:container[:options]" bind mounts. */
  binds?: string[];
  labels: Record<string, string>;
  /** A name of ours, so a user seeing it in `docker ps` knows what it is. */
  name?: string;
}

/** A one-shot service pinned to one node: the manager-only way to run something on any node. */
export interface NodeJobSpec {
  image: string;
  argv: string[];
  nodeId: string;
  capAdd?: string[];
  mounts?: { source: string; target: string; readOnly: boolean; propagation?: 'rslave' | 'rprivate' | 'rshared' }[];
  /** Network to attach ("host" for the node's own namespace); none by default. */
  network?: string;
  labels: Record<string, string>;
  name: string;
}

export interface ProcessOutput {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** How long the whole run may take, clean-up excluded. */
  timeoutMs: number;
  /** Output as it arrives (stdout only), for long-running commands such as captures. */
  onStdout?: (chunk: Buffer) => void;
  /** Do not keep stdout for the result (it went to onStdout): long captures must not fill memory. */
  discardStdout?: boolean;
  /** Called when the helper could not be removed (its engine went away): retry later. */
  onCleanupFailed?: (kind: 'container' | 'service', id: string) => void;
}

export interface HelperResourceRecord {
  kind: 'container' | 'service';
  id: string;
  name: string;
  labels: Record<string, string>;
  createdAt?: string;
}

/** What the rest of the product needs from a Docker engine. */
export interface EngineClient {
  readonly endpoint: import('./endpoint').EngineEndpoint;
  ping(options?: CallOptions): Promise<void>;
  summary(options?: CallOptions): Promise<EngineSummary>;
  listNodes(options?: CallOptions): Promise<NodeRecord[]>;
  listServices(options?: CallOptions): Promise<ServiceRecord[]>;
  listTasks(options?: CallOptions): Promise<TaskRecord[]>;
  listNetworks(options?: CallOptions): Promise<NetworkRecord[]>;
  /** The engine's own JSON for one object, for "Inspect". */
  inspectRaw(kind: InspectKind, id: string, options?: CallOptions): Promise<unknown>;
  /**
   * Streams events until the signal aborts or the connection ends. Resolves when the stream
   * ends normally, rejects with an EngineError when it breaks.
   */
  streamEvents(onEvent: (event: EngineEvent) => void, options: { signal: AbortSignal }): Promise<void>;
  /** True when the engine has the image locally. */
  hasImage(reference: string, options?: CallOptions): Promise<boolean>;
  /**
   * Runs a helper container to completion and returns its exit status and output. The container
   * is removed in every case: success, failure, timeout, cancellation.
   */
  runContainer(spec: HelperContainerSpec, options: RunOptions): Promise<ProcessOutput>;
  /**
   * Runs a job pinned to a node through a manager and returns its output from the service logs.
   * The service is removed in every case.
   */
  runNodeJob(spec: NodeJobSpec, options: RunOptions): Promise<ProcessOutput & { taskId: string }>;
  /** Our helper containers or job services still present (by label), for clean-up. */
  listLabeled(kind: 'container' | 'service', label: string, options?: CallOptions): Promise<HelperResourceRecord[]>;
  removeResource(kind: 'container' | 'service', id: string, options?: CallOptions): Promise<void>;
  /** Frees sockets and agents. */
  dispose(): void;
}
