// iptables parsers on outputs recorded on the lab swarm (see test/fixtures/netns/README.md for how,
// where and when). Values asserted here were read from the recordings and the lab at the time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  parseIptablesCounter,
  parseIptablesList,
  parseIptablesSave,
  rulesMatchingFlow,
  type IptablesListRule,
  type IptablesRuleCore,
} from '../../../src/netns/parsers';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/netns');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

/** The fields both forms share, to compare a -S rule with its -L twin. */
const core = (rule: IptablesRuleCore) => ({
  chain: rule.chain,
  target: rule.target,
  destinationPorts: rule.destinationPorts,
  sourcePorts: rule.sourcePorts,
  states: rule.states,
  rejectWith: rule.rejectWith,
  comment: rule.comment,
  sourceNegated: rule.source?.negated,
  destinationNegated: rule.destination?.negated,
  in: rule.inInterface,
  out: rule.outInterface,
});

describe('parseIptablesSave: the task namespace during the incident (swarm00, schemaregistry 10.0.1.10)', () => {
  const parsed = parseIptablesSave(fixture('swarm00-task-schemaregistry-iptables-S.txt'));

  it('reads policies, the user chain and all 9 rules without problems', () => {
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.tables, [], 'iptables -S does not name its table');
    assert.deepEqual(
      parsed.chains.map((c) => [c.name, c.policy]),
      [['INPUT', 'ACCEPT'], ['FORWARD', 'ACCEPT'], ['OUTPUT', 'ACCEPT'], ['SWARM-DOCTOR-FIXTURE', undefined]],
    );
    assert.equal(parsed.rules.length, 9);
  });

  it('reads the REJECT rule for sourcemysql (10.0.1.4): source, protocol, port, comment, target and --reject-with', () => {
    const reject = parsed.rules[0];
    assert.equal(reject.chain, 'INPUT');
    assert.deepEqual(reject.source, { value: '10.0.1.4/32', negated: false });
    assert.deepEqual(reject.protocol, { value: 'tcp', negated: false });
    assert.deepEqual(reject.destinationPorts, { ranges: [{ from: 8081, to: 8081 }], negated: false });
    assert.equal(reject.comment, 'swarm-doctor fixture');
    assert.equal(reject.target, 'REJECT');
    assert.equal(reject.rejectWith, 'tcp-reset');
    assert.deepEqual(reject.targetOptions, [{ name: 'reject-with', value: 'tcp-reset', negated: false }]);
    assert.deepEqual(reject.matches.map((m) => m.module), ['tcp', 'comment']);
    assert.equal(reject.line, 5);
  });

  it('reads negations: "! -s", "! -o", "! --dport", "! -d", "! --sport"', () => {
    const [, dnsDrop, , returnRule, , , , noTarget, sportDrop] = parsed.rules;
    assert.deepEqual(dnsDrop.source, { value: '10.0.1.0/24', negated: true });
    assert.deepEqual(dnsDrop.destinationPorts, { ranges: [{ from: 53, to: 53 }], negated: false });
    assert.deepEqual(returnRule.inInterface, { value: 'eth0', negated: false });
    assert.deepEqual(returnRule.outInterface, { value: 'lo', negated: true });
    assert.deepEqual(returnRule.sourcePorts, { ranges: [{ from: 1024, to: 65535 }], negated: false });
    assert.deepEqual(returnRule.destinationPorts, { ranges: [{ from: 22, to: 22 }], negated: true });
    assert.deepEqual(noTarget.destination, { value: '10.0.1.4/32', negated: true });
    assert.deepEqual(sportDrop.sourcePorts, { ranges: [{ from: 53, to: 53 }], negated: true });
  });

  it('reads multiport, conntrack, icmp, tcp-flags and LOG options, quoted values included', () => {
    const [, , multiport, , icmp, related, log] = parsed.rules;
    assert.deepEqual(multiport.destinationPorts?.ranges, [{ from: 80, to: 80 }, { from: 443, to: 443 }, { from: 8000, to: 8100 }]);
    assert.deepEqual(multiport.states, { value: ['NEW'], negated: false });
    assert.deepEqual(icmp.matches, [{ module: 'icmp', options: [{ name: 'icmp-type', value: '8', negated: false }] }]);
    assert.deepEqual(icmp.destination, { value: '10.99.0.0/24', negated: false });
    assert.equal(icmp.rejectWith, 'icmp-host-prohibited');
    assert.deepEqual(related.states?.value, ['RELATED', 'ESTABLISHED']);
    assert.equal(related.comment, 'has "quotes" and spaces');
    assert.deepEqual(log.matches[0].options, [{ name: 'tcp-flags', value: 'FIN,SYN,RST,ACK SYN', negated: false }]);
    assert.equal(log.target, 'LOG');
    assert.deepEqual(log.targetOptions, [{ name: 'log-prefix', value: 'swarm doctor: ', negated: false }]);
  });

  it('keeps a rule without -j (it only counts): no target', () => {
    const noTarget = parsed.rules[7];
    assert.equal(noTarget.target, undefined);
    assert.deepEqual(noTarget.source, { value: '10.0.1.0/24', negated: false });
  });

  it('iptables-nft -S gives the same rules as iptables -S (the lab default backend is nft)', () => {
    assert.deepEqual(parseIptablesSave(fixture('swarm00-task-schemaregistry-iptables-nft-S.txt')), parsed);
  });

  it('iptables-legacy has only the empty built-in chains (docker writes with nft here)', () => {
    const legacy = parseIptablesSave(fixture('swarm00-task-schemaregistry-iptables-legacy-S.txt'));
    assert.deepEqual([legacy.chains.length, legacy.rules.length, legacy.problems.length], [3, 0, 0]);
    const legacySave = parseIptablesSave(fixture('swarm00-task-schemaregistry-iptables-legacy-save.txt'));
    assert.deepEqual(legacySave.tables, ['filter']);
    assert.deepEqual(legacySave.chains.map((c) => `${c.table}/${c.name}:${c.policy}`), ['filter/INPUT:ACCEPT', 'filter/FORWARD:ACCEPT', 'filter/OUTPUT:ACCEPT']);
  });

  it('after the cleanup only the three policies are left', () => {
    const after = parseIptablesSave(fixture('swarm00-task-schemaregistry-iptables-S-after-cleanup.txt'));
    assert.deepEqual(after.rules, []);
    assert.deepEqual(after.chains.map((c) => c.name), ['INPUT', 'FORWARD', 'OUTPUT']);
  });
});

