// iptables output in its two usual forms: the rule specs of `iptables -S` / `iptables-save`, and
// the table of `iptables -nvL [--line-numbers] [-x]`. Both give the doctor the same core fields
// (IptablesRuleCore), so rulesMatchingFlow works on either.
import { ipv4InCidr, numberedLines, parseIpv4Cidr, takeWords, type ParseProblem } from './common';

/** A value a rule can negate with `!` (`! -s 10.0.1.0/24`, `dpt:!22`). */
export interface Negatable<T = string> {
  value: T;
  negated: boolean;
}

/** An inclusive port range; a single port has from === to. */
export interface PortRange {
  from: number;
  to: number;
}

export interface PortMatch {
  ranges: PortRange[];
  negated: boolean;
}

/** What both forms say about a rule; absent fields mean "any". */
export interface IptablesRuleCore {
  /** From `*nat` in iptables-save, or the caller's `table` option; absent when unknown. */
  table?: string;
  chain: string;
  /** `-j`/`-g` target (ACCEPT, REJECT, DROP, DNAT, a user chain...); absent for a rule that only counts. */
  target?: string;
  protocol?: Negatable;
  /** As printed: "10.0.1.2/32" from -S, "10.0.1.2" from -nL. */
  source?: Negatable;
  destination?: Negatable;
  inInterface?: Negatable;
  outInterface?: Negatable;
  /** From tcp/udp `--sport`/`--dport` or multiport `--sports`/`--dports` (list form: spt:/dpt:/spts:/dpts:). */
  sourcePorts?: PortMatch;
  destinationPorts?: PortMatch;
  /** From `-m conntrack --ctstate` or `-m state --state`. */
  states?: Negatable<string[]>;
  /** REJECT's `--reject-with` (e.g. tcp-reset, icmp-port-unreachable). */
  rejectWith?: string;
  /** `-m comment --comment`. */
  comment?: string;
  /** 1-based line of the input this rule came from. */
  line: number;
  text: string;
}

/** `--name value` inside a match module or after the target; value is '' for flags, words joined by a space. */
export interface IptablesOption {
  name: string;
  value: string;
  negated: boolean;
}

export interface IptablesMatch {
  /** The `-m` module (tcp, udp, multiport, conntrack, comment...). */
  module: string;
  options: IptablesOption[];
}

export interface PacketCounters {
  packets: number;
  bytes: number;
}

// ------------------------------------------------------------------ iptables -S / iptables-save

export interface IptablesSpecChain {
  table?: string;
  name: string;
  /** Policy of a built-in chain (ACCEPT/DROP); absent for user chains (`-N`, or `-` in iptables-save). */
  policy?: string;
  /** iptables-save `[packets:bytes]`, or `-c` with `-S -v`. */
  counters?: PacketCounters;
}

export interface IptablesSpecRule extends IptablesRuleCore {
  /** `-f`: only second and later fragments. */
  fragment?: Negatable<boolean>;
  matches: IptablesMatch[];
  /** Options after the target, e.g. reject-with, to-destination. */
  targetOptions: IptablesOption[];
  /** `-g` instead of `-j`. */
  goto: boolean;
  counters?: PacketCounters;
}

export interface IptablesSave {
  /** Tables in order of `*name` lines (empty for plain `iptables -S`). */
  tables: string[];
  chains: IptablesSpecChain[];
  rules: IptablesSpecRule[];
  problems: ParseProblem[];
}

interface Word {
  text: string;
  /** Quoted words are always values, even when they start with a dash. */
  quoted: boolean;
}

/** Words of one iptables-save line: whitespace separates, "..." groups, \" and \\ escape inside quotes. */
function splitWords(line: string): Word[] | string {
  const words: Word[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i])) {
      i++;
      continue;
    }
    let text = '';
    let quoted = false;
    while (i < line.length && !/\s/.test(line[i])) {
      if (line[i] === '"') {
        quoted = true;
        i++;
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < line.length) i++;
          text += line[i++];
        }
        if (i >= line.length) return 'unclosed double quote';
        i++;
      } else text += line[i++];
    }
    words.push({ text, quoted });
  }
  return words;
}

