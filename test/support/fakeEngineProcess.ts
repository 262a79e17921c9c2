// Runs a fake engine serving a synthetic swarm in its own process (so a benchmark measures the
// client, not the server sharing its event loop). Prints the socket path on stdout when ready.
import { startFakeEngine } from './fakeEngine';
import { syntheticSwarm } from './syntheticSwarm';

async function run(): Promise<void> {
  const [nodes, services, tasks] = process.argv.slice(2).map(Number);
  const raw = syntheticSwarm({ nodes, services, tasks });
  const engine = await startFakeEngine({ '/info': raw.info, '/version': raw.version, '/nodes': raw.nodes, '/services': raw.services, '/tasks': raw.tasks, '/networks': raw.networks, '/_ping': (_q, r) => r.end('OK') });
  process.stdout.write(engine.socketPath + '\n');
  const stop = () => void engine.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
}

void run();