describe('parseIptablesSave: iptables-save with tables and counters', () => {
  const saved = parseIptablesSave(fixture('swarm00-task-schemaregistry-iptables-save-c.txt'));

  it('reads both tables, tags chains and rules with their table, skips # and COMMIT lines', () => {
    assert.deepEqual(saved.problems, []);
    assert.deepEqual(saved.tables, ['filter', 'nat']);
    assert.equal(saved.rules.filter((r) => r.table === 'filter').length, 9);
    assert.equal(saved.rules.filter((r) => r.table === 'nat').length, 6);
    const user = saved.chains.find((c) => c.name === 'SWARM-DOCTOR-FIXTURE');
    assert.deepEqual(user, { table: 'filter', name: 'SWARM-DOCTOR-FIXTURE', counters: { packets: 0, bytes: 0 } });
  });

  it('reads the [packets:bytes] prefix: the REJECT rule counted the 3 refused SYNs (3 x 60 bytes)', () => {
    const reject = saved.rules.find((r) => r.target === 'REJECT' && r.chain === 'INPUT');
    assert.deepEqual(reject?.counters, { packets: 3, bytes: 180 });
  });

  it("reads docker's embedded-DNS NAT in the task: DNAT --to-destination and SNAT --to-source :53", () => {
    const nat = saved.rules.filter((r) => r.table === 'nat');
    assert.deepEqual(
      nat.map((r) => [r.chain, r.target, r.targetOptions.map((o) => `${o.name}=${o.value}`).join(' ')]),
      [
        ['OUTPUT', 'DOCKER_OUTPUT', ''],
        ['POSTROUTING', 'DOCKER_POSTROUTING', ''],
        ['DOCKER_OUTPUT', 'DNAT', 'to-destination=127.0.0.11:43727'],
        ['DOCKER_OUTPUT', 'DNAT', 'to-destination=127.0.0.11:60205'],
        ['DOCKER_POSTROUTING', 'SNAT', 'to-source=:53'],
        ['DOCKER_POSTROUTING', 'SNAT', 'to-source=:53'],
      ],
    );
    assert.deepEqual(nat[2].destination, { value: '127.0.0.11/32', negated: false });
  });

  it('iptables-save without -c gives the same rules, without counters', () => {
    const plain = parseIptablesSave(fixture('swarm00-task-schemaregistry-iptables-save.txt'));
    assert.equal(plain.rules.length, 15);
    assert.ok(plain.rules.every((r) => r.counters === undefined));
    assert.deepEqual(plain.rules.map(core), saved.rules.map(core));
  });

  it('the caller names the table of plain -S output', () => {
    const nat = parseIptablesSave(fixture('swarm00-task-schemaregistry-iptables-t-nat-S.txt'), { table: 'nat' });
    assert.ok(nat.rules.length === 6 && nat.rules.every((r) => r.table === 'nat'));
    assert.ok(nat.chains.every((c) => c.table === 'nat'));
  });
});

