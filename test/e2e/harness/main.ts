// The e2e harness (npm run test:e2e, after scripts/e2e.sh has built the .vsix and made sure the
// lab is up and code-server installed). Two phases, each in its own fresh code-server with the
// packaged extension installed from dist/swarm-network-doctor.vsix, driven by Debian's Chromium:
//  1. the extension-host suite (test/e2e/suite, mocha) run by the e2e test-runner extension
//     installed beside the real one; it writes its results to a file read here;
//  2. the UI journeys (test/e2e/journeys), each asserting on what the page shows; a screenshot of
//     each, and on failure also VS Code's logs, the browser console and the lab's status.
// Everything goes to one run folder, printed at the start and at the end.
//
//   node out/test/e2e/harness/main.js [--only ID[,ID...]] [--no-suite] [--no-journeys] [--no-lab]
// --no-lab: no lab settings and no lab status (lab/lab.sh is not run), for journeys that need no
// swarm: those that only open the workspace's incident.pcap (05-open-pcap).
// Environment: CODE_SERVER_ENTRY (entry.js; else scripts/code-server.sh is asked), E2E_OUT (run
// folder), E2E_PORT (first port to try, default 8091), E2E_RETRIES (extra attempts of a failed
// journey, default 1), CHROMIUM_PATH.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { JOURNEYS } from '../journeys';
import type { Journey } from '../journeys/journey';
import type { SuiteResults } from '../suite';
import { CodeServer, freePort } from './codeServer';
import { labSettings, labStatus } from './lab';
import { launchBrowser, Workbench } from './workbench';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const VSIX = path.join(REPO_ROOT, 'dist', 'swarm-network-doctor.vsix');
const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s`;
const say = (message: string) => console.log(`[e2e ${clock()}] ${message}`);

interface JourneyResult {
  id: string;
  title: string;
  state: 'passed' | 'failed' | 'todo' | 'skipped';
  attempts: number;
  durationMs: number;
  screenshot?: string;
  error?: string;
  failures: { attempt: number; error: string; screenshot: string; artifacts: string }[];
}

function parseArgs(argv: string[]) {
  const options = { only: [] as string[], suite: true, journeys: true, lab: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') options.only.push(...(argv[++i] ?? '').split(',').filter(Boolean));
    else if (a.startsWith('--only=')) options.only.push(...a.slice(7).split(',').filter(Boolean));
    else if (a === '--no-suite') options.suite = false;
    else if (a === '--no-journeys') options.journeys = false;
    else if (a === '--no-lab') options.lab = false;
    else throw new Error(`unknown argument ${a} (use --only ID[,ID], --no-suite, --no-journeys, --no-lab)`);
  }
  return options;
}

function codeServerEntry(): string {
  if (process.env.CODE_SERVER_ENTRY) return process.env.CODE_SERVER_ENTRY;
  const out = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

function runFolder(): string {
  if (process.env.E2E_OUT) return path.resolve(process.env.E2E_OUT);
  const root = path.join(REPO_ROOT, 'out', 'e2e');
  fs.mkdirSync(root, { recursive: true });
  // Keep the last few runs only (each holds a VS Code user-data folder).
  const old = fs.readdirSync(root).filter((d) => d.startsWith('run-')).sort();
  for (const dir of old.slice(0, Math.max(0, old.length - 4))) fs.rmSync(path.join(root, dir), { recursive: true, force: true });
  return path.join(root, `run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
}

// ---- clean-up of what this run starts, also on Ctrl-C and on a crash ---------------------------

const servers = new Set<CodeServer>();
const browsers = new Set<Browser>();
async function cleanUp(): Promise<void> {
  for (const browser of browsers) await browser.close().catch(() => undefined);
  browsers.clear();
  for (const server of servers) await server.stop().catch(() => undefined);
  servers.clear();
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping code-server and Chromium`);
    void cleanUp().finally(() => process.exit(130));
  });
}
process.once('exit', () => {
  for (const server of servers) server.killNow();
});

async function newPage(browser: Browser, consoleLines: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`${new Date().toISOString()} ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleLines.push(`${new Date().toISOString()} pageerror: ${e.message}`));
  return page;
}

