// Correctness on real captures: tcpdump's 830 test captures (many deliberately malformed) all
// open, and for the link types we decode, every packet agrees with tshark field by field:
// against expectations generated from tshark and checked in (test/fixtures/capture/tshark/),
// and live when tshark is installed.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isDecodedLinkType } from '../../../src/capture/linkTypes';
import { CaptureFile, indexCaptureFileSync } from '../../../src/capture/packetIndex';
import { Comparison, compareWithTshark, parseExpectations } from './compare';
import { scenarios } from './scenarios';
import { CORPUS, FIXTURES, runTshark, tsharkVersion } from './tshark';

interface ManifestEntry {
  name: string;
  tsharkPackets: number;
  linkTypes: number[];
  compared: boolean;
  tsharkError: string;
}

function manifest(): ManifestEntry[] {
  return fs
    .readFileSync(path.join(FIXTURES, 'corpus-manifest.tsv'), 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [name, packets, types, compared, error] = line.split('\t');
      return { name, tsharkPackets: Number(packets), linkTypes: types === '-' ? [] : types.split(',').map(Number), compared: compared === 'yes', tsharkError: error ?? '' };
    });
}

function expectations(name: string): { header: string[]; rows: string[][] } {
  return parseExpectations(fs.readFileSync(path.join(FIXTURES, 'tshark', `${name}.tsv`), 'utf8'));
}

/** Options our index needs for a made capture (the custom VXLAN port). */
function optionsFor(name: string): { vxlanPorts?: number[] } {
  const port = /vxlan-port-(\d+)/.exec(name)?.[1];
  return port ? { vxlanPorts: [Number(port)] } : {};
}

function summarise(results: [string, Comparison][]): { values: number; deeper: number; mismatches: string[] } {
  let values = 0;
  let deeper = 0;
  const mismatches: string[] = [];
  for (const [name, c] of results) {
    values += c.values;
    deeper += c.deeper;
    if (c.ourPackets !== c.tsharkPackets) mismatches.push(`${name}: ${c.ourPackets} packets, tshark ${c.tsharkPackets}`);
    for (const m of c.mismatches) mismatches.push(`${name} ${m}`);
  }
  return { values, deeper, mismatches };
}

const corpusPresent = fs.existsSync(CORPUS);

describe('tcpdump test corpus', () => {
  const entries = corpusPresent ? manifest() : [];
  // The corpus is part of the test (CI always has it): without it, fail and say so, once.
  const needsCorpus = corpusPresent ? {} : { skip: `the capture corpus folder was not found at ${CORPUS}` };

  it('the corpus is there', () => {
    assert.ok(corpusPresent, `the capture corpus folder was not found at ${CORPUS} (tcpdump's test captures; set CAPTURE_CORPUS to where they are)`);
  });

  it('the checked-in expectations cover every capture of the corpus', needsCorpus, () => {
    const files = fs.readdirSync(CORPUS).filter((n) => /\.pcap(ng)?$/.test(n));
    assert.equal(entries.length, files.length);
    assert.deepEqual(entries.map((e) => e.name).sort(), files.sort());
  });

  it('every capture opens with no crash and no hang, and yields the packets tshark reads', { timeout: 60_000, ...needsCorpus }, () => {
    const t0 = performance.now();
    let packets = 0;
    const unreadByTshark: string[] = [];
    for (const entry of entries) {
      const file = path.join(CORPUS, entry.name);
      const index = indexCaptureFileSync(file);
      // Details for every packet, as the viewer would show them: they must not throw either.
      const capture = new CaptureFile(file);
      try {
        for (let i = 0; i < index.count; i++) capture.details(index, i);
      } finally {
        capture.close();
      }
      packets += index.count;
      if (entry.tsharkPackets === 0 && /unknown or unsupported/.test(entry.tsharkError)) {
        // tshark refuses the file's link type outright; we read the records and leave the frames undecoded.
        unreadByTshark.push(entry.name);
        assert.ok(entry.linkTypes.every((t) => !isDecodedLinkType(t)), entry.name);
        continue;
      }
      assert.equal(index.count, entry.tsharkPackets, `${entry.name}: packets`);
      if (index.error) assert.ok(entry.tsharkError, `${entry.name}: we stopped (${index.error.message}) where tshark did not`);
    }
    const elapsed = performance.now() - t0;
    assert.ok(packets > 10_000);
    assert.ok(elapsed < 30_000, `took ${elapsed.toFixed(0)} ms`);
    assert.equal(unreadByTshark.length, 14, `link types tshark does not read: ${unreadByTshark.join(', ')}`);
  });

  it('for the link types we decode, every packet agrees with tshark field by field (checked-in expectations)', { timeout: 60_000, ...needsCorpus }, () => {
    const results: [string, Comparison][] = [];
    for (const entry of entries.filter((e) => e.compared)) {
      const { header, rows } = expectations(entry.name);
      results.push([entry.name, compareWithTshark(path.join(CORPUS, entry.name), rows, {}, header)]);
    }
    const { values, deeper, mismatches } = summarise(results);
    assert.equal(results.length, 552);
    assert.ok(values > 200_000, `${values} values compared`);
    assert.deepEqual(mismatches, []);
    // Where tshark goes deeper (ERSPAN, PIM register, MACsec, NSH... which we leave undecoded),
    // our decoding must still be a prefix of its: counted, not failed.
    assert.ok(deeper < 2500, `${deeper} fields where tshark decoded deeper`);
  });
});