const isOptionWord = (word: Word) => !word.quoted && /^--?[A-Za-z]/.test(word.text);
const isBang = (word: Word) => !word.quoted && word.text === '!';

/**
 * Parses `iptables -S`, `iptables -t nat -S`, `iptables -S -v` and `iptables-save [-c]` output.
 * Lines it cannot read become problems; `#` lines (iptables-save headers, "### ..." banners of
 * combined outputs) and COMMIT are skipped. `options.table` names the table when the text has no
 * `*table` line (plain `iptables -S` does not say which table it shows).
 */
export function parseIptablesSave(text: string, options: { table?: string } = {}): IptablesSave {
  const result: IptablesSave = { tables: [], chains: [], rules: [], problems: [] };
  let table = options.table;
  for (const { line, text: raw } of numberedLines(text)) {
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#') || trimmed === 'COMMIT') continue;
    const problem = (reason: string) => result.problems.push({ line, text: raw, reason });
    if (trimmed.startsWith('*')) {
      table = trimmed.slice(1);
      result.tables.push(table);
      continue;
    }
    let counters: PacketCounters | undefined;
    let body = trimmed;
    const saveCounters = /^\[(\d+):(\d+)\]\s+(.*)$/.exec(trimmed); // iptables-save -c puts them first
    if (saveCounters) {
      counters = { packets: Number(saveCounters[1]), bytes: Number(saveCounters[2]) };
      body = saveCounters[3];
    }
    if (body.startsWith(':')) {
      const chain = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?$/.exec(body);
      if (!chain) {
        problem('unreadable chain line');
        continue;
      }
      result.chains.push({
        ...(table !== undefined && { table }),
        name: chain[1],
        ...(chain[2] !== '-' && { policy: chain[2] }),
        ...(chain[3] !== undefined && { counters: { packets: Number(chain[3]), bytes: Number(chain[4]) } }),
      });
      continue;
    }
    const words = splitWords(body);
    if (typeof words === 'string') {
      problem(words);
      continue;
    }
    const command = words[0]?.text;
    if (command === '-P' || command === '-N') {
      const name = words[1]?.text;
      if (!name || (command === '-P' && !words[2])) {
        problem(`${command} without a chain${command === '-P' ? ' and policy' : ''}`);
        continue;
      }
      const chain: IptablesSpecChain = { ...(table !== undefined && { table }), name };
      if (command === '-P') chain.policy = words[2].text;
      const c = words.findIndex((w) => w.text === '-c' || w.text === '--set-counters');
      if (c > 0 && /^\d+$/.test(words[c + 1]?.text ?? '') && /^\d+$/.test(words[c + 2]?.text ?? '')) {
        chain.counters = { packets: Number(words[c + 1].text), bytes: Number(words[c + 2].text) };
      }
      result.chains.push(chain);
      continue;
    }
    if (command === '-A' || command === '--append' || command === '-I' || command === '--insert') {
      // `-I CHAIN 3 ...` (as typed) carries a position before the rule
      const start = (command === '-I' || command === '--insert') && /^\d+$/.test(words[2]?.text ?? '') ? 3 : 2;
      const rule = readRuleSpec(words.slice(start), words[1]?.text, table, line, raw);
      if (typeof rule === 'string') problem(rule);
      else {
        if (counters && !rule.counters) rule.counters = counters;
        result.rules.push(rule);
      }
      continue;
    }
    problem('not a chain, policy or rule line');
  }
  return result;
}

