// Firewall rules that stop a flow: REJECT/DROP rules in the chains the flow passes, with their
// exact packet counters, read in both iptables backends.
import { iptablesCountersCommand } from '../netns/catalog';
import type { IptablesListRule } from '../netns/parsers';
import { rulesMatchingFlow, type Flow } from '../netns/parsers/iptables';
import type { CommandRunner } from '../netns/runner';
import { describeTarget, type Target } from '../netns/target';
import { commandEvidence, type Evidence } from './findings';

export interface FirewallRule {
  backend: 'nft' | 'legacy';
  chain: string;
  num?: number;
  target: string;
  packets?: number;
  /** The rule as iptables -nvL prints it. */
  text: string;
  rejectWith?: string;
}

export interface FirewallReading {
  target: Target;
  where: string;
  rules: (IptablesListRule & { backend: 'nft' | 'legacy' })[];
  evidence: Evidence;
  /** Why it could not be read (tool missing, no rights). */
  problem?: string;
}

export async function readFirewall(runner: CommandRunner, target: Target, signal?: AbortSignal): Promise<FirewallReading> {
  const command = iptablesCountersCommand('filter');
  const where = describeTarget(target);
  try {
    const result = await runner.run({ target, command, signal });
    const evidence = commandEvidence(result, where, `iptables filter table in ${where}`);
    if (result.exitCode !== 0) return { target, where, rules: [], evidence, problem: result.explanation ?? `iptables exited with ${result.exitCode}: ${result.stderr.trim().split('\n')[0] ?? ''}` };
    const sections = command.parse!(result.stdout);
    const rules = sections.flatMap((section) => (section.parsed?.rules ?? []).map((rule) => ({ ...rule, backend: section.backend })));
    return { target, where, rules, evidence };
  } catch (error) {
    if (signal?.aborted) throw error;
    const message = (error as Error).message;
    return { target, where, rules: [], evidence: { kind: 'note', title: `iptables in ${where}`, text: message }, problem: message };
  }
}

/**
 * REJECT/DROP rules matching the flow in the given built-in chains, plus user chains (we cannot
 * tell from a listing which built-in chain jumps there, so they count as possible).
 */
export function blockingRules(reading: FirewallReading, flow: Flow, chains: readonly string[]): FirewallRule[] {
  const builtIn = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);
  // A rule bound to an interface (docker's bridge isolation, say) is about other traffic: we do not
  // know the flow's interface here, so such rules are not counted as blocking it.
  const anyInterface = (r: IptablesListRule) => (!r.inInterface || r.inInterface.negated || r.inInterface.value === '*') && (!r.outInterface || r.outInterface.negated || r.outInterface.value === '*');
  const candidates = reading.rules.filter((r) => (chains.includes(r.chain) || !builtIn.has(r.chain)) && anyInterface(r));
  return rulesMatchingFlow(candidates, flow).map((rule) => ({
    backend: rule.backend,
    chain: rule.chain,
    num: rule.num,
    target: rule.target ?? '',
    packets: rule.packets,
    text: ruleText(rule),
    rejectWith: rule.rejectWith,
  }));
}

function ruleText(rule: IptablesListRule): string {
  const c = rule.columns;
  const iface = [c.in && c.in !== '*' ? `in ${c.in}` : '', c.out && c.out !== '*' ? `out ${c.out}` : ''].filter(Boolean).join(' ');
  const prot = ({ '6': 'tcp', '17': 'udp', '1': 'icmp', '0': 'all' } as Record<string, string>)[c.prot] ?? c.prot;
  return [c.target, prot, iface, `${c.source} -> ${c.destination}`, c.extra].filter(Boolean).join(' ');
}

/** "INPUT #1 (nft): REJECT tcp -- 10.0.1.3 0.0.0.0/0 tcp dpt:8081 reject-with tcp-reset — 3 packets" */
export function describeRule(rule: FirewallRule, before?: FirewallRule, options: { counters?: boolean } = {}): string {
  const base = `${rule.chain}${rule.num !== undefined ? ` #${rule.num}` : ''} (iptables-${rule.backend}): ${rule.text.replace(/\s+/g, ' ')}`;
  if (options.counters === false || rule.packets === undefined) return base;
  const moved = before?.packets !== undefined ? ` (+${rule.packets - before.packets} during the probe)` : '';
  return `${base} — ${rule.packets} packets${moved}`;
}

/** The same rule in a later reading (by backend, chain and text: numbers shift when rules are added). */
export function sameRule(rules: readonly FirewallRule[], rule: FirewallRule): FirewallRule | undefined {
  const key = (r: FirewallRule) => `${r.backend} ${r.chain} ${r.text}`;
  return rules.find((r) => key(r) === key(rule));
}
