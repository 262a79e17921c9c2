// code-server (VS Code 1.100.3's server and web workbench) for one e2e phase: its own user-data
// and extensions folders, the packaged extension installed from its .vsix, started in its own
// process group (so one kill stops it with its extension host, pty host and watchers) and stopped
// by that group id.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export interface CodeServerOptions {
  /** entry.js of the code-server install (scripts/code-server.sh prints it). */
  entry: string;
  /** Folder for this phase: user-data/, extensions/, server.log, server.pid. */
  dir: string;
  port: number;
  /** Folder to open in the workbench. */
  workspace: string;
  settings: Record<string, unknown>;
}

/** A quiet workbench (shared with scripts/serve-vscode.sh), then what the e2e runs need. */
const BASE_SETTINGS = {
  ...(JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'scripts', 'workbench-settings.json'), 'utf8')) as Record<string, unknown>),
  'workbench.colorTheme': 'Default Dark Modern',
  'git.enabled': false,
  'workbench.editor.enablePreview': false,
};

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', timeout: timeoutMs }, (error, stdout, stderr) =>
      error ? reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${error.message}\n${stdout}${stderr}`)) : resolve(stdout + stderr),
    );
  });
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first free port from `start` on (code-server needs a fixed one on its command line). */
export async function freePort(start: number): Promise<number> {
  for (let port = start; port < start + 50; port++) if (await portIsFree(port)) return port;
  throw new Error(`no free port in ${start}..${start + 49}`);
}

export class CodeServer {
  readonly userData: string;
  readonly extensions: string;
  readonly logFile: string;
  readonly pidFile: string;
  readonly url: string;
  private child: ChildProcess | undefined;

  constructor(private readonly options: CodeServerOptions) {
    this.userData = path.join(options.dir, 'user-data');
    this.extensions = path.join(options.dir, 'extensions');
    this.logFile = path.join(options.dir, 'server.log');
    this.pidFile = path.join(options.dir, 'server.pid');
    this.url = `http://127.0.0.1:${options.port}/`;
    fs.mkdirSync(path.join(this.userData, 'User'), { recursive: true });
    fs.mkdirSync(this.extensions, { recursive: true });
    fs.writeFileSync(path.join(this.userData, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...options.settings }, null, 2) + '\n');
  }

  private baseArgs(): string[] {
    const config = path.join(path.dirname(this.options.entry), '..', '..', '..', '..', 'config.yaml');
    return [
      this.options.entry,
      ...(fs.existsSync(config) ? ['--config', config] : []),
      '--user-data-dir', this.userData,
      '--extensions-dir', this.extensions,
    ];
  }

  /** `code-server --install-extension FILE.vsix` (works offline). */
  async installVsix(vsix: string): Promise<void> {
    const out = await run(process.execPath, [...this.baseArgs(), '--install-extension', vsix], 120_000);
    if (!/successfully installed/i.test(out)) throw new Error(`installing ${vsix} said:\n${out}`);
  }

  /**
   * An unpacked extension folder copied into the extensions folder and listed in its
   * extensions.json (the list VS Code loads user extensions from).
   */
  addUnpacked(source: string, files: Record<string, string> = {}): string {
    const manifest = JSON.parse(fs.readFileSync(path.join(source, 'package.json'), 'utf8'));
    const id = `${manifest.publisher}.${manifest.name}`;
    const folder = `${id}-${manifest.version}`;
    const target = path.join(this.extensions, folder);
    fs.cpSync(source, target, { recursive: true });
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(target, name), text);
    const listFile = path.join(this.extensions, 'extensions.json');
    const list = fs.existsSync(listFile) ? (JSON.parse(fs.readFileSync(listFile, 'utf8')) as { identifier: { id: string } }[]) : [];
    list.push({
      identifier: { id },
      version: manifest.version,
      location: { $mid: 1, fsPath: target, external: `file://${target}`, path: target, scheme: 'file' },
      relativeLocation: folder,
      metadata: { installedTimestamp: Date.now(), source: 'resource' },
    } as never);
    fs.writeFileSync(listFile, JSON.stringify(list));
    return target;
  }

  async start(timeoutMs = 90_000): Promise<void> {
    const log = fs.openSync(this.logFile, 'a');
    const env = { ...process.env };
    // Set inside a VS Code terminal, these would hand the folder to that VS Code or move the port.
    for (const name of ['VSCODE_IPC_HOOK_CLI', 'PORT', 'VSCODE_PROXY_URI']) delete env[name];
    const child = spawn(
      process.execPath,
      [
        ...this.baseArgs(),
        '--auth', 'none',
        '--bind-addr', `127.0.0.1:${this.options.port}`,
        '--disable-telemetry',
        '--disable-workspace-trust',
        '--disable-update-check',
        '--disable-getting-started-override',
        this.options.workspace,
      ],
      { detached: true, stdio: ['ignore', log, log], env },
    );
    fs.closeSync(log);
    this.child = child;
    fs.writeFileSync(this.pidFile, `${child.pid}\n`);
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = `code-server exited (${signal ?? code}) during start-up; see ${this.logFile}`));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited) throw new Error(exited);
      try {
        const response = await fetch(`${this.url}healthz`, { signal: AbortSignal.timeout(2000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`code-server did not answer on ${this.url} within ${timeoutMs / 1000}s; see ${this.logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** TERM to the process group, KILL after 10 s; removes the pid file. */
  async stop(): Promise<void> {
    const pid = this.child?.pid;
    if (!pid) return;
    const alive = () => {
      try {
        process.kill(-pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
    for (let i = 0; i < 100 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    if (alive()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    this.child = undefined;
    fs.rmSync(this.pidFile, { force: true });
  }

  /** Synchronous last resort (process exit handlers): KILL the group. */
  killNow(): void {
    const pid = this.child?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
    this.child = undefined;
    fs.rmSync(this.pidFile, { force: true });
  }

  /** VS Code's log folder (server, remote extension host with the extensions' output channels). */
  get logsDir(): string {
    return path.join(this.userData, 'logs');
  }
}
