#!/usr/bin/env node
// Screenshot a VS Code web workbench (e.g. from scripts/serve-vscode.sh) with
// Debian's Chromium driven by playwright-core (no browser download needed).
//
//   node scripts/screenshot.mjs --url http://127.0.0.1:8080/ --out shot.png \
//        [--view swarmDoctor] [--wait-text TEXT]... [--expand LABEL]... \
//        [--wait-after TEXT]... [--timeout S] [--browser /usr/bin/chromium] [--settle MS]
//
//   --view V        open the activity-bar view container whose aria-label/title contains V
//                   (a container id such as "swarmDoctor" also matches its title "Swarm Doctor")
//   --wait-text T   wait until T is visible somewhere in the page (webview frames included;
//                   Playwright getByText: case-insensitive substring, so "swarm00" also matches
//                   a description such as "unix:///run/swarm-lab/swarm00/docker.sock");
//                   if one is missing: clear message, screenshot still saved, exit code 1
//   --expand L      click the tree row whose label equals L (expands it; a leaf row is
//                   clicked, which runs its command), in order, waiting after each
//   --wait-after T  like --wait-text, checked after the --expand steps
//   --timeout S     overall time budget in seconds (default 60)
//   --sidebar-width PX  drag the side bar's edge so it is PX wide (after --view)
// Also writes the page's console errors (and uncaught page errors) to <out without .png>.console.txt.
// Exit codes: 0 ok, 1 a wait/click failed (screenshot still written), 2 bad usage.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function usage(msg) {
  if (msg) console.error(`screenshot.mjs: ${msg}`);
  console.error('usage: node scripts/screenshot.mjs --url URL --out FILE.png [--view swarmDoctor] ' +
    '[--wait-text TEXT]... [--expand LABEL]... [--wait-after TEXT]... [--timeout S] [--sidebar-width PX]');
  process.exit(2);
}

const opts = { url: '', out: '', view: '', waitText: [], expand: [], waitAfter: [], timeout: 60,
  browser: process.env.CHROMIUM_PATH || '/usr/bin/chromium', settle: 800, sidebarWidth: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  let a = argv[i], v;
  const eq = a.indexOf('=');
  if (a.startsWith('--') && eq > 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
  const val = () => {
    if (v !== undefined) return v;
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    return argv[++i];
  };
  switch (a) {
    case '--url': opts.url = val(); break;
    case '--out': opts.out = val(); break;
    case '--view': opts.view = val(); break;
    case '--wait-text': opts.waitText.push(val()); break;
    case '--expand': opts.expand.push(val()); break;
    case '--wait-after': opts.waitAfter.push(val()); break;
    case '--timeout': opts.timeout = Number(val()); break;
    case '--browser': opts.browser = val(); break;
    case '--settle': opts.settle = Number(val()); break;
    case '--sidebar-width': opts.sidebarWidth = Number(val()); break;
    case '-h': case '--help': usage();
    default: usage(`unknown argument ${a}`);
  }
}
if (!opts.url || !opts.out) usage('--url and --out are required');
if (!(opts.timeout > 0)) usage('--timeout must be a positive number of seconds');

const t0 = Date.now();
const deadline = t0 + opts.timeout * 1000;
const remaining = () => Math.max(1000, deadline - Date.now());
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const log = (m) => console.error(`[screenshot ${elapsed()}] ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const outPng = path.resolve(opts.out);
const consoleFile = outPng.replace(/\.png$/i, '') + '.console.txt';
fs.mkdirSync(path.dirname(outPng), { recursive: true });

const consoleLines = [];
const failures = [];
const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-doctor-chromium-'));
let context;

// "swarmDoctor" -> "swarm Doctor"; matching is case-insensitive.
const viewNeedles = (v) => [...new Set([v, v.replace(/([a-z0-9])([A-Z])/g, '$1 $2')].map((s) => s.toLowerCase()))];

// Visible text anywhere: main page and every frame (webviews live in nested iframes).
async function textVisible(page, text) {
  for (const frame of page.frames()) {
    try {
      if (await frame.getByText(text).first().isVisible()) return true;
    } catch { /* frame detached or navigating */ }
  }
  return false;
}
async function waitForText(page, text) {
  const until = deadline;
  while (Date.now() < until) {
    if (await textVisible(page, text)) return true;
    await sleep(250);
  }
  return textVisible(page, text);
}

// Tree rows (custom views, explorer ...) whose label is exactly `label`.
function rowLocator(page, label) {
  const esc = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.locator('.monaco-list-row').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${esc}\\s*$`) }),
  });
}
async function sidebarIdle(page) {
  // wait (briefly) until no progress bar is running in the side bar, then settle
  const until = Math.min(deadline, Date.now() + 15000);
  while (Date.now() < until) {
    const busy = await page.locator('.part.sidebar .monaco-progress-container.active:visible').count().catch(() => 0);
    if (!busy) break;
    await sleep(200);
  }
  await sleep(opts.settle);
}

