import { labFault } from '../harness/lab';
import { waitFor } from '../harness/workbench';
import { expect, type Journey } from './journey';

export const checks: Journey = {
  id: '08-checks',
  title: 'run the network checks with the incident injected and see it named first, with its rule',
  timeoutMs: 300_000,
  async run({ wb, repoRoot, log }) {
    await wb.closeAllEditors();
    labFault(repoRoot, 'incident', 'on');
    try {
      await wb.showSwarmDoctor();
      await wb.waitRow('swarm00', { view: 'swarmDoctor.nodes', timeoutMs: 60_000 });
      await wb.command('Swarm Doctor: Run Network Checks');
      const view = await wb.webviewFrame('[data-testid="report-status"]', 60_000);
      const state = await waitFor('the checks to finish', async () => {
        const s = await view.getAttribute('[data-testid="report-status"]', 'data-state');
        return s && s !== 'running' ? s : undefined;
      }, 240_000, 1000);
      expect(state === 'done', `the checks ended ${state}`);
      const findings = view.locator('[data-testid="finding"]');
      const first = findings.first();
      const text = ((await first.textContent()) ?? '').replace(/\s+/g, ' ');
      expect((await first.getAttribute('data-severity')) === 'error', `the first finding is ${await first.getAttribute('data-severity')}: ${text}`);
      expect(/swarm02 → schemaregistry on swarm00 \(port 8081\): refused by an RST from the server task schemaregistry\.1/.test(text), `the first finding is not the incident: ${text.slice(0, 300)}`);
      expect(/REJECT/.test(text) && /reject-with tcp-reset/.test(text) && /\d+ packets/.test(text), `the finding does not show the rule and its counter: ${text.slice(0, 600)}`);
      const errors = await view.locator('[data-testid="finding"][data-severity="error"]').count();
      expect(errors === 1, `${errors} error findings, expected the incident alone`);
      const verdict = ((await view.locator('[data-testid="checks-verdict"]').textContent()) ?? '').trim();
      log(`${await findings.count()} findings, verdict "${verdict}"; first: ${text.slice(0, 160)}`);
    } finally {
      labFault(repoRoot, 'incident', 'off');
    }
  },
};
