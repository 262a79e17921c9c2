// The UI journeys, run in this order in one workbench (each one also works on its own: it opens
// what it needs). To add one: a file here exporting a Journey, and an entry below.
import { explorer } from './01-explorer';
import { expandTask } from './02-expand-task';
import { iptables } from './03-iptables';
import { capture } from './04-capture';
import { openPcap } from './05-open-pcap';
import { matrix } from './06-matrix';
import { exportPcap } from './07-export';
import { checks } from './08-checks';
import type { Journey } from './journey';

export const JOURNEYS: Journey[] = [explorer, expandTask, iptables, capture, openPcap, matrix, exportPcap, checks];
