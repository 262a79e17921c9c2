// Decides which Docker engine to talk to, the way the docker CLI does:
//   explicit host  >  explicit context  >  DOCKER_HOST  >  DOCKER_CONTEXT  >  currentContext in
//   config.json  >  the "default" context (unix:///var/run/docker.sock).
// Contexts are read from the CLI's context store: <config>/contexts/meta/<sha256(name)>/meta.json
// with TLS material in <config>/contexts/tls/<sha256(name)>/docker/.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineError } from './errors';

export const DEFAULT_UNIX_SOCKET = '/var/run/docker.sock';

export interface TlsMaterial {
  /** PEM contents, not paths: read once when the endpoint is resolved so a missing file fails early. */
  ca?: string;
  cert?: string;
  key?: string;
  /** False when the server certificate is not verified (SkipTLSVerify / no DOCKER_TLS_VERIFY). */
  verify: boolean;
  /** Where the files came from, for messages. */
  dir?: string;
}

export type EngineEndpoint =
  | { kind: 'unix'; socketPath: string; url: string; source: string; contextName?: string }
  | { kind: 'npipe'; socketPath: string; url: string; source: string; contextName?: string }
  | {
      kind: 'tcp';
      host: string;
      port: number;
      tls?: TlsMaterial;
      url: string;
      source: string;
      contextName?: string;
    }
  | {
      kind: 'ssh';
      host: string;
      port: number;
      username?: string;
      url: string;
      source: string;
      contextName?: string;
    };

export interface EndpointRequest {
  /** Explicit host (setting swarmDoctor.host or --host); wins over everything. */
  host?: string;
  /** Explicit context name (setting swarmDoctor.context or --context). */
  context?: string;
  /** Where host/context came from, for messages: "the settings" or "--context". */
  origin?: string;
}

export interface EndpointEnvironment {
  env: NodeJS.ProcessEnv;
  homeDir: string;
}

export function processEnvironment(): EndpointEnvironment {
  return { env: process.env, homeDir: os.homedir() };
}

export function dockerConfigDir(environment: EndpointEnvironment): string {
  return environment.env.DOCKER_CONFIG || path.join(environment.homeDir, '.docker');
}

