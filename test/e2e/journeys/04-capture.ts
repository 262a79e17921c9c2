import { startClientTraffic } from '../harness/lab';
import { waitFor } from '../harness/workbench';
import { expect, type Journey } from './journey';

const CAPTURES = 'swarmDoctor.captures';

export const capture: Journey = {
  id: '04-capture',
  title: 'start and stop a capture and see the viewer fill with packets',
  timeoutMs: 180_000,
  async run({ wb, page, repoRoot, log }) {
    await wb.closeAllEditors();
    await wb.showSwarmDoctor();
    await wb.widenSidebar(460);
    await wb.expand('swarm00', 'swarmDoctor.nodes');
    // connect (swarm01) asks schemaregistry (swarm00) for its page once a second meanwhile.
    const traffic = await startClientTraffic(repoRoot, 'connect');
    try {
      await wb.contextMenu('schemaregistry.1', 'Capture Packets', 'swarmDoctor.nodes');
      await wb.quickInput(/^Interface$/, { text: 'any' });
      await wb.quickInput(/^Capture filter \(BPF/, { text: 'New filter', pick: 'New filter' });
      await wb.quickInput(/^Capture filter$/, { text: 'tcp port 8081' });
      await wb.quickInput(/^Stop the capture after$/, { text: 'Until I stop', pick: 'Until I stop it' });
      log('capture started on schemaregistry.1 (tcp port 8081)');

      const row = await wb.waitRow('schemaregistry.1', { view: CAPTURES, description: /^swarm00 · running · [1-9]\d* pkts/, timeoutMs: 60_000 });
      // A click opens it. The view re-renders its rows every second (the counters), which can
      // swallow a click: click again, as a user would, until the viewer opens.
      const opened = async () => /^swarm00-schemaregistry\.1-.*\.pcap$/.test(await wb.activeTabTitle());
      for (let click = 1; !(await opened()); click++) {
        if (click > 5) throw new Error(`clicking the running capture ${click - 1} times did not open it in the packet viewer`);
        await row.click();
        await waitFor('the running capture to open in the packet viewer', async () => ((await opened()) ? true : undefined), 6_000).catch(() => undefined);
      }
      const viewer = await wb.webviewFrame('#app .list', 30_000);
      const status = viewer.locator('.statusline');
      const running = await waitFor('the viewer to show 6 or more packets of the running capture', async () => {
        const text = (await status.textContent()) ?? '';
        const m = /^(\d+) packets shown · capture running/.exec(text);
        return m && Number(m[1]) >= 6 ? Number(m[1]) : undefined;
      }, 60_000);
      log(`viewer follows the running capture: ${running} packets`);
      await viewer.locator('.row .col-info', { hasText: '8081' }).first().waitFor({ timeout: 10_000 });

      // Stop it with the Captures view's inline button.
      await row.hover();
      await row.locator('.action-label[aria-label="Stop Capture"]').click();
      const stopped = await wb.waitRow('schemaregistry.1', { view: CAPTURES, description: /^swarm00 · stopped · \d+ pkts/, timeoutMs: 30_000 });
      const counted = Number(/· (\d+) pkts/.exec(await wb.rowDescription(stopped))![1]);
      log(`capture stopped with ${counted} packets`);
      const shown = await waitFor(`the viewer to show the ${counted} packets of the stopped capture`, async () => {
        const m = /^(\d+) packets shown/.exec(((await status.textContent()) ?? '').trim());
        return m && Number(m[1]) === counted ? Number(m[1]) : undefined;
      }, 30_000);
      // Once the capture has ended, the viewer reads the file's tail and stops saying it runs.
      await waitFor('the viewer to stop saying "capture running"', async () => (/capture running/.test((await status.textContent()) ?? '') ? undefined : true), 30_000);
      log(`viewer after the stop: ${((await status.textContent()) ?? '').trim()}`);
      expect(shown >= running, `the viewer shows ${shown} packets after the stop, fewer than the ${running} it showed before`);
      const rows = await viewer.locator('.row .col-info').allTextContents();
      expect(rows.some((r) => /\[SYN\]/.test(r)) && rows.some((r) => /8081/.test(r)), `the viewer's rows do not show the HTTP conversations:\n${rows.slice(0, 10).join('\n')}`);
    } finally {
      const { requests, lastError } = await traffic.stop();
      log(`client traffic: ${requests} requests${lastError ? ` (last error: ${lastError.trim()})` : ''}`);
    }
    await page.mouse.move(10, 10);
    await wb.clearHover();
  },
};