describe("parseIptablesSave: a node's host namespace (docker's chains)", () => {
  it('reads FORWARD policy DROP and the DOCKER rule for the published port 8081 (swarm00, pass 5)', () => {
    const host = parseIptablesSave(fixture('swarm00-host-iptables-S.txt'));
    assert.deepEqual(host.problems, []);
    assert.equal(host.chains.find((c) => c.name === 'FORWARD')?.policy, 'DROP');
    const docker = host.rules.filter((r) => r.chain === 'DOCKER');
    assert.equal(docker.length, 1);
    assert.deepEqual(docker[0].destination, { value: '172.18.0.4/32', negated: false });
    assert.deepEqual(docker[0].inInterface, { value: 'docker_gwbridge', negated: true });
    assert.deepEqual(docker[0].outInterface, { value: 'docker_gwbridge', negated: false });
    assert.deepEqual(docker[0].destinationPorts?.ranges, [{ from: 8081, to: 8081 }]);
  });

  it('reads the nat table: addrtype match and the DNAT of host port 8081 to the task on docker_gwbridge', () => {
    const save = parseIptablesSave(fixture('swarm00-host-iptables-save.txt'));
    assert.deepEqual(save.problems, []);
    const prerouting = save.rules.find((r) => r.table === 'nat' && r.chain === 'PREROUTING');
    assert.deepEqual(prerouting?.matches, [{ module: 'addrtype', options: [{ name: 'dst-type', value: 'LOCAL', negated: false }] }]);
    const output = save.rules.find((r) => r.table === 'nat' && r.chain === 'OUTPUT');
    assert.deepEqual(output?.destination, { value: '127.0.0.0/8', negated: true });
    const dnat = save.rules.find((r) => r.target === 'DNAT');
    assert.deepEqual(dnat?.targetOptions, [{ name: 'to-destination', value: '172.18.0.4:8081', negated: false }]);
  });

  it('reads every recorded -S / iptables-save file without problems', () => {
    for (const name of [
      'swarm02-host-iptables-S.txt', 'swarm02-host-iptables-save.txt', 'swarm00-host-iptables-t-nat-S.txt',
      'swarm02-host-iptables-t-nat-S.txt', 'swarm00-lb_backend-iptables-t-mangle-S.txt',
    ]) {
      const parsed = parseIptablesSave(fixture(name));
      assert.deepEqual(parsed.problems, [], name);
      assert.ok(parsed.chains.length > 0, name);
    }
  });
});

