// The store against a fake engine that goes away and comes back: failed state, then recovery.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectEngine } from '../../src/engine/dockerodeEngine';
import { parseDockerHost } from '../../src/engine/endpoint';
import { SwarmStore, type StoreState } from '../../src/explorer/swarmStore';
import { startFakeEngine } from '../support/fakeEngine';
import { syntheticSwarm } from '../support/syntheticSwarm';

function routes(raw: ReturnType<typeof syntheticSwarm>) {
  return { '/info': raw.info, '/version': raw.version, '/nodes': raw.nodes, '/services': raw.services, '/tasks': raw.tasks, '/networks': raw.networks };
}

function waitFor(store: SwarmStore, predicate: (s: StoreState) => boolean, ms = 5000): Promise<StoreState> {
  return new Promise((resolve, reject) => {
    if (predicate(store.state)) return resolve(store.state);
    const timer = setTimeout(() => reject(new Error(`state stayed ${store.state.kind}`)), ms);
    const sub = store.onDidChange((s) => {
      if (predicate(s)) {
        clearTimeout(timer);
        sub.dispose();
        resolve(s);
      }
    });
  });
}

describe('swarm store', () => {
  it('refreshes, reports a vanished engine, and recovers when it is back', async () => {
    let engine = await startFakeEngine(routes(syntheticSwarm({ nodes: 3, services: 2, tasks: 4 })));
    const socketPath = engine.socketPath;
    const store = new SwarmStore({ connect: () => connectEngine(parseDockerHost(`unix://${socketPath}`, 'test'), { timeoutMs: 1000 }), pollMs: 200, debounceMs: 10, retryMs: 50 });
    try {
      store.setVisible(true);
      const ready = await waitFor(store, (s) => s.kind === 'ready');
      assert.equal(ready.kind === 'ready' && ready.snapshot.nodes.length, 3);

      await engine.close();
      const failed = await waitFor(store, (s) => s.kind === 'failed');
      assert.equal(failed.kind === 'failed' && failed.error.kind, 'unreachable');

      // The same socket path comes back with a bigger swarm.
      engine = await startFakeEngine(routes(syntheticSwarm({ nodes: 4, services: 2, tasks: 4 })), socketPath);
      const back = await waitFor(store, (s) => s.kind === 'ready' && s.snapshot.nodes.length === 4);
      assert.equal(back.kind, 'ready');
    } finally {
      store.dispose();
      await engine.close();
    }
  });

  it('does not poll while hidden', async () => {
    const engine = await startFakeEngine(routes(syntheticSwarm({ nodes: 1, services: 1, tasks: 1 })));
    const store = new SwarmStore({ connect: () => connectEngine(parseDockerHost(`unix://${engine.socketPath}`, 'test')), pollMs: 50 });
    try {
      store.setVisible(true);
      await waitFor(store, (s) => s.kind === 'ready');
      store.setVisible(false);
      await new Promise((r) => setTimeout(r, 100));
      const count = engine.requests.filter((r) => r.startsWith('GET /nodes')).length;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(engine.requests.filter((r) => r.startsWith('GET /nodes')).length, count, 'no requests while hidden');
    } finally {
      store.dispose();
      await engine.close();
    }
  });
});