async function openView(page, view) {
  const needles = viewNeedles(view);
  const found = await page.waitForFunction((needles) => {
    const items = [...document.querySelectorAll('.monaco-workbench .action-item')]
      .filter((el) => el.closest('.part.activitybar, .composite-bar'));
    for (const el of items) {
      const labels = [el, ...el.querySelectorAll('[aria-label],[title]')]
        .flatMap((n) => [n.getAttribute('aria-label'), n.getAttribute('title')])
        .filter(Boolean).map((s) => s.toLowerCase());
      if (labels.some((l) => needles.some((n) => l.includes(n)))) {
        el.setAttribute('data-screenshot-view', '1');
        return true;
      }
    }
    return false;
  }, needles, { timeout: remaining(), polling: 250 }).then(() => true, () => false);
  if (!found) {
    const labels = await page.$$eval('.part.activitybar .action-item',
      (els) => els.map((e) => e.getAttribute('aria-label') || e.textContent).filter(Boolean)).catch(() => []);
    throw new Error(`no activity bar item matching "${view}" (items: ${labels.join(' | ') || 'none'}). ` +
      'Is the extension loaded? (check the extensions-dir symlink and the server log)');
  }
  const item = page.locator('[data-screenshot-view="1"]').first();
  const active = await item.evaluate((el) => el.classList.contains('checked') || el.getAttribute('aria-selected') === 'true');
  const sidebarVisible = await page.locator('.part.sidebar').isVisible().catch(() => false);
  if (active && sidebarVisible) {
    log(`view "${view}" is already open`);
  } else {
    await item.click();
    log(`clicked activity bar item for "${view}"`);
  }
  // the side bar title shows the container title
  await page.waitForFunction((needles) => {
    const sb = document.querySelector('.part.sidebar');
    if (!sb || sb.offsetParent === null && getComputedStyle(sb).display === 'none') return false;
    const title = (sb.querySelector('.composite.title')?.textContent || '').toLowerCase();
    return needles.some((n) => title.includes(n));
  }, needles, { timeout: Math.min(remaining(), 15000), polling: 250 })
    .catch(() => log(`warning: side bar title does not show "${view}"`));
  await sidebarIdle(page);
}

async function setSidebarWidth(page, width) {
  const box = await page.locator('.part.sidebar').boundingBox().catch(() => null);
  if (!box) { log('warning: no side bar to resize'); return; }
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width - 1, y);   // the sash straddles the side bar's right edge
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 10 });
  await page.mouse.up();
  await sleep(300);
  const after = await page.locator('.part.sidebar').boundingBox().catch(() => null);
  log(`side bar width: ${Math.round(box.width)} -> ${after ? Math.round(after.width) : '?'} px`);
}