describe('parseIptablesSave: edge cases', () => {
  it('empty output: nothing, no problems', () => {
    assert.deepEqual(parseIptablesSave(''), { tables: [], chains: [], rules: [], problems: [] });
  });

  it('garbage and broken lines are reported with their line numbers; good lines still count', () => {
    const text = ['-P INPUT ACCEPT', 'Warning: something odd', '-A INPUT -s', '-A INPUT -j ACCEPT --comment "unclosed', '-A INPUT ! ', '-A INPUT -j DROP'].join('\n');
    const parsed = parseIptablesSave(text);
    assert.equal(parsed.rules.length, 1);
    assert.equal(parsed.rules[0].target, 'DROP');
    assert.deepEqual(parsed.problems.map((p) => p.line), [2, 3, 4, 5]);
    assert.match(parsed.problems[1].reason, /-s without a value/);
  });

  it('options typed by hand without -m go to an implicit match named after the protocol', () => {
    const parsed = parseIptablesSave('-A INPUT -p udp --dport 4789 -j DROP');
    assert.deepEqual(parsed.rules[0].matches, [{ module: 'udp', options: [{ name: 'dport', value: '4789', negated: false }] }]);
    assert.deepEqual(parsed.rules[0].destinationPorts?.ranges, [{ from: 4789, to: 4789 }]);
  });

  it('reads rules typed as commands: -I with a position', () => {
    const parsed = parseIptablesSave('-I INPUT 1 -s 10.0.1.4/32 -p tcp -m tcp --dport 8081 -j REJECT --reject-with tcp-reset');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual([parsed.rules[0].chain, parsed.rules[0].source?.value, parsed.rules[0].rejectWith], ['INPUT', '10.0.1.4/32', 'tcp-reset']);
  });

  it('reads -S -v counters (-c) and open port ranges', () => {
    const parsed = parseIptablesSave('-P INPUT ACCEPT -c 10 600\n-A INPUT -p tcp -m tcp --dport 1024: -c 5 300 -j ACCEPT');
    assert.deepEqual(parsed.chains[0].counters, { packets: 10, bytes: 600 });
    assert.deepEqual(parsed.rules[0].counters, { packets: 5, bytes: 300 });
    assert.deepEqual(parsed.rules[0].destinationPorts?.ranges, [{ from: 1024, to: 65535 }]);
  });
});

