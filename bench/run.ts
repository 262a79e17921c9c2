// npm run bench: every benchmark, each printing its figures and ratios against a peer run.
import { captureBench } from './captureBench';
import { transportBench } from './transportBench';
import { treeBench } from './treeBench';

async function main(): Promise<void> {
  const results: [string, boolean][] = [];
  results.push(['tree', await treeBench()]);
  results.push(['transports', await transportBench()]);
  results.push(['capture', await captureBench()]);
  const missed = results.filter(([, ok]) => !ok).map(([name]) => name);
  console.log(missed.length ? `targets missed: ${missed.join(', ')}` : 'all targets met');
  process.exitCode = missed.length ? 1 : 0;
}

void main();
