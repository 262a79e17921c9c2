import { waitFor } from '../harness/workbench';
import { expect, openIncidentCapture, type Journey } from './journey';

export const openPcap: Journey = {
  id: '05-open-pcap',
  title: 'open a .pcap from the explorer in the custom editor, filter for RST: the details follow the selection the filter leaves',
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
    // Named as the swarm had it when the capture was taken (incident.pcap.names.json beside it),
    // whatever holds 10.0.1.2 today, and the viewer says so.
    expect(source === '10.0.1.2 (schemaregistry.1 on swarm00)', `the RST's source is not the server as it was then: ${source}`);
    const note = ((await viewer.locator('.names-note').textContent()) ?? '').trim();
    expect(note === 'swarm names as at 2026-11-26 13:46:54 UTC, when the capture was taken', `the viewer does not say where the names come from: "${note}"`);
    expect(/\bcolour-rst\b/.test((await rows.first().getAttribute('class')) ?? ''), 'the RST row is not coloured as one');
    log(`one row left: ${source} ${info}`);

    // Frame 1 was selected when the capture opened; the filter hides it, so the details and hex
    // panes must not go on showing it under a list without it.
    const details = viewer.locator('.details');
    const firstDetail = async () => ((await details.locator('.detail-label').first().textContent({ timeout: 1000 }).catch(() => null)) ?? '').trim();
    await waitFor('the details to say frame 1 is hidden', async () => (/^Packet 1 is hidden by the filter\b/.test(((await details.textContent()) ?? '').trim()) ? true : undefined), 10_000);
    const stale = await details.locator('.detail-label').count();
    expect(stale === 0, `the details still show a packet the filter hides: ${stale ? await firstDetail() : ''}`);
    expect(((await viewer.locator('.hex').textContent()) ?? '').trim() === '', 'the hex pane still shows the hidden packet');
    expect((await viewer.locator('.rows .row.selected').count()) === 0, 'a row is selected although the selected packet is hidden');
    log('details after the filter: frame 1 is hidden by the filter');

    // ↓ goes on from where frame 1 would be: to the first shown packet after it, the RST (frame 2).
    await viewer.locator('.list').focus();
    await page.keyboard.press('ArrowDown');
    await waitFor('the details of frame 2', async () => ((await firstDetail()).startsWith('Frame 2:') ? true : undefined), 10_000);
    expect(/\bselected\b/.test((await rows.first().getAttribute('class')) ?? ''), 'the RST row is not selected after ↓');

    // Clearing the filter keeps the RST selected, at its row among all 14.
    await field.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Enter');
    await waitFor('"14 packets shown"', async () => (((await status.textContent()) ?? '').trim() === '14 packets shown' ? true : undefined), 30_000);
    const selected = viewer.locator('.rows .row.selected');
    await waitFor('the RST to stay selected', async () => ((await selected.count()) === 1 && /\[RST, ACK\]/.test((await selected.locator('.col-info').textContent()) ?? '') ? true : undefined), 10_000);
    expect((await selected.locator('.col-no').textContent())?.trim() === '2', 'the selected row is not frame 2');
    expect((await firstDetail()).startsWith('Frame 2:'), `the details show ${await firstDetail()} instead of frame 2`);
    log('filter cleared: frame 2 (the RST) still selected, its details shown');
    await wb.clearHover();
  },
};
