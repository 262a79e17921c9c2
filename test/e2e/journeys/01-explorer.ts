import type { Journey } from './journey';

export const explorer: Journey = {
  id: '01-explorer',
  title: 'open the Swarm Doctor view and see the three nodes and the services',
  async run({ wb, log }) {
    await wb.showSwarmDoctor();
    await wb.widenSidebar(560);
    await wb.waitRow('swarm00', { view: 'swarmDoctor.nodes', description: /^leader · ready · 10\.99\.0\.10$/ });
    await wb.waitRow('swarm01', { view: 'swarmDoctor.nodes', description: /^worker · ready · 10\.99\.0\.11$/ });
    await wb.waitRow('swarm02', { view: 'swarmDoctor.nodes', description: /^worker · ready · 10\.99\.0\.12$/ });
    log('three nodes, ready');
    for (const [service, replicas] of [['connect', '1/1'], ['nodeagent', '3/3 · global'], ['schemaregistry', '1/1'], ['sourcemysql', '1/1']]) {
      await wb.waitRow(service, { view: 'swarmDoctor.services', description: new RegExp(`^${replicas} · swarm-lab/busybox`) });
    }
    log('four services, all replicas running');
    await wb.waitRow('backend', { view: 'swarmDoctor.networks', description: /^overlay · 10\.0\.1\.0\/24/ });
    await wb.clearHover();
  },
};
