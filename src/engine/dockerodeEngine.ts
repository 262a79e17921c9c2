// The one file that imports dockerode. Every call goes through request(), which adds the
// timeout and cancellation and turns failures into EngineErrors a user can act on.
import Docker from 'dockerode';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { describeEndpoint, type EngineEndpoint } from './endpoint';
import { EngineError } from './errors';
import { eventFromApi, networkFromApi, nodeFromApi, serviceFromApi, summaryFromApi, taskFromApi } from './records';
import type { CallOptions, EngineClient, EngineEvent, InspectKind } from './types';

export const DEFAULT_TIMEOUT_MS = 15_000;

const INSPECT_PATHS: Record<InspectKind, string> = {
  node: '/nodes/',
  service: '/services/',
  task: '/tasks/',
  network: '/networks/',
  container: '/containers/',
};

function sshPrivateKey(): Buffer | undefined {
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    try {
      return fs.readFileSync(path.join(os.homedir(), '.ssh', name));
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function modemOptions(endpoint: EngineEndpoint): Docker.DockerOptions {
  // docker-modem merges in defaults read from DOCKER_HOST; name every key so ours win.
  const base: Docker.DockerOptions = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    timeout: undefined,
  };
  switch (endpoint.kind) {
    case 'unix':
    case 'npipe':
      return { ...base, socketPath: endpoint.socketPath };
    case 'tcp':
      if (!endpoint.tls) return { ...base, host: endpoint.host, port: endpoint.port, protocol: 'http' };
      return {
        ...base,
        host: endpoint.host,
        port: endpoint.port,
        protocol: 'https',
        ca: endpoint.tls.ca,
        cert: endpoint.tls.cert,
        key: endpoint.tls.key,
        agent: new https.Agent({
          ca: endpoint.tls.ca,
          cert: endpoint.tls.cert,
          key: endpoint.tls.key,
          rejectUnauthorized: endpoint.tls.verify,
          keepAlive: true,
        }),
      } as Docker.DockerOptions;
    case 'ssh':
      return {
        ...base,
        host: endpoint.host,
        port: endpoint.port,
        protocol: 'ssh',
        username: endpoint.username,
        sshOptions: { agent: process.env.SSH_AUTH_SOCK, privateKey: process.env.SSH_AUTH_SOCK ? undefined : sshPrivateKey() },
      } as Docker.DockerOptions;
  }
}

const NETWORK_CODES: Record<string, (url: string) => [EngineError['kind'], string, string]> = {
  ENOENT: (url) => ['unreachable', `Cannot reach the Docker engine at ${url}: the socket does not exist.`, 'Is dockerd running, and is this the right host or context?'],
  ECONNREFUSED: (url) => ['unreachable', `Cannot reach the Docker engine at ${url}: connection refused.`, 'Is dockerd running and listening there?'],
  EACCES: (url) => ['permission', `Permission denied on the Docker engine socket ${url}.`, 'Add your user to the docker group (then log in again), or use a context you may access.'],
  EPERM: (url) => ['permission', `Permission denied on the Docker engine socket ${url}.`, 'Add your user to the docker group (then log in again), or use a context you may access.'],
  ENOTFOUND: (url) => ['unreachable', `Cannot resolve the host name of the Docker engine ${url}.`, 'Check the host name in the setting or context.'],
  EAI_AGAIN: (url) => ['unreachable', `Cannot resolve the host name of the Docker engine ${url}.`, 'Check the host name and your DNS.'],
  EHOSTUNREACH: (url) => ['unreachable', `The Docker engine host ${url} is unreachable.`, 'Check the network path to it.'],
  ENETUNREACH: (url) => ['unreachable', `No network route to the Docker engine ${url}.`, 'Check the network path to it.'],
  ECONNRESET: (url) => ['unreachable', `The Docker engine at ${url} closed the connection.`, 'If it speaks TLS, enable TLS for it (DOCKER_TLS_VERIFY or a context with TLS).'],
  EPIPE: (url) => ['unreachable', `The connection to the Docker engine at ${url} broke.`, 'Is dockerd still running?'],
};

const seconds = (ms: number) => (ms < 10_000 ? String(Math.round(ms / 100) / 10) : String(Math.round(ms / 1000)));

/** Turns whatever dockerode, docker-modem, node:http or ssh2 threw into an EngineError. */
export function translateError(error: unknown, endpoint: EngineEndpoint, context: { timedOut: boolean; timeoutMs: number; what: string }): EngineError {
  if (error instanceof EngineError) return error;
  const url = describeEndpoint(endpoint);
  const err = error as NodeJS.ErrnoException & { statusCode?: number; json?: unknown; reason?: string; level?: string };
  if (context.timedOut) {
    return new EngineError('timeout', `The Docker engine at ${url} did not answer ${context.what} within ${seconds(context.timeoutMs)} s.`, 'Is the host up and the engine healthy?');
  }
  if (err?.name === 'AbortError' || err?.code === 'ABORT_ERR') {
    return new EngineError('cancelled', `Cancelled: ${context.what}.`);
  }
  if (typeof err?.statusCode === 'number') {
    const json = err.json as { message?: string } | string | undefined;
    const engineMessage = (typeof json === 'object' && json?.message) || (typeof json === 'string' ? json : '') || err.reason || err.message;
    if (err.statusCode === 503 && /not a swarm manager|worker/i.test(engineMessage)) {
      return new EngineError('notManager', `The engine at ${url} is a swarm worker, not a manager.`, 'Connect to a manager node: pick another context or host.', 503);
    }
    if (err.statusCode === 503 && /not part of a swarm|swarm init|swarm join/i.test(engineMessage)) {
      return new EngineError('notSwarm', `The engine at ${url} is not part of a swarm.`, 'Connect to a swarm manager, or create a swarm with `docker swarm init`.', 503);
    }
    if (err.statusCode === 404) {
      return new EngineError('notFound', `${context.what}: ${String(engineMessage).trim()}`, undefined, 404);
    }
    return new EngineError('engine', `The Docker engine at ${url} answered ${context.what} with HTTP ${err.statusCode}: ${String(engineMessage).trim()}`, undefined, err.statusCode);
  }
  const code = err?.code ?? '';
  const known = NETWORK_CODES[code];
  if (known) {
    const [kind, message, hint] = known(url);
    return new EngineError(kind, message, hint);
  }
  if (/CERT|TLS|SSL|EPROTO|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code) || /certificate|tls|ssl/i.test(err?.message ?? '')) {
    return new EngineError('tls', `The TLS handshake with the Docker engine at ${url} failed: ${err.message}.`, 'Check the CA, certificate and key of the context (or DOCKER_CERT_PATH).');
  }
  if (err?.level === 'client-authentication' || /authentication/i.test(err?.message ?? '')) {
    return new EngineError('permission', `SSH authentication to ${url} failed: ${err.message}.`, 'Load your key into ssh-agent (SSH_AUTH_SOCK) or check the user name.');
  }
  return new EngineError('engine', `Talking to the Docker engine at ${url} (${context.what}) failed: ${err?.message ?? String(error)}`);
}