/** The CLI names a context's folder by the SHA-256 of its name. */
export function contextDigest(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

export interface ContextInfo {
  name: string;
  description?: string;
  host: string;
  skipTlsVerify: boolean;
  /** True when the store holds TLS material for this context. */
  hasTls: boolean;
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function currentContextFromConfig(environment: EndpointEnvironment): string | undefined {
  const file = path.join(dockerConfigDir(environment), 'config.json');
  let config: unknown;
  try {
    config = readJson(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EngineError('config', `Cannot read the docker CLI configuration ${file}: ${(error as Error).message}`);
  }
  const name = (config as { currentContext?: unknown }).currentContext;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** Every context in the store, plus "default". Unreadable entries are skipped. */
export function listContexts(environment: EndpointEnvironment = processEnvironment()): ContextInfo[] {
  const metaDir = path.join(dockerConfigDir(environment), 'contexts', 'meta');
  const contexts: ContextInfo[] = [
    {
      name: 'default',
      description: 'Current DOCKER_HOST based configuration',
      host: environment.env.DOCKER_HOST || `unix://${DEFAULT_UNIX_SOCKET}`,
      skipTlsVerify: false,
      hasTls: false,
    },
  ];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(metaDir);
  } catch {
    return contexts;
  }
  for (const digest of entries.sort()) {
    try {
      const info = contextFromMeta(environment, path.join(metaDir, digest, 'meta.json'));
      if (info) contexts.push(info);
    } catch {
      // a damaged entry must not hide the others
    }
  }
  return contexts;
}

function contextFromMeta(environment: EndpointEnvironment, metaFile: string): ContextInfo | undefined {
  const meta = readJson(metaFile) as {
    Name?: string;
    Metadata?: { Description?: string };
    Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } };
  };
  if (!meta.Name || !meta.Endpoints?.docker?.Host) return undefined;
  const tlsDir = path.join(dockerConfigDir(environment), 'contexts', 'tls', contextDigest(meta.Name), 'docker');
  return {
    name: meta.Name,
    description: meta.Metadata?.Description,
    host: meta.Endpoints.docker.Host,
    skipTlsVerify: meta.Endpoints.docker.SkipTLSVerify === true,
    hasTls: fs.existsSync(tlsDir),
  };
}

function readTlsFile(dir: string, file: string, required: boolean, origin: string): string | undefined {
  const full = path.join(dir, file);
  try {
    return fs.readFileSync(full, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EngineError(
      'tls',
      `The TLS file ${full} (${origin}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      'Check the path, or run `docker context inspect` to see which files the context expects.',
    );
  }
}

/** Parses a docker host string (as in DOCKER_HOST or a context) into an endpoint. */
export function parseDockerHost(
  host: string,
  source: string,
  tls?: TlsMaterial,
  contextName?: string,
): EngineEndpoint {
  const trimmed = host.trim();
  if (trimmed === '') throw new EngineError('config', `The docker host (${source}) is empty.`);
  if (trimmed.startsWith('/')) {
    return { kind: 'unix', socketPath: trimmed, url: `unix://${trimmed}`, source, contextName };
  }
  const match = /^([a-z]+):\/\/(.*)$/i.exec(trimmed);
  if (!match) {
    throw new EngineError(
      'config',
      `"${host}" (${source}) is not a docker host: use unix:///path, tcp://host:port, ssh://user@host or npipe:////./pipe/name.`,
    );
  }
  const scheme = match[1].toLowerCase();
  const rest = match[2];
  switch (scheme) {
    case 'unix': {
      const socketPath = rest.startsWith('/') ? rest : `/${rest}`;
      return { kind: 'unix', socketPath, url: `unix://${socketPath}`, source, contextName };
    }
    case 'npipe':
      return { kind: 'npipe', socketPath: rest.replace(/\//g, '\\'), url: trimmed, source, contextName };
    case 'tcp':
    case 'http':
    case 'https': {
      const url = new URL(`http://${rest}`);
      if (!url.hostname) throw new EngineError('config', `"${host}" (${source}) has no host name.`);
      const useTls = tls !== undefined || scheme === 'https';
      const port = url.port ? Number(url.port) : useTls ? 2376 : 2375;
      const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
      return {
        kind: 'tcp',
        host: hostname,
        port,
        tls: tls ?? (scheme === 'https' ? { verify: true } : undefined),
        url: `tcp://${url.host.includes(':') ? url.host : `${url.host}:${port}`}`,
        source,
        contextName,
      };
    }
    case 'ssh': {
      const url = new URL(`ssh://${rest}`);
      if (!url.hostname) throw new EngineError('config', `"${host}" (${source}) has no host name.`);
      return {
        kind: 'ssh',
        host: url.hostname,
        port: url.port ? Number(url.port) : 22,
        username: url.username ? decodeURIComponent(url.username) : undefined,
        url: trimmed,
        source,
        contextName,
      };
    }
    default:
      throw new EngineError(
        'config',
        `Unsupported scheme "${scheme}" in "${host}" (${source}): use unix://, tcp://, ssh:// or npipe://.`,
      );
  }
}

function tlsFromEnvironment(environment: EndpointEnvironment): TlsMaterial | undefined {
  const env = environment.env;
  const verify = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '' && env.DOCKER_TLS_VERIFY !== '0';
  const wantsTls = verify || (env.DOCKER_TLS !== undefined && env.DOCKER_TLS !== '' && env.DOCKER_TLS !== '0');
  if (!wantsTls) return undefined;
  const dir = env.DOCKER_CERT_PATH || dockerConfigDir(environment);
  const origin = env.DOCKER_CERT_PATH ? 'DOCKER_CERT_PATH' : 'the default certificate folder';
  return {
    ca: readTlsFile(dir, 'ca.pem', verify, origin),
    cert: readTlsFile(dir, 'cert.pem', true, origin),
    key: readTlsFile(dir, 'key.pem', true, origin),
    verify,
    dir,
  };
}

function endpointForContext(environment: EndpointEnvironment, name: string, source: string): EngineEndpoint {
  if (name === 'default') {
    const host = environment.env.DOCKER_HOST;
    if (host) return parseDockerHost(host, `${source}, DOCKER_HOST`, tlsFromEnvironment(environment), 'default');
    return parseDockerHost(`unix://${DEFAULT_UNIX_SOCKET}`, `${source}, default socket`, undefined, 'default');
  }
  const metaFile = path.join(dockerConfigDir(environment), 'contexts', 'meta', contextDigest(name), 'meta.json');
  let info: ContextInfo | undefined;
  try {
    info = contextFromMeta(environment, metaFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new EngineError('context', `The docker context "${name}" cannot be read (${metaFile}): ${(error as Error).message}`);
    }
  }
  if (!info) {
    const known = listContexts(environment).map((c) => c.name);
    throw new EngineError(
      'context',
      `The docker context "${name}" (${source}) does not exist. Known contexts: ${known.join(', ')}.`,
      'Pick another context, or create it with `docker context create`.',
    );
  }
  let tls: TlsMaterial | undefined;
  const tlsDir = path.join(dockerConfigDir(environment), 'contexts', 'tls', contextDigest(name), 'docker');
  if (info.hasTls) {
    const origin = `context "${name}"`;
    tls = {
      ca: readTlsFile(tlsDir, 'ca.pem', false, origin),
      cert: readTlsFile(tlsDir, 'cert.pem', false, origin),
      key: readTlsFile(tlsDir, 'key.pem', false, origin),
      verify: !info.skipTlsVerify,
      dir: tlsDir,
    };
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      throw new EngineError('tls', `The TLS material of context "${name}" in ${tlsDir} has a certificate or a key but not both.`);
    }
  } else if (info.skipTlsVerify && /^(tcp|https):/i.test(info.host)) {
    tls = { verify: false };
  }
  return parseDockerHost(info.host, source, tls, name);
}

/** Resolves the engine endpoint. Throws EngineError with a sentence a user can act on. */
export function resolveEndpoint(
  request: EndpointRequest = {},
  environment: EndpointEnvironment = processEnvironment(),
): EngineEndpoint {
  const env = environment.env;
  if (request.host && request.host.trim() !== '') {
    return parseDockerHost(request.host, `host from ${request.origin ?? 'the settings'}`, tlsFromEnvironment(environment));
  }
  if (request.context && request.context.trim() !== '') {
    return endpointForContext(environment, request.context.trim(), `context "${request.context.trim()}" from ${request.origin ?? 'the settings'}`);
  }
  if (env.DOCKER_HOST) {
    return parseDockerHost(env.DOCKER_HOST, 'DOCKER_HOST', tlsFromEnvironment(environment));
  }
  if (env.DOCKER_CONTEXT) {
    return endpointForContext(environment, env.DOCKER_CONTEXT, `context "${env.DOCKER_CONTEXT}" from DOCKER_CONTEXT`);
  }
  const current = currentContextFromConfig(environment);
  if (current) return endpointForContext(environment, current, `current context "${current}"`);
  return endpointForContext(environment, 'default', 'default context');
}

/** Short text for the view's description and the CLI's header. */
export function describeEndpoint(endpoint: EngineEndpoint): string {
  const context = endpoint.contextName && endpoint.contextName !== 'default' ? ` (context ${endpoint.contextName})` : '';
  const tls = endpoint.kind === 'tcp' && endpoint.tls ? (endpoint.tls.verify ? ' TLS' : ' TLS, unverified') : '';
  return `${endpoint.url}${tls}${context}`;
}
