// A small argument parser: flags with values (--host H or --host=H), boolean flags, positionals,
// and everything after "--" kept apart (for commands that run a program inside a namespace).

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  /** Flags that may be given several times, in order. */
  lists: Map<string, string[]>;
  rest: string[];
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], valueFlags: ReadonlySet<string>, booleanFlags: ReadonlySet<string>, listFlags: ReadonlySet<string> = new Set()): ParsedArgs {
  const parsed: ParsedArgs = { positionals: [], flags: new Map(), lists: new Map(), rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      parsed.rest = argv.slice(i + 1);
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      if (listFlags.has(name)) {
        const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        parsed.lists.set(name, [...(parsed.lists.get(name) ?? []), value]);
      } else if (valueFlags.has(name)) {
        const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        parsed.flags.set(name, value);
      } else if (booleanFlags.has(name)) {
        if (eq >= 0) throw new UsageError(`--${name} takes no value`);
        parsed.flags.set(name, true);
      } else {
        throw new UsageError(`unknown option --${name}`);
      }
    } else if (arg === '-h') {
      parsed.flags.set('help', true);
    } else if (arg === '-o' && valueFlags.has('output')) {
      const value = argv[++i];
      if (value === undefined) throw new UsageError('-o needs a file');
      parsed.flags.set('output', value);
    } else {
      parsed.positionals.push(arg);
    }
  }
  return parsed;
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags.get(name);
  return typeof value === 'string' ? value : undefined;
}

export function numberFlag(args: ParsedArgs, name: string): number | undefined {
  const value = stringFlag(args, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, not "${value}"`);
  return n;
}
