// The real client (dockerode over a unix socket) against a fake engine: error sentences,
// timeouts, cancellation, the worker/not-a-swarm cases and the event stream.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectEngine } from '../../src/engine/dockerodeEngine';
import { parseDockerHost } from '../../src/engine/endpoint';
import { EngineError } from '../../src/engine/errors';
import type { EngineEvent } from '../../src/engine/types';
import { fetchSwarm } from '../../src/swarm/fetchSnapshot';
import { startFakeEngine, type FakeEngine } from '../support/fakeEngine';
import { syntheticSwarm } from '../support/syntheticSwarm';

const raw = syntheticSwarm({ nodes: 3, services: 4, tasks: 8 });
const unix = (socketPath: string) => parseDockerHost(`unix://${socketPath}`, 'test');

describe('dockerode engine client', () => {
  let engine: FakeEngine;
  let hanging: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({
      '/info': raw.info,
      '/version': raw.version,
      '/nodes': raw.nodes,
      '/services': raw.services,
      '/tasks': raw.tasks,
      '/networks': raw.networks,
      '/events': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(JSON.stringify({ Type: 'service', Action: 'update', Actor: { ID: 's1', Attributes: { name: 'web' } }, scope: 'swarm', time: 1 }) + '\n');
        res.write('not json\n');
        res.end(JSON.stringify({ Type: 'node', Action: 'update', Actor: { ID: 'n1', Attributes: {} }, time: 2 }) + '\n');
      },
    });
    hanging = await startFakeEngine({ '/info': () => undefined, '/version': () => undefined, '/_ping': () => undefined });
  });
  after(async () => {
    await engine.close();
    await hanging.close();
  });

  it('fetches the swarm through the real client', async () => {
    const client = connectEngine(unix(engine.socketPath));
    const { summary, snapshot } = await fetchSwarm(client);
    assert.equal(summary.swarm.controlAvailable, true);
    assert.equal(snapshot.nodes.length, 3);
    assert.equal(snapshot.services.length, 4);
    assert.equal(snapshot.tasks.length, 8);
    client.dispose();
  });

  it('encodes a hostile id instead of letting it change the request path', async () => {
    const client = connectEngine(unix(engine.socketPath));
    await assert.rejects(client.inspectRaw('node', '../containers/x?all=1'), (e: EngineError) => e.kind === 'notFound');
    assert.ok(engine.requests.includes('GET /nodes/..%2Fcontainers%2Fx%3Fall%3D1'), engine.requests.join('\n'));
    client.dispose();
  });

  it('times out with a sentence naming the engine and the wait', async () => {
    const client = connectEngine(unix(hanging.socketPath), { timeoutMs: 300 });
    const started = Date.now();
    await assert.rejects(client.ping(), (e: EngineError) => e.kind === 'timeout' && e.message === `The Docker engine at unix://${hanging.socketPath} did not answer a ping within 0.3 s.`);
    assert.ok(Date.now() - started < 5000);
    client.dispose();
  });

  it('cancels on request', async () => {
    const client = connectEngine(unix(hanging.socketPath), { timeoutMs: 10_000 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    await assert.rejects(client.summary({ signal: abort.signal }), (e: EngineError) => e.kind === 'cancelled');
    client.dispose();
  });

  it('says so when nothing listens on the socket', async () => {
    const missing = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nosock-')), 'docker.sock');
    const client = connectEngine(unix(missing));
    await assert.rejects(client.ping(), (e: EngineError) => e.kind === 'unreachable' && e.message === `Cannot reach the Docker engine at unix://${missing}: the socket does not exist.` && /dockerd running/.test(e.hint!));
    client.dispose();
  });

  it('says so when the engine is a worker or not in a swarm', async () => {
    const worker = await startFakeEngine({ '/info': { ...raw.info, Name: 'w1', Swarm: { LocalNodeState: 'active', ControlAvailable: false } }, '/version': raw.version });
    const lone = await startFakeEngine({ '/info': { ...raw.info, Name: 'laptop', Swarm: { LocalNodeState: 'inactive' } }, '/version': raw.version });
    try {
      await assert.rejects(fetchSwarm(connectEngine(unix(worker.socketPath))), (e: EngineError) => e.kind === 'notManager' && /\(w1\) is a swarm worker, not a manager/.test(e.message));
      await assert.rejects(fetchSwarm(connectEngine(unix(lone.socketPath))), (e: EngineError) => e.kind === 'notSwarm' && /not part of an active swarm/.test(e.message) && /docker swarm init/.test(e.hint!));
    } finally {
      await worker.close();
      await lone.close();
    }
  });

  it('translates an HTTP 503 from a worker engine', async () => {
    const worker = await startFakeEngine({
      '/nodes': (_req, res) => {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'This node is not a swarm manager. Worker nodes can\'t be used to view or modify cluster state.' }));
      },
    });
    try {
      await assert.rejects(connectEngine(unix(worker.socketPath)).listNodes(), (e: EngineError) => e.kind === 'notManager' && e.statusCode === 503);
    } finally {
      await worker.close();
    }
  });

  it('streams events and skips malformed lines', async () => {
    const client = connectEngine(unix(engine.socketPath));
    const events: EngineEvent[] = [];
    await client.streamEvents((e) => events.push(e), { signal: new AbortController().signal });
    assert.deepEqual(events.map((e) => `${e.type}:${e.action}:${e.actorId}`), ['service:update:s1', 'node:update:n1']);
    assert.equal(events[0].actorName, 'web');
    assert.ok(engine.requests.some((r) => r.startsWith('GET /events?filters=')));
    client.dispose();
  });
});
