import { labFault } from '../harness/lab';
import { waitFor } from '../harness/workbench';
import { expect, type Journey } from './journey';

export const matrix: Journey = {
  id: '06-matrix',
  title: 'run the matrix with the incident injected and see the failing cell first',
  timeoutMs: 300_000,
  async run({ wb, page, repoRoot, log }) {
    await wb.closeAllEditors();
    labFault(repoRoot, 'incident', 'on');
    log('incident injected: REJECT tcp-reset for sourcemysql.1 in schemaregistry.1 on swarm00');
    try {
      await wb.showSwarmDoctor();
      await wb.widenSidebar(460);
      await wb.contextMenu('schemaregistry', 'Run Connectivity Matrix', 'swarmDoctor.services');
      await wb.quickInput(/probe from which tasks\?$/, { pick: 'Any task on each node' });
      const view = await wb.webviewFrame('[data-testid="matrix"]', 60_000);
      await waitFor('the matrix to complete', async () => ((await view.getAttribute('[data-testid="matrix"]', 'data-complete')) === 'true' ? true : undefined), 180_000, 500);
      const failing = view.locator('[data-testid="failing-cell"]');
      const count = await failing.count();
      expect(count >= 1, 'no failing cell is listed');
      const first = failing.first();
      const firstText = (await first.textContent()) ?? '';
      expect((await first.getAttribute('data-state')) === 'refused', `the first failing cell is ${await first.getAttribute('data-state')}: ${firstText}`);
      // The lab's task addresses depend on the order its tasks started in: the RST must come from
      // the address the cell probed (schemaregistry.1's, whatever it is today).
      const probed = /schemaregistry\.1\s*(\d+\.\d+\.\d+\.\d+):8081/.exec(firstText)?.[1];
      expect(/swarm02 \(sourcemysql\.1\)/.test(firstText) && probed !== undefined && firstText.includes(`RST from ${probed}:8081`), `the first failing cell is not sourcemysql.1's refusal by schemaregistry.1: ${firstText}`);
      const states = await view.locator('[data-testid="matrix-cell"]').evaluateAll((cells) => cells.map((c) => `${c.getAttribute('aria-label')}|${c.getAttribute('data-state')}`));
      const refused = states.filter((s) => s.endsWith('|refused'));
      expect(refused.length === count, `${refused.length} refused cells in the table, ${count} in the failing list`);
      expect(refused.every((s) => s.includes('sourcemysql')), `a cell other than sourcemysql.1's is refused: ${refused.join(', ')}`);
      expect(states.filter((s) => s.endsWith('|connected')).length >= 4, `too few connected cells: ${states.join(', ')}`);
      log(`${count} failing cell(s) first: ${firstText.replace(/\s+/g, ' ').trim()}; ${states.length} cells in the table`);
      await first.click();
      const trace = view.locator('[data-testid="cell-trace"]');
      await trace.waitFor({ timeout: 10_000 });
      const traceText = (await trace.textContent()) ?? '';
      expect(/Flags \[S\]/.test(traceText) && /Flags \[R\.\]/.test(traceText), `the cell's packet trace lacks the SYN and the RST: ${traceText.slice(0, 400)}`);
      log('the cell shows its packet trace: SYN out, RST in');
      await page.mouse.move(5, 5);
    } finally {
      labFault(repoRoot, 'incident', 'off');
      log('incident removed');
    }
  },
};
