// The UI journeys, run in this order in one workbench (each one also works on its own: it opens
// what it needs). To add one: a file here exporting a Journey, and an entry below.
import { explorer } from './01-explorer';
import { expandTask } from './02-expand-task';
import { iptables } from './03-iptables';
import { capture } from './04-capture';
import { openPcap } from './05-open-pcap';
import type { Journey } from './journey';

/**
 * Journey 6 belongs to the matrix issue: "run the matrix with the incident injected and see the
 * failing cell first". Whoever builds the matrix replaces this entry with a real journey in
 * 06-matrix.ts (inject the incident with the lab, run the matrix from the UI, assert that the
 * first cell shown is the failing one, clear the incident in a finally).
 */
const matrix: Journey = {
  id: '06-matrix',
  title: 'run the matrix with the incident injected and see the failing cell first',
  todo: 'added with the matrix (not built yet)',
  run: async () => undefined,
};

export const JOURNEYS: Journey[] = [explorer, expandTask, iptables, capture, openPcap, matrix];
