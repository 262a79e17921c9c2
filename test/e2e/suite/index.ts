/// <reference types="mocha" />
// Entry of the extension-host suite (mocha, inside VS Code). Two ways in:
//  - run(): what @vscode/test-electron calls (`--extensionTestsPath`); rejects when a test fails.
//  - runToFile(file): what the e2e test-runner extension calls inside code-server; writes the
//    results as JSON for the harness (test/e2e/harness) to read, and never rejects.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export interface SuiteTestResult {
  title: string;
  fullTitle: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs: number;
  error?: string;
}

export interface SuiteResults {
  passed: number;
  failed: number;
  pending: number;
  durationMs: number;
  tests: SuiteTestResult[];
  /** Set when the suite could not run at all. */
  error?: string;
}

function suiteFiles(): string[] {
  return fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => path.join(__dirname, f));
}

function runMocha(): Promise<SuiteResults> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 90_000, reporter: 'spec' });
  for (const file of suiteFiles()) mocha.addFile(file);
  const started = Date.now();
  const tests: SuiteTestResult[] = [];
  return new Promise((resolve) => {
    const runner = mocha.run(() => {
      resolve({
        passed: tests.filter((t) => t.state === 'passed').length,
        failed: tests.filter((t) => t.state === 'failed').length,
        pending: tests.filter((t) => t.state === 'pending').length,
        durationMs: Date.now() - started,
        tests,
      });
    });
    runner.on('pass', (test) => tests.push({ title: test.title, fullTitle: test.fullTitle(), state: 'passed', durationMs: test.duration ?? 0 }));
    runner.on('pending', (test) => tests.push({ title: test.title, fullTitle: test.fullTitle(), state: 'pending', durationMs: 0 }));
    runner.on('fail', (test, error: Error) =>
      tests.push({ title: test.title, fullTitle: test.fullTitle(), state: 'failed', durationMs: test.duration ?? 0, error: error?.stack ?? String(error) }),
    );
  });
}

/** @vscode/test-electron's entry point. */
export async function run(): Promise<void> {
  const results = await runMocha();
  const file = process.env.SWARM_DOCTOR_E2E_RESULTS;
  if (file) fs.writeFileSync(file, JSON.stringify(results, null, 2));
  if (results.failed > 0 || results.passed === 0) throw new Error(`${results.failed} of ${results.tests.length} extension-host tests failed`);
}

/** The code-server harness's entry point (through the test-runner extension). */
export async function runToFile(file: string): Promise<SuiteResults> {
  let results: SuiteResults;
  try {
    results = await runMocha();
  } catch (error) {
    results = { passed: 0, failed: 0, pending: 0, durationMs: 0, tests: [], error: (error as Error).stack ?? String(error) };
  }
  // Written to a temporary name first, so the harness never reads half a file.
  fs.writeFileSync(`${file}.part`, JSON.stringify(results, null, 2));
  fs.renameSync(`${file}.part`, file);
  return results;
}