function readRuleSpec(words: Word[], chain: string | undefined, table: string | undefined, line: number, text: string): IptablesSpecRule | string {
  if (!chain) return 'rule without a chain name';
  const rule: IptablesSpecRule = { ...(table !== undefined && { table }), chain, matches: [], targetOptions: [], goto: false, line, text };
  // options after -m belong to that module, options after -j to the target
  let context: IptablesOption[] | undefined;
  let negated = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (isBang(word)) {
      negated = true;
      continue;
    }
    if (!isOptionWord(word)) return `unexpected word "${word.text}"`;
    const value = () => {
      const next = words[i + 1];
      if (!next || (isOptionWord(next) && !/^-\d/.test(next.text)) || isBang(next)) return undefined;
      i++;
      return next.text;
    };
    const need = (name: string) => {
      const v = value();
      if (v === undefined) throw new RuleError(`${name} without a value`);
      return v;
    };
    try {
      switch (word.text) {
        case '-s': case '--source': rule.source = { value: need(word.text), negated }; break;
        case '-d': case '--destination': rule.destination = { value: need(word.text), negated }; break;
        case '-p': case '--protocol': rule.protocol = { value: need(word.text), negated }; break;
        case '-i': case '--in-interface': rule.inInterface = { value: need(word.text), negated }; break;
        case '-o': case '--out-interface': rule.outInterface = { value: need(word.text), negated }; break;
        case '-f': case '--fragment': rule.fragment = { value: true, negated }; break;
        case '-m': case '--match': {
          const match: IptablesMatch = { module: need(word.text), options: [] };
          rule.matches.push(match);
          context = match.options;
          break;
        }
        case '-j': case '--jump': case '-g': case '--goto':
          rule.target = need(word.text);
          rule.goto = word.text === '-g' || word.text === '--goto';
          context = rule.targetOptions;
          break;
        case '-c': case '--set-counters': {
          const packets = need(word.text);
          const bytes = need(word.text);
          rule.counters = { packets: Number(packets), bytes: Number(bytes) };
          break;
        }
        default: {
          if (!word.text.startsWith('--')) return `unknown option ${word.text}`;
          const values: string[] = [];
          for (let v = value(); v !== undefined; v = value()) values.push(v);
          if (!context) {
            // `-p tcp --dport 80` as typed by hand: iptables loads the protocol's match implicitly
            const match: IptablesMatch = { module: rule.protocol?.value ?? '', options: [] };
            rule.matches.push(match);
            context = match.options;
          }
          context.push({ name: word.text.slice(2), value: values.join(' '), negated });
        }
      }
    } catch (error) {
      if (error instanceof RuleError) return error.message;
      throw error;
    }
    negated = false;
  }
  if (negated) return 'dangling "!"';
  deriveSpecFields(rule);
  return rule;
}

class RuleError extends Error {}

const PORT_MODULES = new Set(['tcp', 'udp', 'sctp', 'dccp', 'udplite']);

function deriveSpecFields(rule: IptablesSpecRule): void {
  for (const match of rule.matches) {
    for (const option of match.options) {
      const name = option.name;
      if (PORT_MODULES.has(match.module) && (name === 'dport' || name === 'destination-port')) rule.destinationPorts = portMatch(option.value, option.negated);
      else if (PORT_MODULES.has(match.module) && (name === 'sport' || name === 'source-port')) rule.sourcePorts = portMatch(option.value, option.negated);
      else if (match.module === 'multiport' && (name === 'dports' || name === 'destination-ports')) rule.destinationPorts = portMatch(option.value, option.negated);
      else if (match.module === 'multiport' && (name === 'sports' || name === 'source-ports')) rule.sourcePorts = portMatch(option.value, option.negated);
      else if ((match.module === 'conntrack' && name === 'ctstate') || (match.module === 'state' && name === 'state')) rule.states = { value: option.value.split(','), negated: option.negated };
      else if (match.module === 'comment' && name === 'comment') rule.comment = option.value;
    }
  }
  const rejectWith = rule.targetOptions.find((o) => o.name === 'reject-with');
  if (rule.target === 'REJECT' && rejectWith) rule.rejectWith = rejectWith.value;
}

/**
 * "8081", "1024:65535", ":1024", "1024:" (open ends), or multiport's "80,443,8000:8100".
 * Port names (only without -n) give an empty list: unknown, not "no port".
 */
function portMatch(text: string, negated: boolean): PortMatch {
  let value = text;
  if (value.startsWith('!')) {
    negated = !negated;
    value = value.slice(1);
  }
  const ranges: PortRange[] = [];
  for (const part of value.split(',')) {
    const range = /^(\d*)(?::(\d*))?$/.exec(part);
    if (!range || (range[1] === '' && range[2] === undefined)) return { ranges: [], negated };
    const from = range[1] === '' ? 0 : Number(range[1]);
    const to = range[2] === undefined ? from : range[2] === '' ? 65535 : Number(range[2]);
    ranges.push({ from, to });
  }
  return { ranges, negated };
}

// ------------------------------------------------------------------ iptables -nvL

