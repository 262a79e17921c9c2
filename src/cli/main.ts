// swarm-doctor: the command-line front on the same core as the extension.
import { connectEngine } from '../engine/dockerodeEngine';
import { describeEndpoint, resolveEndpoint } from '../engine/endpoint';
import { asEngineError } from '../engine/errors';
import type { LocalNode } from '../netns/localTransport';
import { numberFlag, parseArgs, stringFlag, UsageError, type ParsedArgs } from './args';
import { DEFAULT_HELPER_IMAGE, DEFAULT_NETNS_FOLDER } from '../netns/format';
import { runCapture } from './commands/capture';
import { runCheck, runDiagnose, runMatrixCommand } from './commands/doctor';
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
  check [--service NAME]... [--quick] [--json] [--verbose]
                                     Run the network checks: membership, gossip/manager/data-path ports and
                                     MTU between nodes, network state agreement, VXLAN tables, IPVS, and a
                                     connectivity matrix per service with a TCP port, failures explained
                                     (firewall rules and counters). Exit status 1 when a finding is an error.
  matrix [--service NAME] [--port N]... [--client SERVICE] [--network NET] [--json]
                                     Probe from a task on every node to every task (and name, VIP) of the
                                     service: connected / refused (RST, from whom) / timed out / unreachable /
                                     name lookup failed. Exit status 1 when a cell fails.
  diagnose CLIENT SERVER --port N [-o DIR] [--json]
                                     Probe from the client task while capturing at both ends, compare the
                                     firewall counters before and after, and say where the SYN went and who
                                     answered. Captures are kept in DIR.
  pcap FILE [--filter EXPR] [--json] [--conversations] [--vxlan-port N]...
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

const VALUE_FLAGS = new Set(['host', 'context', 'timeout', 'ns', 'via', 'helper-image', 'netns-folder', 'filter', 'count', 'duration', 'interface', 'output', 'client', 'network']);
const LIST_FLAGS = new Set(['node-endpoint', 'service', 'port', 'vxlan-port']);
const BOOLEAN_FLAGS = new Set(['json', 'help', 'verbose', 'conversations', 'quick']);

function portList(args: ParsedArgs, flag = 'port'): number[] {
  return (args.lists.get(flag) ?? []).flatMap((v) => v.split(',')).map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--${flag} must be a port, not "${v}"`);
    return n;
  });
}

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
      return await runPcap({ file: positionals[0], vxlanPorts: portList(args, 'vxlan-port'), filter: stringFlag(args, 'filter'), json: args.flags.has('json'), conversations: args.flags.has('conversations'), out, err });
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
      case 'check':
      case 'matrix':
      case 'diagnose': {
        const doctor = { via: stringFlag(args, 'via'), json: args.flags.has('json'), verbose: args.flags.has('verbose'), ...runnerOptions(args, timeoutSeconds, abort.signal), out, err };
        const services = args.lists.get('service') ?? [];
        if (command === 'check') return await runCheck(client, { ...doctor, services, quick: args.flags.has('quick') });
        if (command === 'matrix') {
          if (services.length > 1) throw new UsageError('matrix takes one --service');
          return await runMatrixCommand(client, { ...doctor, service: services[0], ports: portList(args), client: stringFlag(args, 'client'), network: stringFlag(args, 'network') });
        }
        const ports = portList(args);
        if (ports.length !== 1) throw new UsageError('diagnose needs one --port');
        return await runDiagnose(client, { ...doctor, client: positionals[0], server: positionals[1], port: ports[0], output: stringFlag(args, 'output') });
      }
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