async function expandRow(page, label) {
  const row = rowLocator(page, label).first();
  try {
    await row.waitFor({ state: 'visible', timeout: remaining() });
  } catch {
    const rows = await page.$$eval('.part.sidebar .monaco-list-row .label-name',
      (els) => els.map((e) => e.textContent.trim())).catch(() => []);
    throw new Error(`--expand "${label}": no tree row with that label (visible rows: ${rows.join(' | ') || 'none'})`);
  }
  const expanded = await row.getAttribute('aria-expanded');
  if (expanded === 'true') {
    log(`row "${label}" is already expanded`);
  } else if (expanded === 'false') {
    const twistie = row.locator('.monaco-tl-twistie.collapsible');
    if (await twistie.count()) await twistie.first().click(); else await row.click();
    await page.waitForFunction((el) => el.getAttribute('aria-expanded') === 'true', await row.elementHandle(),
      { timeout: Math.min(remaining(), 15000), polling: 100 })
      .catch(() => { throw new Error(`--expand "${label}": row did not expand`); });
    log(`expanded "${label}"`);
  } else {
    await row.click();
    log(`clicked leaf row "${label}"`);
  }
  await sidebarIdle(page);
}

async function main() {
  if (!fs.existsSync(opts.browser)) throw new Error(`browser not found at ${opts.browser} (apt-get install chromium, or --browser PATH)`);
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: opts.browser,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-breakpad', '--disable-crash-reporter'],
    // keep Chromium's "Crash Reports" folder out of ~/.config/chromium
    env: { ...process.env, XDG_CONFIG_HOME: path.join(profileDir, 'xdg-config') },
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const loc = m.location();
    consoleLines.push(`[console.error] ${m.text()}${loc?.url ? `  (${loc.url}:${loc.lineNumber})` : ''}`);
  });
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.stack || e.message}`));
  page.on('crash', () => consoleLines.push('[crash] page crashed'));

  let pageReady = false;
  try {
    log(`opening ${opts.url}`);
    await page.goto(opts.url, { waitUntil: 'domcontentloaded', timeout: remaining() });
    await page.waitForSelector('.monaco-workbench', { timeout: remaining() });
    pageReady = true;
    log('workbench present');
    // let the workbench lay out and the extension host start
    await page.waitForSelector('.part.activitybar .action-item', { timeout: Math.min(remaining(), 20000) }).catch(() => {});
    await sleep(opts.settle);

    if (opts.view) await openView(page, opts.view);
    if (opts.sidebarWidth > 0) await setSidebarWidth(page, opts.sidebarWidth);

    const waitAll = async (texts, what) => {
      for (const t of texts) {
        if (await waitForText(page, t)) log(`${what} "${t}": visible`);
        else failures.push(`${what} "${t}": not visible within --timeout ${opts.timeout}s`);
      }
    };
    await waitAll(opts.waitText, '--wait-text');
    for (const label of opts.expand) {
      try { await expandRow(page, label); } catch (e) { failures.push(e.message); }
    }
    await waitAll(opts.waitAfter, '--wait-after');
    // park the mouse over the editor area so no hover tooltip is captured
    await page.mouse.move(1100, 900).catch(() => {});
    await sleep(500);
  } catch (e) {
    failures.push(pageReady ? e.message : `workbench did not load from ${opts.url}: ${e.message.split('\n')[0]}`);
  } finally {
    try {
      await page.screenshot({ path: outPng, timeout: 15000 });
      log(`screenshot saved: ${outPng}`);
    } catch (e) {
      failures.push(`could not save screenshot: ${e.message}`);
    }
  }
}

let code = 0;
try {
  await main();
} catch (e) {
  failures.push(e.message);
}
try { await context?.close(); } catch { /* ignore */ }
fs.rmSync(profileDir, { recursive: true, force: true });
fs.writeFileSync(consoleFile, consoleLines.length ? consoleLines.join('\n') + '\n' : '');
log(`console errors: ${consoleLines.length} (in ${consoleFile})`);
if (failures.length) {
  for (const f of failures) console.error(`screenshot.mjs: FAILED: ${f}`);
  code = 1;
} else {
  log('all checks passed');
}
process.exit(code);