export interface IptablesListChain {
  /** From the caller's `table` option (the -L output does not say). */
  table?: string;
  name: string;
  /** Built-in chains: "(policy ACCEPT 12 packets, 3400 bytes)". */
  policy?: string;
  policyCounters?: PacketCounters;
  /** User chains: "(2 references)". */
  references?: number;
  line: number;
}

/** The columns as printed, before any reading. */
export interface IptablesListColumns {
  num?: string;
  pkts?: string;
  bytes?: string;
  target: string;
  prot: string;
  opt: string;
  in?: string;
  out?: string;
  source: string;
  destination: string;
  /** Everything after the destination column (module and target details), trimmed. */
  extra: string;
}

export interface IptablesListRule extends IptablesRuleCore {
  /** With --line-numbers. */
  num?: number;
  /** With -v. Without -x, counters above 99999 are rounded to K/M/G/T (powers of 1000). */
  packets?: number;
  bytes?: number;
  /** True when a counter was printed with a K/M/G/T suffix (so it is rounded). */
  countersRounded: boolean;
  columns: IptablesListColumns;
  fragment?: Negatable<boolean>;
  /** The `key:value` and `keyword value` items of the extra text, e.g. dpt:8081, reject-with tcp-reset, to:10.0.1.4:53. */
  extraOptions: IptablesOption[];
}

export interface IptablesList {
  chains: IptablesListChain[];
  rules: IptablesListRule[];
  problems: ParseProblem[];
}

