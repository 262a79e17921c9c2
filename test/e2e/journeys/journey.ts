// What a UI journey is: a named walk through the workbench that asserts on what the page shows.
// The runner (test/e2e/harness/main.ts) saves a screenshot of the page when it ends, passed or failed.
import type { Frame, Page } from 'playwright-core';
import { waitFor, type Workbench } from '../harness/workbench';

export interface JourneyContext {
  wb: Workbench;
  page: Page;
  repoRoot: string;
  /** The folder open in the workbench (holds a copy of the incident capture). */
  workspace: string;
  /** This run's folder (wireshark-calls.txt: what the stand-in wireshark was called with). */
  runDir: string;
  log(message: string): void;
}

export interface Journey {
  /** Also the screenshot's file name, e.g. 01-explorer. */
  id: string;
  title: string;
  timeoutMs?: number;
  /** Not built yet: listed as TODO in the report, never run. */
  todo?: string;
  run(ctx: JourneyContext): Promise<void>;
}

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/**
 * Opens the workspace's incident.pcap from the explorer in the packet viewer (the extension is
 * active once its view has been shown: the recipe that works in code-server) and waits for its 14
 * packets. Returns the viewer's frame.
 */
export async function openIncidentCapture({ wb, page }: Pick<JourneyContext, 'wb' | 'page'>, options: { swarmRead?: boolean } = {}): Promise<Frame> {
  await wb.closeAllEditors();
  await wb.showSwarmDoctor();
  // The swarm read first, when the journey needs the names it gives the addresses.
  if (options.swarmRead) await wb.waitRow('swarm00', { view: 'swarmDoctor.nodes', timeoutMs: 60_000 });
  await wb.showExplorer();
  await page.keyboard.press('Escape');
  const file = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'incident.pcap' }).first();
  await file.waitFor({ timeout: 30_000 });
  await file.dblclick();
  await waitFor('the incident.pcap tab', async () => ((await wb.activeTabTitle()) === 'incident.pcap' ? true : undefined), 30_000);
  const viewer = await wb.webviewFrame('#app .list', 30_000);
  const status = viewer.locator('.statusline');
  await waitFor('"14 packets shown"', async () => (((await status.textContent()) ?? '').trim() === '14 packets shown' ? true : undefined), 30_000);
  return viewer;
}