describe('parseIptablesList: iptables -nvL in the task namespace (swarm00)', () => {
  const list = parseIptablesList(fixture('swarm00-task-schemaregistry-iptables-nvL-line-numbers.txt'));

  it('reads chains with policies and policy counters, and user chains with references', () => {
    assert.deepEqual(list.problems, []);
    assert.deepEqual(
      list.chains.map((c) => [c.name, c.policy, c.policyCounters, c.references]),
      [
        ['INPUT', 'ACCEPT', { packets: 0, bytes: 0 }, undefined],
        ['FORWARD', 'ACCEPT', { packets: 0, bytes: 0 }, undefined],
        ['OUTPUT', 'ACCEPT', { packets: 0, bytes: 0 }, undefined],
        ['SWARM-DOCTOR-FIXTURE', undefined, undefined, 0],
      ],
    );
  });

  it('reads the REJECT rule: num 1, 3 packets, 180 bytes, prot printed as "6", reject-with tcp-reset', () => {
    const reject = list.rules[0];
    assert.equal(reject.num, 1);
    assert.equal(reject.packets, 3);
    assert.equal(reject.bytes, 180);
    assert.equal(reject.countersRounded, false);
    assert.equal(reject.target, 'REJECT');
    assert.equal(reject.columns.prot, '6', 'iptables-nft 1.8.9 prints protocol numbers here');
    assert.deepEqual(reject.protocol, { value: '6', negated: false });
    assert.deepEqual(reject.source, { value: '10.0.1.4', negated: false });
    assert.equal(reject.destination, undefined, '0.0.0.0/0 means any');
    assert.equal(reject.inInterface, undefined, '* means any');
    assert.equal(reject.columns.extra, 'tcp dpt:8081 /* swarm-doctor fixture */ reject-with tcp-reset');
    assert.deepEqual(reject.destinationPorts, { ranges: [{ from: 8081, to: 8081 }], negated: false });
    assert.equal(reject.comment, 'swarm-doctor fixture');
    assert.equal(reject.rejectWith, 'tcp-reset');
  });

  it('reads a rule whose target column is empty (no -j), and the "!" of source/destination/interfaces', () => {
    const fixtureRules = list.rules.filter((r) => r.chain === 'SWARM-DOCTOR-FIXTURE');
    const noTarget = fixtureRules[6];
    assert.equal(noTarget.num, 7);
    assert.equal(noTarget.target, undefined);
    assert.equal(noTarget.protocol, undefined, 'prot 0 = all');
    assert.deepEqual(noTarget.source, { value: '10.0.1.0/24', negated: false });
    assert.deepEqual(noTarget.destination, { value: '10.0.1.4', negated: true });
    assert.deepEqual(fixtureRules[0].source, { value: '10.0.1.0/24', negated: true });
    assert.deepEqual(fixtureRules[2].inInterface, { value: 'eth0', negated: false });
    assert.deepEqual(fixtureRules[2].outInterface, { value: 'lo', negated: true });
  });

  it('parses the extra text: spts/dpt:!, multiport dports, ctstate, icmptype, LOG prefix, comment with quotes', () => {
    const [, multiport, ret, icmp, related, log, , sport] = list.rules.filter((r) => r.chain === 'SWARM-DOCTOR-FIXTURE');
    assert.deepEqual(multiport.destinationPorts?.ranges, [{ from: 80, to: 80 }, { from: 443, to: 443 }, { from: 8000, to: 8100 }]);
    assert.deepEqual(multiport.states, { value: ['NEW'], negated: false });
    assert.deepEqual(ret.sourcePorts, { ranges: [{ from: 1024, to: 65535 }], negated: false });
    assert.deepEqual(ret.destinationPorts, { ranges: [{ from: 22, to: 22 }], negated: true });
    assert.deepEqual(icmp.extraOptions, [
      { name: 'icmptype', value: '8', negated: false },
      { name: 'reject-with', value: 'icmp-host-prohibited', negated: false },
    ]);
    assert.equal(icmp.rejectWith, 'icmp-host-prohibited');
    assert.equal(related.comment, 'has "quotes" and spaces');
    assert.deepEqual(related.states?.value, ['RELATED', 'ESTABLISHED']);
    assert.deepEqual(log.extraOptions.find((o) => o.name === 'prefix'), { name: 'prefix', value: 'swarm doctor: ', negated: false });
    assert.deepEqual(log.extraOptions.find((o) => o.name === 'flags'), { name: 'flags', value: '0x17/0x02', negated: false });
    assert.deepEqual(sport.sourcePorts, { ranges: [{ from: 53, to: 53 }], negated: true });
  });

  it('-nvL, -nvL --line-numbers, -nvxL and -nL describe the same rules (-nL without counters)', () => {
    const plain = parseIptablesList(fixture('swarm00-task-schemaregistry-iptables-nvL.txt'));
    const exact = parseIptablesList(fixture('swarm00-task-schemaregistry-iptables-nvxL.txt'));
    const brief = parseIptablesList(fixture('swarm00-task-schemaregistry-iptables-nL.txt'));
    for (const other of [plain, exact, brief]) assert.deepEqual(other.problems, []);
    for (const other of [plain, exact]) assert.deepEqual(other.rules.map(core), list.rules.map(core));
    const withoutInterfaces = (rule: IptablesRuleCore) => ({ ...core(rule), in: undefined, out: undefined });
    assert.deepEqual(brief.rules.map(core), list.rules.map(withoutInterfaces), '-nL prints no in/out columns');
    assert.deepEqual([exact.rules[0].packets, exact.rules[0].bytes], [3, 180]);
    assert.equal(plain.rules[0].num, undefined);
    assert.equal(brief.rules[0].packets, undefined);
    assert.equal(brief.rules[0].columns.in, undefined, '-nL has no in/out columns');
    assert.equal(brief.chains[0].policyCounters, undefined);
  });

  it('the -S and -L forms of the same rules agree on every shared field', () => {
    const spec = parseIptablesSave(fixture('swarm00-task-schemaregistry-iptables-S.txt'));
    const strip = (rule: IptablesRuleCore) => ({ ...core(rule), states: rule.states });
    assert.deepEqual(list.rules.map(strip), spec.rules.map(strip));
  });

  it('the second recording of the incident: 2 refused SYNs from sourcemysql 10.0.1.9', () => {
    const incident = parseIptablesList(fixture('swarm00-task-schemaregistry-iptables-nvL-incident2.txt'));
    assert.deepEqual(incident.chains.map((c) => c.name), ['INPUT']);
    assert.deepEqual([incident.rules[0].packets, incident.rules[0].bytes, incident.rules[0].source?.value], [2, 120, '10.0.1.9']);
  });

  it("reads the task's nat table: DNAT to:127.0.0.11:port and SNAT to::53", () => {
    const nat = parseIptablesList(fixture('swarm00-task-schemaregistry-iptables-t-nat-nvL.txt'), { table: 'nat' });
    assert.deepEqual(nat.problems, []);
    const dnat = nat.rules.filter((r) => r.target === 'DNAT');
    assert.deepEqual(dnat.map((r) => r.extraOptions.find((o) => o.name === 'to')?.value), ['127.0.0.11:43727', '127.0.0.11:60205']);
    const snat = nat.rules.filter((r) => r.target === 'SNAT');
    assert.deepEqual(snat.map((r) => r.extraOptions.find((o) => o.name === 'to')?.value), [':53', ':53']);
    assert.deepEqual(snat[0].sourcePorts?.ranges, [{ from: 43727, to: 43727 }]);
    assert.ok(nat.rules.every((r) => r.table === 'nat'));
    assert.deepEqual(nat.rules.map((r) => r.target).slice(0, 2), ['DOCKER_OUTPUT', 'DOCKER_POSTROUTING']);
  });
});