const SUFFIX: Record<string, number> = { K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** "123", "12K", "3M" (iptables divides by 1000 per step, rounding) -> number and whether rounded. */
export function parseIptablesCounter(text: string): { value: number; rounded: boolean } | undefined {
  const match = /^(\d+)([KMGT]?)$/.exec(text);
  if (!match) return undefined;
  return { value: Number(match[1]) * (match[2] ? SUFFIX[match[2]] : 1), rounded: match[2] !== '' };
}

const CHAIN_POLICY = /^Chain (\S+) \(policy (\S+)(?: (\S+) packets, (\S+) bytes)?\)\s*$/;
const CHAIN_REFS = /^Chain (\S+) \((\d+) references?\)\s*$/;
const KNOWN_COLUMNS = new Set(['num', 'pkts', 'bytes', 'target', 'prot', 'opt', 'in', 'out', 'source', 'destination']);
const OPT_VALUES = new Set(['--', '-f', '!f']);

/**
 * Parses `iptables [-t table] -L -n [-v] [-x] [--line-numbers]` output. The header line under each
 * chain says which columns follow; rule lines are read by those columns and the rest of the line
 * is the extra text. `#` lines (warnings of iptables-nft, "### ..." banners) are skipped.
 */
export function parseIptablesList(text: string, options: { table?: string } = {}): IptablesList {
  const result: IptablesList = { chains: [], rules: [], problems: [] };
  let chain: IptablesListChain | undefined;
  let columns: string[] | undefined;
  for (const { line, text: raw } of numberedLines(text)) {
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const problem = (reason: string) => result.problems.push({ line, text: raw, reason });
    if (trimmed.startsWith('Chain ')) {
      columns = undefined;
      const policy = CHAIN_POLICY.exec(trimmed);
      const refs = CHAIN_REFS.exec(trimmed);
      if (policy) {
        chain = { ...(options.table !== undefined && { table: options.table }), name: policy[1], policy: policy[2], line };
        if (policy[3] !== undefined) {
          const packets = parseIptablesCounter(policy[3]);
          const bytes = parseIptablesCounter(policy[4]);
          if (packets && bytes) chain.policyCounters = { packets: packets.value, bytes: bytes.value };
        }
      } else if (refs) {
        chain = { ...(options.table !== undefined && { table: options.table }), name: refs[1], references: Number(refs[2]), line };
      } else {
        chain = undefined;
        problem('unreadable chain header');
        continue;
      }
      result.chains.push(chain);
      continue;
    }
    const words = trimmed.split(/\s+/);
    if (words.includes('target') && words.includes('source') && words.every((w) => KNOWN_COLUMNS.has(w))) {
      columns = words;
      continue;
    }
    if (!chain || !columns) {
      problem('rule line outside a chain (no "Chain" or column header before it)');
      continue;
    }
    const rule = readListRule(raw, columns, chain, options.table, line);
    if (typeof rule === 'string') problem(rule);
    else result.rules.push(rule);
  }
  return result;
}

function readListRule(raw: string, columns: string[], chain: IptablesListChain, table: string | undefined, line: number): IptablesListRule | string {
  // An empty target column (a rule without -j) leaves no word, so locate it by the opt column,
  // which is always one of --, -f, !f in IPv4 output.
  const targetIndex = columns.indexOf('target');
  const probe = raw.trim().split(/\s+/);
  const hasOpt = columns.includes('opt');
  let present = columns;
  if (hasOpt && OPT_VALUES.has(probe[targetIndex + 1] ?? '') && !OPT_VALUES.has(probe[targetIndex + 2] ?? '')) {
    present = columns.filter((c) => c !== 'target');
  }
  const { words, rest } = takeWords(raw, present.length);
  if (words.length < present.length) return `expected ${present.length} columns, found ${words.length}`;
  const cell = (name: string) => {
    const index = present.indexOf(name);
    return index === -1 ? undefined : words[index];
  };
  const column: IptablesListColumns = {
    target: cell('target') ?? '',
    prot: cell('prot') ?? '',
    opt: cell('opt') ?? '',
    source: cell('source') ?? '',
    destination: cell('destination') ?? '',
    extra: rest.trim(),
  };
  for (const name of ['num', 'pkts', 'bytes', 'in', 'out'] as const) {
    const value = cell(name);
    if (value !== undefined) column[name] = value;
  }
  const rule: IptablesListRule = {
    ...(table !== undefined && { table }),
    chain: chain.name,
    countersRounded: false,
    columns: column,
    extraOptions: [],
    line,
    text: raw,
  };
  if (column.num !== undefined) {
    if (!/^\d+$/.test(column.num)) return `rule number "${column.num}" is not a number`;
    rule.num = Number(column.num);
  }
  if (column.pkts !== undefined && column.bytes !== undefined) {
    const packets = parseIptablesCounter(column.pkts);
    const bytes = parseIptablesCounter(column.bytes);
    if (!packets || !bytes) return `counters "${column.pkts} ${column.bytes}" are not numbers`;
    rule.packets = packets.value;
    rule.bytes = bytes.value;
    rule.countersRounded = packets.rounded || bytes.rounded;
  }
  if (column.target) rule.target = column.target;
  const negatable = (text: string, any: string[]): Negatable | undefined =>
    any.includes(text) ? undefined : text.startsWith('!') ? { value: text.slice(1), negated: true } : { value: text, negated: false };
  const protocol = negatable(column.prot, ['all', '0']);
  if (protocol) rule.protocol = protocol;
  const source = negatable(column.source, ['0.0.0.0/0', '::/0']);
  if (source) rule.source = source;
  const destination = negatable(column.destination, ['0.0.0.0/0', '::/0']);
  if (destination) rule.destination = destination;
  const inInterface = column.in === undefined ? undefined : negatable(column.in, ['*']);
  if (inInterface) rule.inInterface = inInterface;
  const outInterface = column.out === undefined ? undefined : negatable(column.out, ['*']);
  if (outInterface) rule.outInterface = outInterface;
  if (column.opt === '-f' || column.opt === '!f') rule.fragment = { value: true, negated: column.opt === '!f' };
  readExtra(column.extra, rule);
  return rule;
}

/** Keywords of the -L extra text that take the next word as their value. */
const EXTRA_KEYWORDS = new Set([
  'reject-with', 'ctstate', 'state', 'ctstatus', 'ctdir', 'dports', 'sports', 'ports', 'icmptype', 'icmpv6type',
  'dst-type', 'src-type', 'prefix', 'level', 'match-set', 'ctorigsrc', 'ctorigdst', 'ctreplsrc', 'ctrepldst', 'mark', 'set',
]);

function readExtra(extra: string, rule: IptablesListRule): void {
  // comments print as /* text */ and may hold anything, so take them out first
  const withoutComments = extra.replace(/\/\*\s?(.*?)\s?\*\//g, (_all, comment: string) => {
    rule.comment = comment;
    return ' ';
  });
  const words = withoutComments.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  let negated = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === '!') {
      negated = true;
      continue;
    }
    const pair = /^([a-z][a-z0-9-]*):(.*)$/i.exec(word);
    if (pair) {
      let value = pair[2];
      let pairNegated = negated;
      if (value.startsWith('!')) {
        pairNegated = !pairNegated;
        value = value.slice(1);
      }
      rule.extraOptions.push({ name: pair[1], value, negated: pairNegated });
    } else if (EXTRA_KEYWORDS.has(word) && i + 1 < words.length) {
      let value = words[++i];
      let valueNegated = negated;
      if (value === '!' && i + 1 < words.length) {
        valueNegated = !valueNegated;
        value = words[++i];
      } else if (value.startsWith('!')) {
        valueNegated = !valueNegated;
        value = value.slice(1);
      }
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
      rule.extraOptions.push({ name: word, value, negated: valueNegated });
    }
    negated = false;
  }
  for (const option of rule.extraOptions) {
    if (option.name === 'dpt' || option.name === 'dpts' || option.name === 'dports') rule.destinationPorts = portMatch(option.value, option.negated);
    else if (option.name === 'spt' || option.name === 'spts' || option.name === 'sports') rule.sourcePorts = portMatch(option.value, option.negated);
    else if (option.name === 'ctstate' || option.name === 'state') rule.states = { value: option.value.split(','), negated: option.negated };
    else if (option.name === 'reject-with' && rule.target === 'REJECT') rule.rejectWith = option.value;
  }
}