// ---- phase 1: the extension-host suite ---------------------------------------------------------

async function runSuite(entry: string, runDir: string, port: number, settings: Record<string, unknown>): Promise<SuiteResults> {
  const dir = path.join(runDir, 'suite');
  const workspace = path.join(dir, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  const resultsFile = path.join(dir, 'results.json');
  const server = new CodeServer({ entry, dir, port, workspace, settings });
  servers.add(server);
  const consoleLines: string[] = [];
  let browser: Browser | undefined;
  try {
    await server.installVsix(VSIX);
    server.addUnpacked(path.join(REPO_ROOT, 'test', 'e2e', 'runner-extension'), {
      'runner.json': JSON.stringify({ suite: path.join(REPO_ROOT, 'out', 'test', 'e2e', 'suite', 'index.js'), results: resultsFile }),
    });
    await server.start();
    say(`code-server for the suite at ${server.url}`);
    browser = await launchBrowser();
    browsers.add(browser);
    const page = await newPage(browser, consoleLines);
    // The extension host starts when a window connects: the suite runs once the page is open.
    await new Workbench(page).open(server.url);
    const deadline = Date.now() + 300_000;
    while (!fs.existsSync(resultsFile)) {
      if (Date.now() > deadline) throw new Error('the extension-host suite wrote no results within 300 s');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as SuiteResults;
    await page.screenshot({ path: path.join(runDir, 'screenshots', '00-extension-host-suite.png') }).catch(() => undefined);
    return results;
  } catch (error) {
    return { passed: 0, failed: 0, pending: 0, durationMs: 0, tests: [], error: (error as Error).stack ?? String(error) };
  } finally {
    await endSession(dir, consoleLines, browser, server);
  }
}

/** Ends a phase: keeps the browser console, closes Chromium and stops code-server. */
async function endSession(dir: string, consoleLines: string[], browser: Browser | undefined, server: CodeServer): Promise<void> {
  fs.writeFileSync(path.join(dir, 'browser-console.txt'), consoleLines.join('\n') + '\n');
  if (browser) {
    await browser.close().catch(() => undefined);
    browsers.delete(browser);
  }
  await server.stop();
  servers.delete(server);
}

// ---- phase 2: the UI journeys ------------------------------------------------------------------

/** Whether this run points the extension at the lab (not with --no-lab). */
let withLab = true;

function saveFailureArtifacts(dir: string, server: CodeServer, consoleLines: string[], error: Error, notes: string[]): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'error.txt'), `${error.stack ?? error.message}\n`);
  fs.writeFileSync(path.join(dir, 'notifications.txt'), notes.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'browser-console.txt'), consoleLines.join('\n') + '\n');
  // VS Code's logs as they are now: server, remote extension host (with the extensions' output
  // channels in exthost*/output_logging_*), pty host.
  if (fs.existsSync(server.logsDir)) fs.cpSync(server.logsDir, path.join(dir, 'vscode-logs'), { recursive: true });
  if (fs.existsSync(server.logFile)) fs.copyFileSync(server.logFile, path.join(dir, 'code-server.log'));
  fs.writeFileSync(path.join(dir, 'lab-status.txt'), withLab ? labStatus(REPO_ROOT) : 'not used (--no-lab)\n');
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000}s`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function runJourneys(entry: string, runDir: string, port: number, settings: Record<string, unknown>, selected: Journey[]): Promise<JourneyResult[]> {
  const dir = path.join(runDir, 'ui');
  const shots = path.join(runDir, 'screenshots');
  const workspace = path.join(runDir, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  for (const name of ['incident.pcap', 'incident.pcap.names.json']) fs.copyFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'viewer', name), path.join(workspace, name));
  // Wireshark's GUI cannot run on this headless machine: a stand-in, set as swarmDoctor.capture.
  // wiresharkPath, records how the extension calls it, so "Open in Wireshark" runs up to the hand-over.
  const bin = path.join(runDir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'wireshark'), `#!/bin/sh\nprintf '%s\\n' "$@" >> ${JSON.stringify(path.join(runDir, 'wireshark-calls.txt'))}\n`, { mode: 0o755 });
  const retries = Number(process.env.E2E_RETRIES ?? 1);
  const results: JourneyResult[] = [];
  const server = new CodeServer({ entry, dir, port, workspace, settings: { ...settings, 'swarmDoctor.capture.wiresharkPath': path.join(bin, 'wireshark') } });
  servers.add(server);
  const consoleLines: string[] = [];
  let browser: Browser | undefined;
  try {
    await server.installVsix(VSIX);
    await server.start();
    say(`code-server for the journeys at ${server.url}`);
    browser = await launchBrowser();
    browsers.add(browser);
    const page = await newPage(browser, consoleLines);
    const wb = new Workbench(page);
    await wb.open(server.url);
    for (const journey of selected) {
      const result: JourneyResult = { id: journey.id, title: journey.title, state: 'todo', attempts: 0, durationMs: 0, failures: [] };
      results.push(result);
      if (journey.todo) {
        say(`- ${journey.id}: ${journey.title}: TODO, ${journey.todo}`);
        continue;
      }
      const started = Date.now();
      for (let attempt = 1; attempt <= 1 + retries; attempt++) {
        result.attempts = attempt;
        say(`> ${journey.id}: ${journey.title}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
        try {
          await withTimeout(
            journey.run({ wb, page, repoRoot: REPO_ROOT, workspace, runDir, log: (m) => say(`    ${m}`) }),
            journey.timeoutMs ?? 120_000,
            journey.id,
          );
          result.screenshot = path.join(shots, `${journey.id}.png`);
          await page.screenshot({ path: result.screenshot });
          result.state = 'passed';
          break;
        } catch (error) {
          const err = error as Error;
          const base = `${journey.id}.FAILED${attempt > 1 ? `-attempt${attempt}` : ''}`;
          const screenshot = path.join(shots, `${base}.png`);
          await page.screenshot({ path: screenshot }).catch((e) => say(`    (no screenshot: ${(e as Error).message})`));
          const artifacts = path.join(runDir, 'failures', base);
          saveFailureArtifacts(artifacts, server, consoleLines, err, await wb.notifications());
          result.failures.push({ attempt, error: err.message, screenshot, artifacts });
          result.state = 'failed';
          result.error = err.message;
          say(`    FAILED: ${err.message.split('\n')[0]}`);
          say(`    screenshot ${path.relative(REPO_ROOT, screenshot)}, logs ${path.relative(REPO_ROOT, artifacts)}`);
          // A clean page for what follows: close menus and pickers, reload the workbench.
          for (let i = 0; i < 3; i++) await page.keyboard.press('Escape').catch(() => undefined);
          await wb.open(server.url).catch((e) => say(`    reload failed: ${(e as Error).message}`));
          await wb.closeAllEditors().catch(() => undefined);
        }
      }
      result.durationMs = Date.now() - started;
      say(`${result.state === 'passed' ? '  passed' : '  FAILED'} ${journey.id} in ${(result.durationMs / 1000).toFixed(1)} s${result.state === 'passed' && result.attempts > 1 ? ` (flaky: passed on attempt ${result.attempts})` : ''}`);
    }
  } catch (error) {
    const err = error as Error;
    say(`journeys could not run: ${err.message}`);
    results.push({ id: 'setup', title: 'start code-server and the workbench', state: 'failed', attempts: 1, durationMs: 0, error: err.message, failures: [] });
    const artifacts = path.join(runDir, 'failures', 'setup');
    saveFailureArtifacts(artifacts, server, consoleLines, err, []);
  } finally {
    await endSession(dir, consoleLines, browser, server);
  }
  return results;
}

// ---- the run -------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const runDir = runFolder();
  fs.mkdirSync(path.join(runDir, 'screenshots'), { recursive: true });
  say(`run folder: ${runDir}`);
  if (!fs.existsSync(VSIX)) throw new Error(`${VSIX} is missing: run \`npm run package\` first`);
  const entry = codeServerEntry();
  withLab = options.lab;
  const settings = withLab ? labSettings(REPO_ROOT) : {};
  const port = await freePort(Number(process.env.E2E_PORT ?? 8091));

  let suite: SuiteResults | undefined;
  if (options.suite && !options.only.length) {
    say('phase 1: extension-host suite (mocha inside code-server, packaged extension + test-runner extension)');
    suite = await runSuite(entry, runDir, port, settings);
    for (const test of suite.tests) {
      say(`  ${test.state === 'passed' ? '✓' : test.state === 'failed' ? '✗' : '-'} ${test.fullTitle} (${test.durationMs} ms)`);
      if (test.error) console.log(test.error.replace(/^/gm, '        '));
    }
    if (suite.error) say(`  the suite did not run: ${suite.error}`);
    if (suite.error || suite.failed) say(`  VS Code's logs of the suite run: ${path.join(runDir, 'suite', 'user-data', 'logs')}`);
    say(`  suite: ${suite.passed} passed, ${suite.failed} failed${suite.pending ? `, ${suite.pending} pending` : ''} in ${(suite.durationMs / 1000).toFixed(1)} s`);
  }

  let journeys: JourneyResult[] = [];
  if (options.journeys) {
    const selected = options.only.length ? JOURNEYS.filter((j) => options.only.some((o) => j.id === o || j.id.startsWith(`${o}-`) || j.id.startsWith(o))) : JOURNEYS;
    if (!selected.length) throw new Error(`no journey matches ${options.only.join(', ')}; there are: ${JOURNEYS.map((j) => j.id).join(', ')}`);
    say(`phase 2: UI journeys (${selected.length})`);
    journeys = await runJourneys(entry, runDir, port, settings, selected);
  }

  fs.writeFileSync(path.join(runDir, 'results.json'), JSON.stringify({ suite, journeys }, null, 2));
  console.log('');
  console.log('==== e2e summary');
  if (suite) console.log(`extension-host suite: ${suite.passed} passed, ${suite.failed} failed${suite.error ? ' (did not run)' : ''}`);
  for (const j of journeys) {
    const mark = { passed: 'PASS', failed: 'FAIL', todo: 'TODO', skipped: 'SKIP' }[j.state];
    const extra = j.state === 'failed' ? ` — ${j.error?.split('\n')[0]}` : j.state === 'passed' && j.attempts > 1 ? ' (flaky: passed on a retry)' : '';
    console.log(`${mark}  ${j.id}  ${j.title}${j.state === 'todo' ? '' : ` (${(j.durationMs / 1000).toFixed(1)} s)`}${extra}`);
  }
  const failed = (suite ? suite.failed + (suite.error || suite.passed === 0 ? 1 : 0) : 0) + journeys.filter((j) => j.state === 'failed').length;
  console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`screenshots: ${path.join(runDir, 'screenshots')}`);
  if (journeys.some((j) => j.failures.length)) console.log(`failure logs: ${path.join(runDir, 'failures')}`);
  console.log(failed ? `e2e FAILED (${failed})` : 'e2e passed');
  return failed ? 1 : 0;
}

main()
  .then(async (code) => {
    await cleanUp();
    process.exit(code);
  })
  .catch(async (error) => {
    console.error(`[e2e] ${(error as Error).stack ?? error}`);
    await cleanUp();
    process.exit(1);
  });
