// What a UI journey is: a named walk through the workbench that asserts on what the page shows.
// The runner (test/e2e/harness/main.ts) saves a screenshot of the page when it ends, passed or failed.
import type { Page } from 'playwright-core';
import type { Workbench } from '../harness/workbench';

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