// ------------------------------------------------------------------ which rules stop a flow

export interface Flow {
  src: string;
  dst: string;
  /** tcp, udp, icmp, or a protocol number. */
  proto: string;
  dport?: number;
}

const PROTOCOL_NUMBERS: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'ipv6-icmp', '132': 'sctp', '136': 'udplite', '33': 'dccp' };
const protocolName = (name: string) => {
  const lower = name.toLowerCase();
  const named = PROTOCOL_NUMBERS[lower] ?? lower;
  return named === 'icmpv6' ? 'ipv6-icmp' : named;
};

/**
 * The REJECT and DROP rules whose conditions the flow meets, in input order: protocol, source and
 * destination (IPv4 CIDR containment; other addresses only by equal text), destination port, each
 * with its `!` negation. A rule that restricts ports does not match a flow without dport.
 *
 * NOT evaluated (such conditions never exclude a rule, so read the result as "may stop the flow"):
 * in/out interfaces, conntrack/state, source ports, fragments, every other match module (mark,
 * addrtype, set, limit, recent, icmp type, tcp flags, multiport `--ports`), whether anything jumps
 * to the rule's chain, rule order (an earlier ACCEPT or RETURN may let the flow through first),
 * chain policies, and which table or hook (INPUT vs FORWARD vs OUTPUT) the flow passes.
 */
export function rulesMatchingFlow<R extends IptablesRuleCore>(rules: readonly R[], flow: Flow): R[] {
  return rules.filter((rule) => (rule.target === 'REJECT' || rule.target === 'DROP') && flowMeets(rule, flow));
}

function flowMeets(rule: IptablesRuleCore, flow: Flow): boolean {
  if (rule.protocol && (protocolName(rule.protocol.value) === protocolName(flow.proto)) === rule.protocol.negated) return false;
  if (rule.source && addressMatches(rule.source.value, flow.src) === rule.source.negated) return false;
  if (rule.destination && addressMatches(rule.destination.value, flow.dst) === rule.destination.negated) return false;
  if (rule.destinationPorts) {
    if (flow.dport === undefined || rule.destinationPorts.ranges.length === 0) return false;
    const port = flow.dport;
    const inside = rule.destinationPorts.ranges.some((r) => port >= r.from && port <= r.to);
    if (inside === rule.destinationPorts.negated) return false;
  }
  return true;
}

function addressMatches(ruleAddress: string, address: string): boolean {
  const cidr = parseIpv4Cidr(ruleAddress);
  if (cidr) return ipv4InCidr(address, cidr) === true;
  const host = ruleAddress.replace(/\/128$/, '');
  return host.toLowerCase() === address.toLowerCase();
}