describe("parseIptablesList: a node's host namespace", () => {
  it('reads long interface names that push the columns apart (docker_gwbridge !docker_gwbridge)', () => {
    const host = parseIptablesList(fixture('swarm00-host-iptables-nvL.txt'));
    assert.deepEqual(host.problems, []);
    assert.equal(host.chains.find((c) => c.name === 'FORWARD')?.policy, 'DROP');
    assert.equal(host.chains.find((c) => c.name === 'DOCKER')?.references, 2);
    const forward = host.rules.filter((r) => r.chain === 'FORWARD');
    assert.equal(forward.length, 10);
    assert.deepEqual([forward[4].target, forward[4].inInterface, forward[4].outInterface], [
      'ACCEPT',
      { value: 'docker_gwbridge', negated: false },
      { value: 'docker_gwbridge', negated: true },
    ]);
    const docker = host.rules.find((r) => r.chain === 'DOCKER');
    assert.deepEqual([docker?.inInterface, docker?.destination?.value], [{ value: 'docker_gwbridge', negated: true }, '172.18.0.4']);
  });

  it('reads the nat PREROUTING counter (15 packets) and "ADDRTYPE match dst-type LOCAL"', () => {
    const nat = parseIptablesList(fixture('swarm00-host-iptables-t-nat-nvL.txt'));
    const prerouting = nat.rules.find((r) => r.chain === 'PREROUTING');
    assert.deepEqual([prerouting?.packets, prerouting?.bytes, prerouting?.target], [15, 1024, 'DOCKER']);
    assert.deepEqual(prerouting?.extraOptions, [{ name: 'dst-type', value: 'LOCAL', negated: false }]);
    const dnat = nat.rules.find((r) => r.target === 'DNAT');
    assert.equal(dnat?.extraOptions.find((o) => o.name === 'to')?.value, '172.18.0.4:8081');
  });

  it('reads every recorded -L file without problems', () => {
    for (const name of [
      'swarm02-host-iptables-nvL.txt', 'swarm02-host-iptables-t-nat-nvL.txt', 'swarm00-host-iptables-t-mangle-nvL.txt',
      'swarm02-host-iptables-t-mangle-nvL.txt', 'swarm00-task-schemaregistry-ip6tables-nvL.txt',
      'swarm00-ingress_sbox-iptables-t-mangle-nvL.txt', 'swarm00-ingress_sbox-iptables-t-nat-nvL.txt',
      'swarm02-task-sourcemysql-iptables-nvL.txt', 'swarm02-task-sourcemysql-iptables-t-nat-nvL-line-numbers.txt',
    ]) {
      const parsed = parseIptablesList(fixture(name));
      assert.deepEqual(parsed.problems, [], name);
      assert.ok(parsed.chains.length >= 3, name);
    }
    const mangle = parseIptablesList(fixture('swarm00-host-iptables-t-mangle-nvL.txt'));
    assert.deepEqual([mangle.chains.length, mangle.rules.length], [5, 0]);
  });
});

