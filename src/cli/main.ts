// swarm-doctor: the command-line front on the same core as the extension.
import { connectEngine } from '../engine/dockerodeEngine';
import { describeEndpoint, resolveEndpoint } from '../engine/endpoint';
import { asEngineError } from '../engine/errors';
import { numberFlag, parseArgs, stringFlag, UsageError } from './args';
import { runLs } from './commands/ls';

const USAGE = `Usage: swarm-doctor <command> [options]

Commands:
  ls nodes|services|tasks|networks   List the swarm's objects as a table (or --json)

Connection (as the docker CLI: --host > --context > DOCKER_HOST > DOCKER_CONTEXT > current context):
  --host HOST        unix:///path, tcp://host:port, ssh://user@host
  --context NAME     a docker context
  --timeout SECONDS  per engine call (default 15)

Other options:
  --json             machine-readable output
  --verbose          print which engine is used (on stderr)
  -h, --help         this help
`;

const VALUE_FLAGS = new Set(['host', 'context', 'timeout']);
const BOOLEAN_FLAGS = new Set(['json', 'help', 'verbose']);

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, VALUE_FLAGS, BOOLEAN_FLAGS);
  } catch (error) {
    err.write(`swarm-doctor: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command, ...positionals] = args.positionals;
  if (args.flags.has('help') || !command) {
    (command ? out : err).write(USAGE);
    return command || args.flags.has('help') ? 0 : 2;
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
