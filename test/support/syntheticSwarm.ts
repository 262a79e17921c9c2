// Generates Engine API JSON for a synthetic swarm of any size, shaped like what a real manager
// returns (see test/fixtures/lab/*.json). Deterministic for a given size.

export interface SyntheticSize {
  nodes: number;
  services: number;
  tasks: number;
  networks?: number;
}

export interface SyntheticSwarm {
  info: Record<string, unknown>;
  version: Record<string, unknown>;
  nodes: Record<string, unknown>[];
  services: Record<string, unknown>[];
  tasks: Record<string, unknown>[];
  networks: Record<string, unknown>[];
}

const hex = (prefix: string, n: number) => prefix + n.toString(16).padStart(23, '0');

export function syntheticSwarm(size: SyntheticSize): SyntheticSwarm {
  const networkCount = size.networks ?? Math.max(1, Math.ceil(size.services / 50));
  const networks = Array.from({ length: networkCount }, (_, i) => ({
    Name: `net${i}`,
    Id: hex('ne', i),
    Created: '2026-11-26T10:00:00Z',
    Scope: 'swarm',
    Driver: 'overlay',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: `10.${(i >> 8) & 255}.${i & 255}.0/24`.replace(/^10\.0\./, '10.0.'), Gateway: `10.${(i >> 8) & 255}.${i & 255}.1` }] },
    Internal: false,
    Attachable: i % 2 === 0,
    Ingress: false,
    Options: { 'com.docker.network.driver.overlay.vxlanid_list': String(4096 + i) },
    Labels: {},
  }));
  const nodes = Array.from({ length: size.nodes }, (_, i) => ({
    ID: hex('no', i),
    Version: { Index: 10 + i },
    CreatedAt: '2026-11-26T10:00:00Z',
    UpdatedAt: '2026-11-26T10:00:00Z',
    Spec: { Labels: { zone: `z${i % 3}` }, Role: i < 3 ? 'manager' : 'worker', Availability: i % 37 === 5 ? 'drain' : 'active' },
    Description: {
      Hostname: `node${String(i).padStart(3, '0')}`,
      Platform: { Architecture: 'x86_64', OS: 'linux' },
      Engine: { EngineVersion: '20.10.24+dfsg1', Labels: {} },
    },
    Status: { State: i % 41 === 7 ? 'down' : 'ready', Addr: `192.168.${i >> 8}.${i & 255}` },
    ...(i < 3 ? { ManagerStatus: { Leader: i === 0, Reachability: 'reachable', Addr: `192.168.0.${i}:2377` } } : {}),
  }));
  const services = Array.from({ length: size.services }, (_, i) => {
    const network = networks[i % networkCount];
    const global = i % 25 === 0;
    return {
      ID: hex('se', i),
      Version: { Index: 100 + i },
      CreatedAt: '2026-11-26T10:00:00Z',
      UpdatedAt: '2026-11-26T10:00:00Z',
      Spec: {
        Name: `svc${i}`,
        Labels: {},
        TaskTemplate: {
          ContainerSpec: { Image: `registry.example/app${i % 10}:1.${i % 7}@sha256:${'a'.repeat(64)}` },
          Placement: { Constraints: i % 3 === 0 ? [`node.labels.zone==z${i % 3}`] : [] },
          Networks: [{ Target: network.Id, Aliases: [`svc${i}`] }],
        },
        Mode: global ? { Global: {} } : { Replicated: { Replicas: Math.max(1, Math.round(size.tasks / size.services)) } },
        EndpointSpec: { Mode: 'vip', Ports: i % 10 === 0 ? [{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: 30000 + i, PublishMode: 'ingress' }] : [] },
      },
      Endpoint: {
        Spec: { Mode: 'vip' },
        Ports: i % 10 === 0 ? [{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: 30000 + i, PublishMode: 'ingress' }] : [],
        VirtualIPs: [{ NetworkID: network.Id, Addr: `10.${(i % networkCount >> 8) & 255}.${i % networkCount & 255}.${2 + Math.floor(i / networkCount)}/24` }],
      },
    };
  });
  const tasks = Array.from({ length: size.tasks }, (_, i) => {
    const serviceIndex = i % size.services;
    const service = services[serviceIndex];
    const network = networks[serviceIndex % networkCount];
    const node = nodes[(i * 7) % size.nodes];
    const failed = i % 97 === 3;
    return {
      ID: hex('ta', i),
      Version: { Index: 1000 + i },
      CreatedAt: '2026-11-26T10:00:00Z',
      UpdatedAt: '2026-11-26T10:00:00Z',
      Labels: {},
      Spec: { ContainerSpec: (service.Spec as { TaskTemplate: { ContainerSpec: unknown } }).TaskTemplate.ContainerSpec },
      ServiceID: service.ID,
      Slot: 'Global' in service.Spec.Mode ? undefined : Math.floor(i / size.services) + 1,
      NodeID: node.ID,
      Status: {
        Timestamp: `2026-11-26T10:${String(i % 60).padStart(2, '0')}:00Z`,
        State: failed ? 'failed' : 'running',
        Message: failed ? 'started' : 'started',
        ...(failed ? { Err: 'task: non-zero exit (1)' } : {}),
        ContainerStatus: { ContainerID: hex('c0', i).padEnd(64, '0'), PID: 1000 + i, ExitCode: failed ? 1 : 0 },
      },
      DesiredState: failed ? 'shutdown' : 'running',
      NetworksAttachments: [{ Network: { ID: network.Id, Spec: { Name: network.Name } }, Addresses: [`10.${(serviceIndex % networkCount >> 8) & 255}.${serviceIndex % networkCount & 255}.${10 + (i % 240)}/24`] }],
    };
  });
  return {
    info: { Name: 'node000', ServerVersion: '20.10.24+dfsg1', OperatingSystem: 'Debian GNU/Linux 12 (bookworm)', Architecture: 'x86_64', Swarm: { NodeID: nodes[0].ID, NodeAddr: '192.168.0.0', LocalNodeState: 'active', ControlAvailable: true, Nodes: size.nodes, Managers: 3, Cluster: { ID: 'cluster0' } } },
    version: { Version: '20.10.24+dfsg1', ApiVersion: '1.41', Os: 'linux', Arch: 'amd64' },
    nodes,
    services,
    tasks,
    networks,
  };
}
