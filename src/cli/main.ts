// swarm-doctor: the command-line front on the same core as the extension.
import { connectEngine } from '../engine/dockerodeEngine';
import { describeEndpoint, resolveEndpoint } from '../engine/endpoint';
import { asEngineError } from '../engine/errors';
import type { LocalNode } from '../netns/localTransport';
import { numberFlag, parseArgs, stringFlag, UsageError, type ParsedArgs } from './args';
import { DEFAULT_HELPER_IMAGE, DEFAULT_NETNS_FOLDER } from '../netns/format';
import { runCapture } from './commands/capture';
import { parseNodeEndpoints, runExec } from './commands/exec';
import { runLs } from './commands/ls';
import { runPcap } from './commands/pcap';

const USAGE = `Usage: swarm-doctor <command> [options]

Commands:
  ls nodes|services|tasks|networks   List the swarm's objects as a table (or --json)
  exec <task|node|service> [--ns sandbox|host|ingress|lb:NET|overlay:NET] [--via auto|direct|manager|local] -- <command...>
                                     Run a command in that network namespace, on whichever node it is;
                                     a service runs it in every running task. Exit status: the command's.
  capture <task|node> [--ns ...] [--via ...] [--filter EXPR] [--count N] [--duration S] [--interface IF] -o FILE
                                     Capture packets there with tcpdump into FILE (pcap), written as they
                                     arrive; Ctrl-C stops and keeps every complete packet.
  pcap FILE [--filter EXPR] [--json] [--conversations]
                                     Decode a capture: one line (or JSON object) per packet with its TCP
                                     analysis flags, or the conversations with their verdicts. No engine needed.

Connection (as the docker CLI: --host > --context > DOCKER_HOST > DOCKER_CONTEXT > current context):
  --host HOST        unix:///path, tcp://host:port, ssh://user@host
  --context NAME     a docker context
  --timeout SECONDS  per engine call (default 15)

Running commands:
  --via auto|direct|manager|local
                                 direct: a helper container on the node's own engine; manager: a one-shot
                                 service pinned to the node through the manager (needs only the manager
                                 API); local: nsenter here, when this machine is the node (root; env
                                 SWARM_DOCTOR_LOCAL_NODES='{"node":{"netnsFolder":…,"hostNetns":…}}')
  --helper-image IMAGE           default ${DEFAULT_HELPER_IMAGE} (env SWARM_DOCTOR_HELPER_IMAGE)
  --node-endpoint NODE=HOST      a node's own engine, repeatable (env SWARM_DOCTOR_NODE_ENDPOINTS)
  --netns-folder PATH            the engines' netns folder on the nodes (default ${DEFAULT_NETNS_FOLDER})

Other options:
  --json             machine-readable output
  --verbose          print which engine is used (on stderr)
  -h, --help         this help
`;

const VALUE_FLAGS = new Set(['host', 'context', 'timeout', 'ns', 'via', 'helper-image', 'netns-folder', 'filter', 'count', 'duration', 'interface', 'output']);
const LIST_FLAGS = new Set(['node-endpoint']);
const BOOLEAN_FLAGS = new Set(['json', 'help', 'verbose', 'conversations']);

/** Where and how commands run on the nodes: flags first, then SWARM_DOCTOR_* variables, then defaults. */
function runnerOptions(args: ParsedArgs, timeoutSeconds: number | undefined, signal: AbortSignal) {
  return {
    helperImage: stringFlag(args, 'helper-image') ?? process.env.SWARM_DOCTOR_HELPER_IMAGE ?? DEFAULT_HELPER_IMAGE,
    netnsFolder: stringFlag(args, 'netns-folder') ?? process.env.SWARM_DOCTOR_NETNS_FOLDER ?? DEFAULT_NETNS_FOLDER,
    nodeEndpoints: parseNodeEndpoints([process.env.SWARM_DOCTOR_NODE_ENDPOINTS ?? '', ...(args.lists.get('node-endpoint') ?? [])]),
    localNodes: process.env.SWARM_DOCTOR_LOCAL_NODES ? (JSON.parse(process.env.SWARM_DOCTOR_LOCAL_NODES) as Record<string, LocalNode>) : {},
    timeoutMs: (timeoutSeconds ?? 30) * 1000,
    signal,
  };
}

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, VALUE_FLAGS, BOOLEAN_FLAGS, LIST_FLAGS);
  } catch (error) {
    err.write(`swarm-doctor: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command, ...positionals] = args.positionals;
  if (args.flags.has('help') || !command) {
    (command ? out : err).write(USAGE);
    return command || args.flags.has('help') ? 0 : 2;
  }
  if (command === 'pcap') {
    // Reads a file: no engine connection.
    try {
      return await runPcap({ file: positionals[0], filter: stringFlag(args, 'filter'), json: args.flags.has('json'), conversations: args.flags.has('conversations'), out, err });
    } catch (error) {
      err.write(`swarm-doctor: ${(error as Error).message}\n${error instanceof UsageError ? `\n${USAGE}` : ''}`);
      return error instanceof UsageError ? 2 : 1;
    }
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  let client;
  try {
    const timeoutSeconds = numberFlag(args, 'timeout');
    const endpoint = resolveEndpoint({ host: stringFlag(args, 'host'), context: stringFlag(args, 'context'), origin: 'the command line' });
    if (args.flags.has('verbose')) err.write(`engine: ${describeEndpoint(endpoint)} (from ${endpoint.source})\n`);
    client = connectEngine(endpoint, { timeoutMs: timeoutSeconds ? timeoutSeconds * 1000 : undefined });
    switch (command) {
      case 'ls':
        out.write(await runLs(client, positionals[0], args.flags.has('json'), abort.signal));
        return 0;
      case 'exec':
        return await runExec(client, {
          name: positionals[0],
          argv: args.rest,
          ns: stringFlag(args, 'ns'),
          via: stringFlag(args, 'via'),
          ...runnerOptions(args, timeoutSeconds, abort.signal),
          out,
          err,
        });
      case 'capture':
        return await runCapture(client, {
          name: positionals[0],
          output: stringFlag(args, 'output'),
          ns: stringFlag(args, 'ns'),
          via: stringFlag(args, 'via'),
          filter: stringFlag(args, 'filter'),
          count: numberFlag(args, 'count'),
          durationSeconds: numberFlag(args, 'duration'),
          interface: stringFlag(args, 'interface'),
          ...runnerOptions(args, timeoutSeconds, abort.signal),
          err,
        });
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`swarm-doctor: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    err.write(`swarm-doctor: ${asEngineError(error).fullMessage}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    client?.dispose();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`swarm-doctor: unexpected error: ${(error as Error).stack ?? error}\n`);
      process.exitCode = 70;
    },
  );
}
