// A fake Docker engine on a real unix socket: serves fixed JSON for the read endpoints, so the
// real client (dockerode, HTTP, JSON parsing) is exercised without dockerd. For benchmarks and
// for unit tests of timeouts and error translation.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
export type FakeEngineRoutes = Record<string, RouteHandler | Record<string, unknown> | Record<string, unknown>[]>;

export interface FakeEngine {
  socketPath: string;
  requests: string[];
  close(): Promise<void>;
}

/** Starts a fake engine on a new socket, or on the given path (to play an engine that comes back). */
export async function startFakeEngine(routes: FakeEngineRoutes, at?: string): Promise<FakeEngine> {
  const dir = at ? path.dirname(at) : fs.mkdtempSync(path.join(os.tmpdir(), 'fake-engine-'));
  fs.mkdirSync(dir, { recursive: true });
  const socketPath = at ?? path.join(dir, 'docker.sock');
  const requests: string[] = [];
  // Serialise once: the fake should cost as little as possible next to the client being measured.
  const bodies = new Map<string, Buffer>();
  for (const [route, value] of Object.entries(routes)) {
    if (typeof value !== 'function') bodies.set(route, Buffer.from(JSON.stringify(value)));
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://engine');
    const route = url.pathname.replace(/^\/v\d+\.\d+/, '');
    requests.push(`${req.method} ${route}${url.search}`);
    const handler = routes[route];
    if (typeof handler === 'function') return handler(req, res);
    const body = bodies.get(route);
    if (!body) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `page not found: ${route}` }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