interface DialRequest {
  path: string;
  query?: Record<string, unknown>;
  what: string;
  statusCodes?: Record<number, true | string>;
}

export class DockerodeEngine implements EngineClient {
  private readonly docker: Docker;
  private readonly timeoutMs: number;

  constructor(readonly endpoint: EngineEndpoint, options: { timeoutMs?: number } = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      this.docker = new Docker(modemOptions(endpoint));
    } catch (error) {
      throw new EngineError('config', `Cannot set up the connection to ${describeEndpoint(endpoint)}: ${(error as Error).message}`, 'Check DOCKER_CERT_PATH and the TLS files it names.');
    }
  }

  /** GET with timeout + cancellation; resolves to parsed JSON. */
  private async get<T>(request: DialRequest, options: CallOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    if (options.signal?.aborted) throw new EngineError('cancelled', `Cancelled: ${request.what}.`);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      return await new Promise<T>((resolve, reject) => {
        this.docker.modem.dial(
          {
            path: `${request.path}?`,
            method: 'GET',
            options: { ...(request.query ?? {}) },
            abortSignal: signal,
            statusCodes: request.statusCodes ?? { 200: true, 404: 'not found', 500: 'server error', 503: 'node is not part of a swarm' },
          },
          (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as T)),
        );
      });
    } catch (error) {
      throw translateError(error, this.endpoint, { timedOut: timeout.aborted && !options.signal?.aborted, timeoutMs, what: request.what });
    }
  }

  async ping(options?: CallOptions): Promise<void> {
    await this.get({ path: '/_ping', what: 'a ping' }, options);
  }

  async summary(options?: CallOptions) {
    const [info, version] = await Promise.all([
      this.get<Record<string, unknown>>({ path: '/info', what: 'the info request' }, options),
      this.get<Record<string, unknown>>({ path: '/version', what: 'the version request' }, options),
    ]);
    return summaryFromApi(info, version);
  }

  async listNodes(options?: CallOptions) {
    const raw = await this.get<Record<string, unknown>[]>({ path: '/nodes', what: 'the node list' }, options);
    return raw.map(nodeFromApi);
  }

  async listServices(options?: CallOptions) {
    const raw = await this.get<Record<string, unknown>[]>({ path: '/services', what: 'the service list' }, options);
    return raw.map(serviceFromApi);
  }

  async listTasks(options?: CallOptions) {
    const raw = await this.get<Record<string, unknown>[]>({ path: '/tasks', what: 'the task list' }, options);
    return raw.map(taskFromApi);
  }

  async listNetworks(options?: CallOptions) {
    const raw = await this.get<Record<string, unknown>[]>({ path: '/networks', what: 'the network list' }, options);
    return raw.map(networkFromApi);
  }

  async inspectRaw(kind: InspectKind, id: string, options?: CallOptions): Promise<unknown> {
    // encodeURIComponent: an id or name typed by a user must not change the request path.
    return this.get({ path: `${INSPECT_PATHS[kind]}${encodeURIComponent(id)}`, what: `inspect ${kind} ${id}`, query: kind === 'network' ? { verbose: true } : undefined }, options);
  }

  async streamEvents(onEvent: (event: EngineEvent) => void, options: { signal: AbortSignal }): Promise<void> {
    const filters = { type: ['node', 'service', 'network', 'container'] };
    let stream: Readable;
    try {
      stream = (await this.docker.getEvents({ filters, abortSignal: options.signal } as never)) as unknown as Readable;
    } catch (error) {
      throw translateError(error, this.endpoint, { timedOut: false, timeoutMs: 0, what: 'the event stream' });
    }
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      const onAbort = () => {
        stream.destroy();
        resolve();
      };
      options.signal.addEventListener('abort', onAbort, { once: true });
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          try {
            onEvent(eventFromApi(JSON.parse(line)));
          } catch {
            // a malformed line is skipped; the next refresh catches up anyway
          }
        }
      });
      stream.on('end', () => {
        options.signal.removeEventListener('abort', onAbort);
        resolve();
      });
      stream.on('error', (error) => {
        options.signal.removeEventListener('abort', onAbort);
        if (options.signal.aborted) resolve();
        else reject(translateError(error, this.endpoint, { timedOut: false, timeoutMs: 0, what: 'the event stream' }));
      });
    });
  }

  dispose(): void {
    const agent = (this.docker.modem as unknown as { agent?: { destroy?: () => void } }).agent;
    agent?.destroy?.();
  }
}

/** Creates the client for an endpoint. The only way other layers obtain an EngineClient. */
export function connectEngine(endpoint: EngineEndpoint, options: { timeoutMs?: number } = {}): EngineClient {
  return new DockerodeEngine(endpoint, options);
}
