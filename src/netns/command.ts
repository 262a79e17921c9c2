// WHAT runs: a command is a value (an argument array and how to read its output), separate from
// the runner that executes it somewhere. Tests check argv and feed recorded output to parse.

export interface NetCommand<T = unknown> {
  /** Stable id, e.g. "iptables-filter". */
  id: string;
  /** What a user reads in menus and titles, e.g. "iptables -nvL (filter)". */
  title: string;
  /** The program and its arguments. Never passed through a shell of ours. */
  argv: string[];
  /** Linux capabilities the helper needs beyond the default set. */
  capabilities: string[];
  /** Turns stdout into structured data for the doctor; absent for free commands. */
  parse?: (stdout: string) => T;
  /** Explains a failure the tool reports in its own words (e.g. no IPVS in the kernel). */
  explainFailure?: (result: { exitCode: number; stdout: string; stderr: string }) => string | undefined;
  /** Seconds the command may run; default from the settings. */
  timeoutSeconds?: number;
}

const NET = ['NET_ADMIN', 'NET_RAW'];

const quoteArg = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/** argv as a person would type it (for display only: it is never run by a shell). */
export function displayArgv(argv: string[]): string {
  return argv.map(quoteArg).join(' ');
}

/** A command typed by the user: split like a shell would split words, but never run by one. */
export function freeCommand(argv: string[]): NetCommand<string> {
  if (!argv.length || !argv[0]) throw new Error('Type a command to run, e.g. "ip route".');
  return { id: 'free', title: displayArgv(argv), argv: [...argv], capabilities: NET };
}

/**
 * Splits a typed command line into words: whitespace separates, single and double quotes group,
 * backslash escapes. No variables, globs, pipes or redirections: the words go to exec as they are.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`Unclosed ${quote === '"' ? 'double' : 'single'} quote in the command.`);
  if (inWord) words.push(word);
  return words;
}

export { NET as NET_CAPABILITIES };
