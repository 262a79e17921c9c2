import { waitFor } from '../harness/workbench';
import { expect, openIncidentCapture, type Journey } from './journey';

export const openPcap: Journey = {
  id: '05-open-pcap',
  title: 'open a .pcap from the explorer in the custom editor and filter for RST',
  async run({ wb, page, log }) {
    const viewer = await openIncidentCapture({ wb, page });
    const status = viewer.locator('.statusline');
    log('incident.pcap open in the packet viewer: 14 packets');

    const field = viewer.locator('vscode-textfield.filter');
    await field.click();
    await page.keyboard.type('tcp.flags.reset');
    await page.keyboard.press('Enter');
    await waitFor('the filter to match one packet', async () => (((await viewer.locator('.filter-status').textContent()) ?? '').trim() === '1 match' ? true : undefined), 30_000);
    await waitFor('"1 packets shown"', async () => (((await status.textContent()) ?? '').trim() === '1 packets shown' ? true : undefined), 30_000);
    const rows = viewer.locator('.rows .row:has(.col-info)');
    await rows.first().waitFor({ timeout: 10_000 });
    expect((await rows.count()) === 1, `the filtered list shows ${await rows.count()} rows`);
    const info = (await rows.first().locator('.col-info').textContent()) ?? '';
    const source = (await rows.first().locator('.col-source').textContent()) ?? '';
    expect(/8081 → 53880 \[RST, ACK\]/.test(info), `the remaining row is not the RST: ${info}`);
    expect(source.startsWith('10.0.1.2'), `the RST does not come from the server 10.0.1.2: ${source}`);
    expect(/\bcolour-rst\b/.test((await rows.first().getAttribute('class')) ?? ''), 'the RST row is not coloured as one');
    log(`one row left: ${source} ${info}`);
    await wb.clearHover();
  },
};
