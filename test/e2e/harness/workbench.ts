// Driving the VS Code web workbench (code-server) in Chromium the way a user does: activity bar,
// tree rows, context menus, quick picks, editors, webviews. Every wait is for a condition on the
// page, with a timeout that names what was awaited.
import { chromium, type Browser, type Frame, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Monaco renders spaces in editors as non-breaking ones. */
export const plain = (text: string) => text.replace(/\u00a0/g, ' ');

export class Workbench {
  /** E2E_TRACE=1 prints each workbench step with its time (to find what a slow journey waits for). */
  private readonly trace = process.env.E2E_TRACE ? (step: string) => console.log(`    [trace ${new Date().toISOString().slice(11, 23)}] ${step}`) : () => undefined;

  constructor(readonly page: Page) {}

  async open(url: string, timeoutMs = 90_000): Promise<void> {
    await this.page.goto(url, { timeout: timeoutMs });
    await this.page.waitForSelector('.monaco-workbench', { timeout: timeoutMs });
    // The activity bar item appears once the extension's contributions are known.
    await this.activityItem('Swarm Doctor').waitFor({ timeout: timeoutMs });
  }

  activityItem(title: string): Locator {
    return this.page.locator(`.part.activitybar .action-label[aria-label^="${title}"]`).first();
  }

  /** Moves the mouse to an empty spot so no hover or tooltip covers what a screenshot shows. */
  async clearHover(): Promise<void> {
    const size = this.page.viewportSize() ?? { width: 1600, height: 1000 };
    await this.page.mouse.move(size.width - 20, size.height - 60);
    // A tree tooltip can stay up after the mouse left; Escape closes it.
    const hover = this.page.locator('.workbench-hover-container, .monaco-hover:not(.hidden)').first();
    if (!(await hover.waitFor({ state: 'hidden', timeout: 1500 }).then(() => true, () => false))) await this.page.keyboard.press('Escape');
  }

  /** Opens the Swarm Doctor container in the side bar (leaves it open if it already is). */
  async showSwarmDoctor(): Promise<void> {
    this.trace('show Swarm Doctor');
    const item = this.activityItem('Swarm Doctor');
    const checked = await item.evaluate((el) => el.closest('.action-item')?.classList.contains('checked') ?? false);
    const sidebarVisible = await this.page.locator('.part.sidebar').isVisible();
    if (!checked || !sidebarVisible) await item.click();
    await this.pane('swarmDoctor.nodes').waitFor({ timeout: 30_000 });
    await this.clearHover();
  }

  async showExplorer(): Promise<void> {
    const item = this.activityItem('Explorer');
    const checked = await item.evaluate((el) => el.closest('.action-item')?.classList.contains('checked') ?? false);
    if (!checked) await item.click();
    await this.page.locator('.explorer-folders-view').waitFor({ timeout: 30_000 });
    await this.clearHover();
  }

  /** Drags the side bar's edge so the trees' descriptions fit in screenshots. */
  async widenSidebar(width: number): Promise<void> {
    const box = await this.page.locator('.part.sidebar').boundingBox();
    if (!box || Math.abs(box.width - width) < 10) return;
    const y = box.y + box.height / 2;
    await this.page.mouse.move(box.x + box.width - 1, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + width, y, { steps: 8 });
    await this.page.mouse.up();
    await this.clearHover();
  }

  /** One view's pane in the side bar, e.g. swarmDoctor.nodes. */
  pane(viewId: string): Locator {
    return this.page.locator(`.part.sidebar .pane:has(> .pane-header .icon.view-${viewId.replace(/\./g, '-')})`);
  }

  /** The tree row whose label is exactly `label` (within one view's pane when given). */
  row(label: string | RegExp, viewId?: string): Locator {
    const scope = viewId ? this.pane(viewId) : this.page.locator('.part.sidebar');
    const name = typeof label === 'string' ? new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) : label;
    return scope.locator('.monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: name }) }).first();
  }

  async rowDescription(row: Locator): Promise<string> {
    return ((await row.locator('.label-description').first().textContent({ timeout: 5_000 }).catch(() => '')) ?? '').trim();
  }

  /** Waits for a row, and for its description to match when asked. Returns the row. */
  async waitRow(label: string | RegExp, options: { view?: string; description?: RegExp; timeoutMs?: number } = {}): Promise<Locator> {
    this.trace(`wait row ${label}${options.description ? ` ${options.description}` : ''}`);
    const row = this.row(label, options.view);
    const timeout = options.timeoutMs ?? 60_000;
    const where = options.view ? ` in ${options.view}` : '';
    await row.waitFor({ timeout }).catch(() => {
      throw new Error(`no tree row "${label}"${where} within ${timeout / 1000}s`);
    });
    if (options.description) {
      const deadline = Date.now() + timeout;
      let text = '';
      while (!options.description.test((text = await this.rowDescription(row)))) {
        if (Date.now() > deadline) throw new Error(`tree row "${label}"${where}: description "${text}" does not match ${options.description}`);
        await this.page.waitForTimeout(250);
      }
    }
    return row;
  }

  /** Expands a collapsed tree row (by its twistie) and waits until it is expanded. */
  async expand(label: string, view?: string): Promise<void> {
    this.trace(`expand ${label}`);
    const row = await this.waitRow(label, { view });
    if ((await row.getAttribute('aria-expanded')) === 'false') await row.locator('.monaco-tl-twistie').click();
    await this.page.waitForFunction((el) => el?.getAttribute('aria-expanded') === 'true', await row.elementHandle(), { timeout: 30_000 }).catch(() => {
      throw new Error(`tree row "${label}" did not expand`);
    });
  }

  /** Right-click a row, then choose a context-menu item (hover + Enter: menus ignore synthetic clicks). */
  async contextMenu(label: string, item: string, view?: string): Promise<void> {
    this.trace(`context menu ${label} → ${item}`);
    const row = await this.waitRow(label, { view });
    await row.click({ button: 'right' });
    const action = this.page.locator('.context-view .action-label', { hasText: item }).first();
    await action.waitFor({ timeout: 10_000 }).catch(() => {
      throw new Error(`the context menu of "${label}" has no "${item}"`);
    });
    await action.hover();
    await this.page.keyboard.press('Enter');
    await this.page.locator('.context-view .monaco-menu').waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /**
   * Answers the quick input whose title matches `title`: types `text` (replacing what is there)
   * unless undefined, waits until the focused item shows `pick` when given, then Enter.
   */
  async quickInput(title: RegExp, options: { text?: string; pick?: string | RegExp; timeoutMs?: number } = {}): Promise<void> {
    this.trace(`quick input ${title}`);
    const widget = this.page.locator('.quick-input-widget');
    const timeout = options.timeoutMs ?? 30_000;
    const titleLocator = widget.locator('.quick-input-title');
    const deadline = Date.now() + timeout;
    for (;;) {
      const visible = await widget.isVisible();
      const text = visible ? ((await titleLocator.textContent()) ?? '') : '';
      if (visible && title.test(text)) break;
      if (Date.now() > deadline) throw new Error(`no quick input titled ${title} within ${timeout / 1000}s (showing: ${visible ? `"${text}"` : 'none'})`);
      await this.page.waitForTimeout(150);
    }
    if (options.text !== undefined) {
      await widget.locator('input').first().fill(options.text);
    }
    if (options.pick) {
      const focused = widget.locator('.quick-input-list .monaco-list-row.focused');
      const want = options.pick;
      const deadlinePick = Date.now() + 10_000;
      for (;;) {
        const label = (await focused.first().textContent().catch(() => '')) ?? '';
        if (typeof want === 'string' ? label.includes(want) : want.test(label)) break;
        if (Date.now() > deadlinePick) throw new Error(`quick pick ${title}: the focused item is "${label}", not ${want}`);
        await this.page.waitForTimeout(150);
      }
    }
    this.trace(`quick input ${title}: Enter`);
    await widget.locator('input').first().press('Enter');
    // Gone, or showing the next step.
    const deadlineAfter = Date.now() + 10_000;
    while ((await widget.isVisible()) && title.test((await titleLocator.textContent()) ?? '') && Date.now() < deadlineAfter) {
      await this.page.waitForTimeout(100);
    }
  }

  /** Runs a workbench command from the command palette by its title. */
  async command(title: string): Promise<void> {
    this.trace(`command ${title}`);
    await this.page.keyboard.press('F1');
    const widget = this.page.locator('.quick-input-widget');
    await widget.waitFor({ timeout: 10_000 });
    await widget.locator('input').first().fill(`>${title}`);
    const focused = widget.locator('.quick-input-list .monaco-list-row.focused');
    await focused.filter({ hasText: title }).first().waitFor({ timeout: 10_000 }).catch(() => {
      throw new Error(`no command "${title}" in the command palette`);
    });
    await widget.locator('input').first().press('Enter');
    await widget.waitFor({ state: 'hidden', timeout: 10_000 });
  }

  async closeAllEditors(): Promise<void> {
    await this.command('View: Close All Editors');
  }

  /** Title of the active editor tab. */
  async activeTabTitle(): Promise<string> {
    return ((await this.page.locator('.part.editor .tab.active .label-name').first().textContent({ timeout: 5_000 }).catch(() => '')) ?? '').trim();
  }

  /** The visible lines of the active text editor. */
  async editorText(): Promise<string> {
    const lines = await this.page.locator('.part.editor .editor-instance .view-lines').first().evaluate((el) =>
      [...el.querySelectorAll('.view-line')]
        .map((line) => ({ top: parseFloat(line.getAttribute('style')?.match(/top:\s*([\d.]+)px/)?.[1] ?? '0'), text: line.textContent ?? '' }))
        .sort((a, b) => a.top - b.top)
        .map((l) => l.text),
    );
    return plain(lines.join('\n'));
  }

  async waitEditorText(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = '';
    for (;;) {
      text = await this.editorText().catch(() => '');
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`the editor does not show ${pattern} within ${timeoutMs / 1000}s; it shows:\n${text.slice(0, 800)}`);
      await this.page.waitForTimeout(250);
    }
  }

  /**
   * The frame of a webview whose document has `selector` (webviews are an iframe in an iframe).
   * With several, the one in the active editor group wins by being visible.
   */
  async webviewFrame(selector: string, timeoutMs = 60_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const frame of this.page.frames()) {
        if (frame === this.page.mainFrame()) continue;
        const found = await frame.$(selector).catch(() => null);
        if (found && (await found.isVisible().catch(() => false))) return frame;
      }
      if (Date.now() > deadline) throw new Error(`no webview showing ${selector} within ${timeoutMs / 1000}s`);
      await this.page.waitForTimeout(250);
    }
  }

  /** Text of the notifications currently shown (errors from the extension land there). */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-list-item-message').allTextContents().catch(() => []);
  }
}

/** Polls `probe` on the page until it returns a value that is not undefined. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? ` (${(lastError as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
