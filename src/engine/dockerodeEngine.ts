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
import { FrameDecoder, demultiplex } from './multiplexed';
import type {
  CallOptions,
  EngineClient,
  EngineEvent,
  HelperContainerSpec,
  HelperResourceRecord,
  InspectKind,
  NodeJobSpec,
  ProcessOutput,
  RunOptions,
} from './types';

export const DEFAULT_TIMEOUT_MS = 15_000;

const INSPECT_PATHS: Record<InspectKind, (id: string) => string> = {
  node: (id) => `/nodes/${id}`,
  service: (id) => `/services/${id}`,
  task: (id) => `/tasks/${id}`,
  network: (id) => `/networks/${id}`,
  container: (id) => `/containers/${id}/json`,
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
  method?: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, unknown>;
  body?: unknown;
  what: string;
  statusCodes?: Record<number, true | string>;
  /** Resolve to the response stream instead of parsed JSON. */
  isStream?: boolean;
}

const DEFAULT_STATUS = { 200: true, 201: true, 204: true, 304: true, 400: 'bad parameter', 404: 'not found', 409: 'conflict', 500: 'server error', 503: 'node is not part of a swarm' } as const;
const TERMINAL_TASK_STATES = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove']);
const MISSING_EXECUTABLE = /executable file not found|no such file or directory: unknown|exec: "[^"]*": (stat|executable)/i;
const CLEANUP_TIMEOUT_MS = 15_000;