describe('parseIptablesList: edge cases', () => {
  it('empty output: nothing, no problems', () => {
    assert.deepEqual(parseIptablesList(''), { chains: [], rules: [], problems: [] });
  });

  it('K/M/G suffixes (not recorded: the lab counters stay small): powers of 1000, marked rounded', () => {
    assert.deepEqual(parseIptablesCounter('99999'), { value: 99999, rounded: false });
    assert.deepEqual(parseIptablesCounter('12K'), { value: 12000, rounded: true });
    assert.deepEqual(parseIptablesCounter('3M'), { value: 3e6, rounded: true });
    assert.deepEqual(parseIptablesCounter('7G'), { value: 7e9, rounded: true });
    assert.equal(parseIptablesCounter('12k'), undefined);
    const text = [
      'Chain INPUT (policy DROP 1234K packets, 5678M bytes)',
      ' pkts bytes target     prot opt in     out     source               destination',
      ' 120K  171M ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0',
    ].join('\n');
    const parsed = parseIptablesList(text);
    assert.deepEqual(parsed.chains[0].policyCounters, { packets: 1234000, bytes: 5678000000 });
    assert.deepEqual([parsed.rules[0].packets, parsed.rules[0].bytes, parsed.rules[0].countersRounded], [120000, 171000000, true]);
    assert.equal(parsed.rules[0].protocol, undefined, '"all" means any protocol');
  });

  it('skips "#" lines, e.g. the banners of a combined nft+legacy output', () => {
    const text = `### iptables-nft (filter table): 1 rules\n${fixture('swarm00-task-schemaregistry-iptables-nvL-incident2.txt')}### iptables-legacy (filter table): 0 rules\n`;
    const parsed = parseIptablesList(text);
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.rules.length, 1);
  });

  it('garbage lines become problems, not a crash', () => {
    const text = [
      'iptables v1.8.9 (nf_tables): chain `NOPE\' in table `filter\' is incompatible, use \'nft\' tool.',
      'Chain INPUT (policy ACCEPT 0 packets, 0 bytes)',
      ' pkts bytes target     prot opt in     out     source               destination',
      '    x     0 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0',
      '    0     0 ACCEPT',
      'Chain broken header',
      '    0     0 DROP       all  --  *      *       10.0.0.0/8           0.0.0.0/0',
    ].join('\n');
    const parsed = parseIptablesList(text);
    assert.equal(parsed.rules.length, 0);
    assert.deepEqual(parsed.problems.map((p) => p.line), [1, 4, 5, 6, 7]);
  });
});

