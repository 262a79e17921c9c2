// Every recorded output in test/fixtures/netns goes through its parser without a single problem,
// so a new recording that a parser misreads fails here even before someone writes assertions.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  isIpvsUnavailable,
  parseBridgeFdbJson,
  parseConntrackList,
  parseIpAddrJson,
  parseIpLinkJson,
  parseIpNeighJson,
  parseIpRouteJson,
  parseIptablesList,
  parseIptablesSave,
  parseSs,
  type ParseProblem,
} from '../../../src/netns/parsers';
import { parseIptablesSections } from '../../../src/netns/catalog';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/netns');

/** The parser for a file, by the command in its name; the count says how much it found. */
const PARSERS: { pattern: RegExp; parse: (text: string) => { count: number; problems: ParseProblem[] } }[] = [
  { pattern: /-ip6?tables(-nft|-legacy)?(-t-\w+)?-(S|save|save-c|S-after-cleanup)\.txt$/, parse: (t) => ({ count: parseIptablesSave(t).chains.length, problems: parseIptablesSave(t).problems }) },
  { pattern: /-ip6?tables(-t-\w+)?-n\w*L[-\w]*\.txt$/, parse: (t) => ({ count: parseIptablesList(t).chains.length, problems: parseIptablesList(t).problems }) },
  { pattern: /-ip-j-addr\.json$/, parse: (t) => ({ count: parseIpAddrJson(t).interfaces.length, problems: parseIpAddrJson(t).problems }) },
  { pattern: /-ip-j-route[-\w]*\.json$/, parse: (t) => ({ count: parseIpRouteJson(t).routes.length, problems: parseIpRouteJson(t).problems }) },
  { pattern: /-ip-j-neigh[-\w]*\.json$/, parse: (t) => ({ count: parseIpNeighJson(t).neighbours.length, problems: parseIpNeighJson(t).problems }) },
  { pattern: /-ip-j-d-link[-\w]*\.json$/, parse: (t) => ({ count: parseIpLinkJson(t).links.length, problems: parseIpLinkJson(t).problems }) },
  { pattern: /-bridge-j-fdb[-\w]*\.json$/, parse: (t) => ({ count: parseBridgeFdbJson(t).entries.length, problems: parseBridgeFdbJson(t).problems }) },
  { pattern: /-ss-[tu]anp[-\w]*\.txt$/, parse: (t) => ({ count: parseSs(t).sockets.length, problems: parseSs(t).problems }) },
  { pattern: /-conntrack-L[-\w]*?(\.stderr)?\.txt$/, parse: (t) => {
    const parsed = parseConntrackList(t);
    return { count: parsed.connections.length + (parsed.shownCount === undefined ? 0 : 1), problems: parsed.problems };
  } },
  { pattern: /-catalog-iptables-\w+\.txt$/, parse: (t) => {
    const sections = parseIptablesSections(t, (text) => parseIptablesList(text));
    return { count: sections.length, problems: sections.flatMap((s) => s.parsed?.problems ?? []) };
  } },
  { pattern: /-ipvsadm-Ln\.stderr\.txt$/, parse: (t) => ({ count: isIpvsUnavailable(t) ? 1 : 0, problems: [] }) },
];

describe('every recorded output', () => {
  const files = readdirSync(FIXTURES).filter((name) => name !== 'README.md').sort();

  it('has a parser (by its file name)', () => {
    assert.ok(files.length > 50);
    const orphans = files.filter((name) => !PARSERS.some((p) => p.pattern.test(name)));
    assert.deepEqual(orphans, []);
  });

  for (const name of files) {
    const parser = PARSERS.find((p) => p.pattern.test(name));
    if (!parser) continue;
    it(`${name}: read without problems`, () => {
      const { count, problems } = parser.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
      assert.deepEqual(problems, []);
      assert.ok(count > 0, 'found something');
    });
  }
});