/** "abc:1" -> { fromImage: "abc", tag: "1" }; digests and registry ports are kept intact. */
function pullQuery(reference: string): { fromImage: string; tag?: string } {
  if (reference.includes('@')) return { fromImage: reference };
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  return colon > slash ? { fromImage: reference.slice(0, colon), tag: reference.slice(colon + 1) } : { fromImage: reference, tag: 'latest' };
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

  /** One API call with timeout + cancellation; resolves to parsed JSON (or the stream). */
  private async call<T>(request: DialRequest, options: CallOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    if (options.signal?.aborted) throw new EngineError('cancelled', `Cancelled: ${request.what}.`);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const method = request.method ?? 'GET';
    try {
      return await new Promise<T>((resolve, reject) => {
        this.docker.modem.dial(
          {
            path: `${request.path}?`,
            method,
            // docker-modem sends `options` as the JSON body of a POST, and as the query otherwise.
            options: method === 'POST' ? { _query: request.query ?? {}, _body: request.body ?? {} } : { ...(request.query ?? {}) },
            abortSignal: signal,
            isStream: request.isStream,
            statusCodes: request.statusCodes ?? DEFAULT_STATUS,
          },
          (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as T)),
        );
      });
    } catch (error) {
      throw translateError(error, this.endpoint, { timedOut: timeout.aborted && !options.signal?.aborted, timeoutMs, what: request.what });
    }
  }

  private get<T>(request: DialRequest, options?: CallOptions): Promise<T> {
    return this.call<T>({ ...request, method: 'GET' }, options);
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
    return this.get({ path: INSPECT_PATHS[kind](encodeURIComponent(id)), what: `inspect ${kind} ${id}`, query: kind === 'network' ? { verbose: true } : undefined }, options);
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

  async hasImage(reference: string, options?: CallOptions): Promise<boolean> {
    try {
      await this.get({ path: `/images/${encodeURIComponent(reference)}/json`, what: `inspect image ${reference}` }, options);
      return true;
    } catch (error) {
      if (error instanceof EngineError && error.kind === 'notFound') return false;
      throw error;
    }
  }

  /** Pulls an image once; a failure becomes an imageMissing error naming the node's engine. */
  private async ensureImage(image: string, signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (await this.hasImage(image, { signal })) return;
    const url = describeEndpoint(this.endpoint);
    try {
      const stream = await this.call<Readable>({ method: 'POST', path: '/images/create', query: pullQuery(image), what: `pulling ${image}`, isStream: true }, { signal, timeoutMs });
      const body = await readAll(stream, signal);
      // The pull endpoint answers 200 and reports failure inside the stream.
      const failure = body.toString('utf8').split('\n').map((line) => { try { return JSON.parse(line) as { error?: string }; } catch { return {}; } }).find((m) => m.error);
      if (failure?.error) throw new EngineError('imageMissing', `The helper image ${image} is not on the engine at ${url}, and pulling it failed: ${failure.error.trim()}`);
    } catch (error) {
      if (error instanceof EngineError && (error.kind === 'cancelled' || error.kind === 'imageMissing')) {
        if (error.kind === 'imageMissing') error = new EngineError('imageMissing', error.message, 'Load the image on that node (docker pull or docker load there), or set swarmDoctor.helperImage to an image it has.');
        throw error;
      }
      throw new EngineError('imageMissing', `The helper image ${image} is not on the engine at ${url}, and pulling it failed: ${(error as Error).message}`, 'Load the image on that node (docker pull or docker load there), or set swarmDoctor.helperImage to an image it has.');
    }
  }

  async runContainer(spec: HelperContainerSpec, options: RunOptions): Promise<ProcessOutput> {
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const what = `running ${spec.argv[0]} in a helper container`;
    let id: string | undefined;
    try {
      await this.ensureImage(spec.image, signal, options.timeoutMs);
      const created = await this.call<{ Id: string }>(
        {
          method: 'POST',
          path: '/containers/create',
          query: spec.name ? { name: spec.name } : {},
          body: {
            Image: spec.image,
            // The whole argv as the entrypoint: the image's own entrypoint must not wrap it in a shell.
            Entrypoint: spec.argv,
            Cmd: [],
            Labels: spec.labels,
            AttachStdout: true,
            AttachStderr: true,
            Tty: false,
            NetworkDisabled: false,
            HostConfig: {
              NetworkMode: spec.networkMode,
              CapAdd: spec.capAdd ?? [],
              Privileged: spec.privileged === true,
              Binds: spec.binds ?? [],
              AutoRemove: false,
            },
          },
          what: `creating a helper container from ${spec.image}`,
        },
        { signal },
      );
      id = created.Id;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const stream = await this.call<Readable>({ method: 'POST', path: `/containers/${id}/attach`, query: { stream: true, stdout: true, stderr: true }, what: 'attaching to the helper container', isStream: true }, { signal });
      const decoder = new FrameDecoder((kind, payload) => {
        if (kind === 'stdout') {
          if (!options.discardStdout) stdout.push(payload);
          options.onStdout?.(payload);
        } else stderr.push(payload);
      });
      const ended = new Promise<void>((resolve) => {
        stream.on('data', (chunk: Buffer) => decoder.push(chunk));
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
      try {
        await this.call({ method: 'POST', path: `/containers/${id}/start`, what: `starting ${spec.argv[0]} in the helper container` }, { signal });
      } catch (error) {
        if (error instanceof EngineError && MISSING_EXECUTABLE.test(error.message)) {
          throw new EngineError('toolMissing', `"${spec.argv[0]}" is not in the helper image ${spec.image} (engine ${describeEndpoint(this.endpoint)}).`, 'Use a helper image that has it (setting swarmDoctor.helperImage).');
        }
        throw error;
      }
      const waited = await this.call<{ StatusCode: number }>({ method: 'POST', path: `/containers/${id}/wait`, what }, { signal, timeoutMs: options.timeoutMs });
      await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
      return { exitCode: waited.StatusCode, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
    } catch (error) {
      const e = translateError(error, this.endpoint, { timedOut: deadline.aborted && !options.signal?.aborted, timeoutMs: options.timeoutMs, what });
      if ((e.kind === 'timeout' || e.kind === 'cancelled') && deadline.aborted && !options.signal?.aborted) throw new EngineError('timeout', `${spec.argv[0]} did not finish within ${seconds(options.timeoutMs)} s on the engine at ${describeEndpoint(this.endpoint)}; the helper container was removed.`, 'Is the node up? A command that waits for traffic needs a longer timeout.');
      throw e;
    } finally {
      if (id) {
        const created = id;
        await this.removeResource('container', created).catch(() => options.onCleanupFailed?.('container', created));
      }
    }
  }

  async runNodeJob(spec: NodeJobSpec, options: RunOptions): Promise<ProcessOutput & { taskId: string }> {
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const what = `running ${spec.argv[0]} as a job on node ${spec.nodeId.slice(0, 12)}`;
    let serviceId: string | undefined;
    try {
      const created = await this.call<{ ID: string }>(
        {
          method: 'POST',
          path: '/services/create',
          body: {
            Name: spec.name,
            Labels: spec.labels,
            TaskTemplate: {
              ContainerSpec: {
                Image: spec.image,
                Command: spec.argv,
                // Cancelling must not wait the default 10 s for a command that ignores SIGTERM.
                StopGracePeriod: 1_000_000_000,
                Labels: spec.labels,
                CapabilityAdd: spec.capAdd ?? [],
                Mounts: (spec.mounts ?? []).map((m) => ({ Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly, BindOptions: m.propagation ? { Propagation: m.propagation } : undefined })),
              },
              Placement: { Constraints: [`node.id==${spec.nodeId}`] },
              RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
              Networks: spec.network ? [{ Target: spec.network }] : undefined,
            },
            // A one-shot replicated service rather than a replicated-job: on Engine 20.10, removing a
            // job service leaves its task containers on the node (still running when cancelled), while
            // removing a replicated service makes the node's agent stop and remove them.
            Mode: { Replicated: { Replicas: 1 } },
          },
          what: `creating the job service ${spec.name}`,
        },
        { signal },
      );
      serviceId = created.ID;
      // Streaming callers get the output as it arrives, from the followed service logs.
      const streamed = options.onStdout ? this.followServiceLogs(serviceId, options.onStdout, signal, options.discardStdout === true) : undefined;
      const filters = JSON.stringify({ service: [serviceId] });
      let task: Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
      for (let delay = 50; ; delay = Math.min(delay * 1.5, 250)) {
        const tasks = await this.get<Record<string, any>[]>({ path: '/tasks', query: { filters }, what }, { signal }); // eslint-disable-line @typescript-eslint/no-explicit-any
        task = tasks.find((t) => TERMINAL_TASK_STATES.has(t.Status?.State));
        if (task) break;
        await sleep(delay, signal);
      }
      const state = String(task.Status?.State);
      const containerStatus = task.Status?.ContainerStatus;
      if ((state === 'rejected' || state === 'failed') && !containerStatus?.ContainerID) {
        const err = String(task.Status?.Err ?? task.Status?.Message ?? state);
        if (/no such image|pull access denied|manifest unknown|not found/i.test(err)) {
          throw new EngineError('imageMissing', `The job on node ${spec.nodeId.slice(0, 12)} could not start: the helper image ${spec.image} is not there (${err}).`, 'Load the image on that node, or set swarmDoctor.helperImage to an image every node has.');
        }
        if (MISSING_EXECUTABLE.test(err)) throw new EngineError('toolMissing', `"${spec.argv[0]}" is not in the helper image ${spec.image}: ${err}`, 'Use a helper image that has it (setting swarmDoctor.helperImage).');
        throw new EngineError('engine', `The job on node ${spec.nodeId.slice(0, 12)} was ${state}: ${err}`);
      }
      if (state !== 'complete' && state !== 'failed') {
        throw new EngineError('unreachable', `The job on node ${spec.nodeId.slice(0, 12)} ended as ${state}${task.Status?.Message ? ` (${task.Status.Message})` : ''}: the node went down or left the swarm while it ran.`, 'Check the node (docker node ls); the job was removed and its container goes once the node is back.');
      }
      const exitCode = Number(containerStatus?.ExitCode ?? (state === 'complete' ? 0 : 1));
      if (streamed) {
        const { stdout, stderr } = await streamed.finish();
        return { exitCode, stdout, stderr, taskId: String(task.ID) };
      }
      const logs = await this.call<Readable>({ path: `/services/${serviceId}/logs`, query: { stdout: true, stderr: true, follow: false }, what: `reading the output of ${spec.name}`, isStream: true }, { signal });
      const { stdout, stderr } = demultiplex(await readAll(logs, signal));
      return { exitCode, stdout, stderr, taskId: String(task.ID) };
    } catch (error) {
      const e = translateError(error, this.endpoint, { timedOut: deadline.aborted && !options.signal?.aborted, timeoutMs: options.timeoutMs, what });
      if ((e.kind === 'timeout' || e.kind === 'cancelled') && deadline.aborted && !options.signal?.aborted) throw new EngineError('timeout', `The job running ${spec.argv[0]} on node ${spec.nodeId.slice(0, 12)} did not finish within ${seconds(options.timeoutMs)} s; the job was removed.`, 'Is the node up (docker node ls)? A node that is down cannot run the job.');
      throw e;
    } finally {
      if (serviceId) {
        const created = serviceId;
        await this.removeResource('service', created).catch(() => options.onCleanupFailed?.('service', created));
      }
    }
  }

  /**
   * Follows a service's logs while its task runs. finish() waits for the stream to end after the
   * task did (the log broker may still be delivering), for at most a few seconds.
   */
  private followServiceLogs(serviceId: string, onStdout: (chunk: Buffer) => void, signal: AbortSignal, discardStdout: boolean): { finish(): Promise<{ stdout: Buffer; stderr: Buffer }> } {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const decoder = new FrameDecoder((kind, payload) => {
      if (kind === 'stdout') {
        if (!discardStdout) stdout.push(payload);
        onStdout(payload);
      } else stderr.push(payload);
    });
    let stream: Readable | undefined;
    const ended = (async () => {
      stream = await this.call<Readable>({ path: `/services/${serviceId}/logs`, query: { stdout: true, stderr: true, follow: true }, what: 'following the job output', isStream: true }, { signal, timeoutMs: 24 * 3600 * 1000 });
      await new Promise<void>((resolve) => {
        stream!.on('data', (chunk: Buffer) => decoder.push(chunk));
        stream!.on('end', resolve);
        stream!.on('close', resolve);
        stream!.on('error', () => resolve());
      });
    })().catch(() => undefined);
    return {
      finish: async () => {
        await Promise.race([ended, new Promise((r) => setTimeout(r, 3000))]);
        stream?.destroy();
        return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
      },
    };
  }

  async listLabeled(kind: 'container' | 'service', label: string, options?: CallOptions): Promise<HelperResourceRecord[]> {
    const filters = JSON.stringify({ label: [label] });
    if (kind === 'container') {
      const raw = await this.get<Record<string, any>[]>({ path: '/containers/json', query: { all: true, filters }, what: 'the helper container list' }, options); // eslint-disable-line @typescript-eslint/no-explicit-any
      return raw.map((c) => ({ kind, id: String(c.Id), name: String(c.Names?.[0] ?? '').replace(/^\//, ''), labels: c.Labels ?? {}, createdAt: c.Created ? new Date(c.Created * 1000).toISOString() : undefined }));
    }
    const raw = await this.get<Record<string, any>[]>({ path: '/services', query: { filters }, what: 'the job service list' }, options); // eslint-disable-line @typescript-eslint/no-explicit-any
    return raw.map((s) => ({ kind, id: String(s.ID), name: String(s.Spec?.Name ?? ''), labels: s.Spec?.Labels ?? {}, createdAt: s.CreatedAt }));
  }

  async removeResource(kind: 'container' | 'service', id: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.call(
        kind === 'container'
          ? { method: 'DELETE', path: `/containers/${encodeURIComponent(id)}`, query: { force: true, v: true }, what: `removing helper container ${id.slice(0, 12)}` }
          : { method: 'DELETE', path: `/services/${encodeURIComponent(id)}`, what: `removing job service ${id.slice(0, 12)}` },
        { timeoutMs: CLEANUP_TIMEOUT_MS, ...options },
      );
    } catch (error) {
      if (error instanceof EngineError && error.kind === 'notFound') return;
      // "removal already in progress" is as good as done.
      if (error instanceof EngineError && error.statusCode === 409) return;
      throw error;
    }
  }

  dispose(): void {
    const agent = (this.docker.modem as unknown as { agent?: { destroy?: () => void } }).agent;
    agent?.destroy?.();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function readAll(stream: Readable, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onAbort = () => {
      stream.destroy();
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks));
    });
    stream.on('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(e);
    });
  });
}

/** Creates the client for an endpoint. The only way other layers obtain an EngineClient. */
export function connectEngine(endpoint: EngineEndpoint, options: { timeoutMs?: number } = {}): EngineClient {
  return new DockerodeEngine(endpoint, options);
}