describe('rulesMatchingFlow', () => {
  const list = parseIptablesList(fixture('swarm00-task-schemaregistry-iptables-nvL-line-numbers.txt'));
  const spec = parseIptablesSave(fixture('swarm00-task-schemaregistry-iptables-S.txt'));

  it('finds the REJECT rule, with its counter, for the failing flow sourcemysql -> schemaregistry:8081', () => {
    const flow = { src: '10.0.1.4', dst: '10.0.1.10', proto: 'tcp', dport: 8081 };
    const matched: IptablesListRule[] = rulesMatchingFlow(list.rules, flow);
    assert.deepEqual(matched.map((r) => [r.chain, r.num, r.target, r.rejectWith, r.packets]), [['INPUT', 1, 'REJECT', 'tcp-reset', 3]]);
    assert.deepEqual(rulesMatchingFlow(spec.rules, flow).map((r) => r.line), [5], 'the -S form too (10.0.1.4/32)');
  });

  it('finds nothing for the working flow connect (10.0.1.2) -> schemaregistry:8081, nor for another port', () => {
    assert.deepEqual(rulesMatchingFlow(list.rules, { src: '10.0.1.2', dst: '10.0.1.10', proto: 'tcp', dport: 8081 }), []);
    assert.deepEqual(rulesMatchingFlow(list.rules, { src: '10.0.1.4', dst: '10.0.1.10', proto: 'tcp', dport: 8080 }), []);
    assert.deepEqual(rulesMatchingFlow(list.rules, { src: '10.0.1.4', dst: '10.0.1.10', proto: 'udp', dport: 8081 }).map((r) => r.num), [8]);
  });

  it('evaluates "! -s" with CIDR containment, and leaves the source port unevaluated (so "! --sport 53" may match)', () => {
    const outside = rulesMatchingFlow(spec.rules, { src: '10.0.2.5', dst: '10.0.1.10', proto: 'udp', dport: 53 });
    assert.deepEqual(outside.map((r) => r.line), [6, 13]);
    const inside = rulesMatchingFlow(spec.rules, { src: '10.0.1.200', dst: '10.0.1.10', proto: 'udp', dport: 53 });
    assert.deepEqual(inside.map((r) => r.line), [13]);
  });

  it('matches protocol numbers against names (-L prints 1 for icmp) and destination CIDRs', () => {
    const toNode = rulesMatchingFlow(list.rules, { src: '10.0.1.10', dst: '10.99.0.12', proto: 'icmp' });
    assert.deepEqual(toNode.map((r) => [r.num, r.rejectWith]), [[4, 'icmp-host-prohibited']]);
    assert.deepEqual(rulesMatchingFlow(list.rules, { src: '10.0.1.10', dst: '10.0.1.4', proto: 'icmp' }), []);
  });

  it('only REJECT and DROP count; a rule restricted to ports does not match a flow without a port', () => {
    const rules = parseIptablesSave(['-A INPUT -j ACCEPT', '-A INPUT -p tcp --dport 80 -j DROP', '-A INPUT -s ::1/128 -j DROP'].join('\n')).rules;
    assert.deepEqual(rulesMatchingFlow(rules, { src: '10.0.0.1', dst: '10.0.0.2', proto: '6' }), []);
    assert.deepEqual(rulesMatchingFlow(rules, { src: '10.0.0.1', dst: '10.0.0.2', proto: '6', dport: 80 }).map((r) => r.line), [2]);
    assert.deepEqual(rulesMatchingFlow(rules, { src: '::1', dst: '::1', proto: 'tcp' }).map((r) => r.line), [3], 'IPv6 by equal text');
  });
});
