import { expect, type Journey } from './journey';

export const expandTask: Journey = {
  id: '02-expand-swarm02',
  title: 'expand swarm02 and its task',
  async run({ wb, log }) {
    await wb.showSwarmDoctor();
    await wb.widenSidebar(560);
    await wb.expand('swarm02', 'swarmDoctor.nodes');
    const task = await wb.waitRow('sourcemysql.1', { view: 'swarmDoctor.nodes', description: /^running · 10\.0\.1\.\d+$/ });
    expect((await task.getAttribute('aria-level')) === '2', 'sourcemysql.1 is not a child of a node');
    await wb.waitRow(/^\s*nodeagent\.\w+\s*$/, { view: 'swarmDoctor.nodes', description: /^running · 10\.0\.1\.\d+$/ });
    log("swarm02's tasks: sourcemysql.1 and its nodeagent task");
    const address = /^running · (10\.0\.1\.\d+)$/.exec(await wb.rowDescription(task))![1];
    await wb.expand('sourcemysql.1', 'swarmDoctor.nodes');
    const network = wb.pane('swarmDoctor.nodes').locator('.monaco-list-row[aria-level="3"]').filter({ hasText: 'backend' }).first();
    await network.waitFor({ timeout: 30_000 });
    const description = await wb.rowDescription(network);
    expect(description === `${address}/24`, `sourcemysql.1's backend attachment says "${description}", expected ${address}/24`);
    log(`sourcemysql.1 on backend at ${description}`);
    await wb.clearHover();
  },
};
