// Fuzzing, bounded and seeded: truncations, bit flips and overwritten length fields of a sample
// of the corpus and of our made captures. Whatever the bytes, reading, indexing, decoding the
// details of every packet and filtering must neither throw nor hang; a bad file ends in the
// reader's error (with its offset), and a stream cut in arbitrary chunks reads the same.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { PacketDecoder } from '../../../src/capture/decoder';
import { compileFilter, filterPackets } from '../../../src/capture/filter';
import { PacketIndex, indexCaptureBytes, streamIndexer } from '../../../src/capture/packetIndex';
import { scenarios } from './scenarios';
import { CORPUS } from './tshark';

/** mulberry32: small, seeded, the same mutants on every run. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const decoder = new PacketDecoder({ vxlanPorts: [7789] });
const filters = ['tcp.flags.syn and ip.addr == 10.0.0.0/8', 'udp.port == 53 or icmp or tcp.analysis.flags', 'dns.qry.name == "a" or vxlan.vni == 1'].map(compileFilter);

/** Everything a user can do with a capture, on these bytes: returns the index. */
function exercise(bytes: Uint8Array, rnd: () => number): PacketIndex {
  const index = indexCaptureBytes(bytes, { vxlanPorts: [7789] });
  const details = (i: number) => decoder.details(bytes, index.fileOffset[i], index.capturedLength[i], index.originalLength[i], index.linkTypeOf(i), index.contextOf(i));
  for (let i = 0; i < index.count; i++) details(i);
  index.conversationSummaries();
  for (const filter of filters) filterPackets(index, filter, details);
  // The same bytes in arbitrary chunks: the same packets, the same ending.
  const stream = streamIndexer({ vxlanPorts: [7789] });
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + Math.floor(rnd() * 4096);
    stream.push(bytes.subarray(at, at + n));
    at += n;
  }
  const streamed = stream.end();
  assert.equal(streamed.count, index.count);
  assert.deepEqual(streamed.error, index.error);
  return index;
}

function mutants(bytes: Buffer, rnd: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let k = 0; k < 3; k++) out.push(bytes.subarray(0, Math.floor(rnd() * bytes.length)));
  for (let k = 0; k < 6; k++) {
    const m = Buffer.from(bytes);
    const flips = 1 + Math.floor(rnd() * 12);
    for (let f = 0; f < flips; f++) {
      // Half the flips in the first 128 bytes, where the file and first packet headers are.
      const at = rnd() < 0.5 ? Math.floor(rnd() * Math.min(128, m.length)) : Math.floor(rnd() * m.length);
      m[at] ^= 1 << Math.floor(rnd() * 8);
    }
    out.push(m);
  }
  for (let k = 0; k < 2; k++) {
    // A length-sized word overwritten with something huge, zero or odd.
    const m = Buffer.from(bytes);
    if (m.length >= 8) {
      const at = Math.floor(rnd() * (m.length - 4));
      m.writeUInt32LE([0xffffffff, 0, 0x7fffffff, 13, 0x10000][Math.floor(rnd() * 5)], at);
    }
    out.push(m);
  }
  return out;
}

describe('fuzzing: truncations and bit flips never crash or hang', () => {
  it('seeded mutations of 60 corpus captures and the made ones', { timeout: 90_000 }, () => {
    const rnd = seeded(20261126);
    const samples: [string, Buffer][] = scenarios().map((s) => [s.name, s.bytes]);
    // The corpus is part of the test (CI always has it): without it, fail and say so.
    assert.ok(fs.existsSync(CORPUS), `the capture corpus folder was not found at ${CORPUS} (tcpdump's test captures; set CAPTURE_CORPUS to where they are)`);
    const names = fs
      .readdirSync(CORPUS)
      .filter((n) => /\.pcap(ng)?$/.test(n))
      .sort();
    // A seeded pick, biggest files left out so the run stays short.
    const small = names.filter((n) => fs.statSync(path.join(CORPUS, n)).size < 200_000);
    assert.ok(small.length >= 60, `the capture corpus folder at ${CORPUS} holds only ${small.length} captures under 200 kB (60 are needed)`);
    for (let k = 0; k < 60; k++) {
      const name = small.splice(Math.floor(rnd() * small.length), 1)[0];
      samples.push([name, fs.readFileSync(path.join(CORPUS, name))]);
    }
    const t0 = performance.now();
    let runs = 0;
    let endedInError = 0;
    let slowest = 0;
    for (const [name, bytes] of samples) {
      for (const m of mutants(bytes, rnd)) {
        const started = performance.now();
        let index: PacketIndex;
        try {
          index = exercise(m, rnd);
        } catch (e) {
          assert.fail(`${name}: a mutant (${m.length} bytes) threw ${(e as Error).stack}`);
        }
        slowest = Math.max(slowest, performance.now() - started);
        if (index.error) {
          endedInError++;
          assert.ok(index.error.offset >= 0 && index.error.offset <= m.length, `${name}: error offset ${index.error.offset} outside the file`);
          assert.ok(index.error.message.length > 10);
        }
        runs++;
      }
    }
    const elapsed = performance.now() - t0;
    assert.ok(runs >= 600, `${runs} mutants`);
    assert.ok(endedInError > 50, `only ${endedInError} mutants ended in a reader error: the mutations are too gentle`);
    assert.ok(slowest < 5_000, `slowest mutant took ${slowest.toFixed(0)} ms`);
    assert.ok(elapsed < 60_000, `took ${elapsed.toFixed(0)} ms`);
  });

  it('hostile lengths: a pcapng block claiming 16 MiB and a pcap record claiming 256 KiB, cut short, end in errors', () => {
    const ng = Buffer.alloc(28 + 12);
    ng.writeUInt32LE(0x0a0d0d0a, 0);
    ng.writeUInt32LE(28, 4);
    ng.writeUInt32LE(0x1a2b3c4d, 8);
    ng.writeUInt16LE(1, 12);
    ng.writeInt32LE(-1, 16);
    ng.writeInt32LE(-1, 20);
    ng.writeUInt32LE(28, 24);
    ng.writeUInt32LE(6, 28);
    ng.writeUInt32LE(16 * 1024 * 1024, 32);
    const index = indexCaptureBytes(ng);
    assert.equal(index.count, 0);
    assert.match(index.error!.message, /file cut short: a record of 16777216 bytes/);

    const pcap = Buffer.alloc(24 + 16 + 100);
    pcap.writeUInt32LE(0xa1b2c3d4, 0);
    pcap.writeUInt16LE(2, 4);
    pcap.writeUInt16LE(4, 6);
    pcap.writeUInt32LE(262144, 16);
    pcap.writeUInt32LE(1, 20);
    pcap.writeUInt32LE(262144, 24 + 8);
    pcap.writeUInt32LE(262144, 24 + 12);
    const cut = indexCaptureBytes(pcap);
    assert.equal(cut.count, 0);
    assert.deepEqual(cut.error, { offset: 24, message: 'file cut short: a record of 262160 bytes starts here but only 116 bytes follow' });
  });
});
