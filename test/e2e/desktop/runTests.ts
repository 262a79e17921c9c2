// The extension-host suite in desktop VS Code, through @vscode/test-electron (which downloads a
// VS Code build from Microsoft at run time: needs internet, and a display — on a Linux server run
// it under xvfb-run). Loads the extension unpacked (`npm run build` first), points it at the lab
// swarm (`npm run lab -- up`) with a fresh user-data folder, and runs test/e2e/suite.
//
//   npm run test:e2e:desktop              # VS Code 1.100.3 (what the code-server harness runs)
//   VSCODE_VERSION=stable npm run test:e2e:desktop
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { labSettings } from '../harness/lab';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

async function main(): Promise<void> {
  const settings = labSettings(REPO_ROOT);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-doctor-e2e-desktop-'));
  const userData = path.join(scratch, 'user-data');
  const workspace = path.join(scratch, 'workspace');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({ ...settings, 'security.workspace.trust.enabled': false, 'telemetry.telemetryLevel': 'off', 'update.mode': 'none' }, null, 2),
  );
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `npm run build` first');
  const results = path.join(scratch, 'results.json');
  try {
    await runTests({
      version: process.env.VSCODE_VERSION ?? '1.100.3',
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: path.join(__dirname, '..', 'suite', 'index.js'),
      extensionTestsEnv: { SWARM_DOCTOR_E2E_RESULTS: results },
      launchArgs: [workspace, '--user-data-dir', userData, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
    console.log(`extension-host suite passed (results: ${results})`);
  } finally {
    if (!process.env.KEEP_E2E_SCRATCH) fs.rmSync(path.join(scratch, 'user-data'), { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`extension-host suite failed: ${(error as Error).message}`);
  process.exit(1);
});
