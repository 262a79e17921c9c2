import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitFor } from '../harness/workbench';
import { expect, openIncidentCapture, type Journey } from './journey';

export const exportPcap: Journey = {
  id: '07-export-wireshark',
  title: 'export the filtered packets as pcapng with swarm names, and hand the capture to Wireshark',
  async run({ wb, page, workspace, runDir, log }) {
    const viewer = await openIncidentCapture({ wb, page }, { swarmRead: true });
    const status = viewer.locator('.statusline');
    await viewer.locator('vscode-textfield.filter').click();
    await page.keyboard.type('tcp.flags.reset');
    await page.keyboard.press('Enter');
    await waitFor('"1 packets shown"', async () => (((await status.textContent()) ?? '').trim() === '1 packets shown' ? true : undefined), 30_000);

    // Export shown…: VS Code's save dialog (in the browser, a path in a quick input), offering
    // <capture>-filtered.pcapng beside the capture; accepted as offered.
    const target = path.join(workspace, 'incident-filtered.pcapng');
    fs.rmSync(target, { force: true });
    await viewer.locator('vscode-button', { hasText: 'Export shown…' }).click();
    const widget = page.locator('.quick-input-widget');
    await widget.waitFor({ state: 'visible', timeout: 15_000 });
    // The dialog shows the folder first and the offered name a moment later.
    const input = widget.locator('input').first();
    await waitFor('the save dialog to offer incident-filtered.pcapng', async () => ((await input.inputValue()).endsWith('incident-filtered.pcapng') ? true : undefined), 15_000);
    await input.press('Enter');
    await waitFor(`${target} to be written`, async () => (fs.existsSync(target) && fs.statSync(target).size > 0 ? true : undefined), 20_000);
    log(`exported to ${target} (${fs.statSync(target).size} bytes)`);

    // tshark is the judge of what we wrote: one packet, the RST from the server.
    const fields = execFileSync('tshark', ['-r', target, '-T', 'fields', '-e', 'frame.number', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'tcp.flags.reset'], { encoding: 'utf8' }).trim();
    expect(/^1\t10\.0\.1\.2\t8081\t(1|True)$/.test(fields), `tshark reads the export as:\n${fields}`);
    const bytes = fs.readFileSync(target);
    expect(bytes.readUInt32LE(0) === 0x0a0d0d0a, 'the export is not pcapng');
    // With network name resolution on, tshark takes the names from the export's name resolution block.
    const host = execFileSync('tshark', ['-r', target, '-N', 'n', '-T', 'fields', '-e', 'ip.src_host'], { encoding: 'utf8' }).trim();
    // The names the capture kept when it was taken (incident.pcap.names.json), not whatever holds
    // 10.0.1.2 on the lab today.
    expect(host === 'schemaregistry.1_on_swarm00', `tshark names 10.0.1.2 "${host}", not by the swarm name the capture kept`);
    log(`tshark: ${fields.replace(/\t/g, ' ')}; with -N n it names the source ${host}`);
    // And beside the export, as a capture keeps them: with the time they were read, not now.
    const kept = JSON.parse(fs.readFileSync(`${target}.names.json`, 'utf8')) as { takenAt: string; names: Record<string, string> };
    expect(kept.names['10.0.1.2'] === 'schemaregistry.1 on swarm00' && kept.takenAt === '2026-11-26T13:46:54.000Z', `the names kept beside the export: ${JSON.stringify(kept)}`);

    // Open in Wireshark: offered because a wireshark is on PATH (here a stand-in set as swarmDoctor.capture.wiresharkPath, which records its arguments).
    const calls = path.join(runDir, 'wireshark-calls.txt');
    fs.rmSync(calls, { force: true });
    const button = viewer.locator('vscode-button', { hasText: 'Open in Wireshark' });
    expect(await button.isVisible(), 'no "Open in Wireshark" button although swarmDoctor.capture.wiresharkPath names a program');
    await button.click();
    const args = await waitFor('wireshark to be started', async () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim() : undefined), 15_000);
    expect(args.split('\n').some((a) => a.endsWith(`${path.sep}incident.pcap`)), `wireshark was started with: ${args}`);
    log(`wireshark started with ${args}`);
    await wb.clearHover();
  },
};