describe('made captures (every TCP analysis rule and verdict, the swarm link layers)', () => {
  for (const scenario of scenarios()) {
    it(`${scenario.name}: the checked-in capture is what the generator makes, and agrees with tshark`, () => {
      const file = path.join(FIXTURES, 'captures', scenario.name);
      assert.ok(fs.readFileSync(file).equals(scenario.bytes), 'regenerate with generate-expectations');
      const { header, rows } = expectations(scenario.name);
      const c = compareWithTshark(file, rows, optionsFor(scenario.name), header);
      assert.equal(c.ourPackets, c.tsharkPackets);
      assert.deepEqual(c.mismatches, []);
      assert.equal(c.deeper, 0);
    });
  }

  const recorded = fs.readdirSync(path.join(FIXTURES, 'captures')).filter((n) => /\.pcap(ng)?$/.test(n) && !scenarios().some((s) => s.name === n));
  for (const name of recorded) {
    it(`${name} (recorded): agrees with tshark`, () => {
      const { header, rows } = expectations(name);
      const c = compareWithTshark(path.join(FIXTURES, 'captures', name), rows, optionsFor(name), header);
      assert.equal(c.ourPackets, c.tsharkPackets);
      assert.deepEqual(c.mismatches, []);
    });
  }
});

const version = tsharkVersion();

describe(version ? `live against tshark ${version}` : 'live against tshark (NOT RUN: tshark is not installed)', () => {
  it('a sample of captures agrees with a fresh tshark run, and the checked-in expectations are what tshark says today', { timeout: 120_000 }, (t) => {
    if (!version) {
      t.skip('tshark is not installed: only the checked-in expectations were compared');
      return;
    }
    const sample = [
      ...scenarios().map((s) => ({ file: path.join(FIXTURES, 'captures', s.name), name: s.name, extra: s.tsharkArgs ?? [] })),
      ...['tcp-handshake-nano.pcap', 'print-flags.pcap', 'vxlan.pcap', '802.1ad_QinQ.pcap', 'icmpv6.pcap', 'LINKTYPE_IPV6.pcap', 'dns_tcp.pcap', 'afs.pcap', 'resp_3_malicious.pcap', 'pptp.pcap', 'bigtcp-ipv6-vxlan-ipv4.pcap', 'of13_ericsson.pcapng']
        .filter((n) => fs.existsSync(path.join(CORPUS, n)))
        .map((n) => ({ file: path.join(CORPUS, n), name: n, extra: [] as string[] })),
    ];
    for (const { file, name, extra } of sample) {
      const live = runTshark(file, extra);
      const stored = expectations(name);
      assert.deepEqual(live.rows, stored.rows, `${name}: tshark ${version} says something else than the checked-in expectations`);
      const c = compareWithTshark(file, live.rows, optionsFor(name), stored.header);
      assert.deepEqual(c.mismatches, [], name);
      assert.equal(c.ourPackets, c.tsharkPackets, name);
    }
  });
});
