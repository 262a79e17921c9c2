// The encrypted-overlay check's pure parts: reading `ip xfrm` output and counters, judging a pair
// of nodes, and the command's script hiding key material.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { counterGrowth, missingForPair, parseXfrmOutput, xfrmCommand } from '../../src/doctor/checks/encryption';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../test/fixtures/doctor', name), 'utf8');
const swarm00 = { hostname: 'swarm00', address: '10.99.0.10' };
const swarm01 = { hostname: 'swarm01', address: '10.99.0.11' };

// Written after iproute2's format (this kernel has no ESP, so the lab cannot show a state): the
// two states a healthy pair shares, keys already hidden as the command hides them.
const HEALTHY_STATES = `### policy
src 10.99.0.10/32 dst 10.99.0.11/32 proto udp dport 4789
	dir out priority 0 ptype main
	mark 0xd0c4e3/0xffffffff
	tmpl src 10.99.0.10 dst 10.99.0.11
		proto esp spi 0xa817f0e7 reqid 13681891 mode transport
### state
src 10.99.0.10 dst 10.99.0.11
	proto esp spi 0xa817f0e7 reqid 13681891 mode transport
	replay-window 0
	mark 0xd0c4e3/0xffffffff
	aead rfc4106(gcm(aes)) (key hidden) 128
	anti-replay context: seq 0x0, oseq 0x2, bitmap 0x00000000
	sel src 0.0.0.0/0 dst 0.0.0.0/0
src 10.99.0.11 dst 10.99.0.10
	proto esp spi 0x8a2202d7 reqid 13681891 mode transport
	replay-window 0
	aead rfc4106(gcm(aes)) (key hidden) 128
### stat
XfrmOutNoStates         	0
### crypto
1
`;

describe('encrypted overlays: IPsec state', () => {
  it('reads the lab node whose kernel refused every key: policies with SPIs, no state, counters', () => {
    const x = parseXfrmOutput(fixture('xfrm-swarm00-no-esp.txt'));
    assert.deepEqual(
      x.policies.map((p) => [p.src, p.dst, p.protocol, p.dport, p.dir, p.spi]),
      [
        ['10.99.0.10', '10.99.0.11', 'udp', 4789, 'out', '0xa817f0e7'],
        ['10.99.0.10', '10.99.0.12', 'udp', 4789, 'out', '0xa517ec2e'],
      ],
    );
    assert.equal(x.states.length, 0);
    // Recorded after the check's pings had been dropped there.
    assert.equal(x.counters.get('XfrmOutNoStates'), 10);
    assert.ok(x.counters.size > 20, 'every counter of /proc/net/xfrm_stat');
    assert.equal(x.gcm, false);
  });
  it('a sender without the state of its policy drops; the receiver cannot decrypt either', () => {
    const sender = parseXfrmOutput(fixture('xfrm-swarm00-no-esp.txt'));
    const missing = missingForPair(swarm00, swarm01, sender, parseXfrmOutput('### state\n'), 4789);
    assert.equal(missing.length, 2);
    assert.match(missing[0], /^swarm00 holds no ESP state of SPI 0xa817f0e7 for swarm01/);
    assert.match(missing[1], /^swarm01 holds no ESP state of SPI 0xa817f0e7 from swarm00/);
  });
  it('a healthy pair misses nothing; no policy at all means unencrypted VXLAN the peer drops', () => {
    const healthy = parseXfrmOutput(HEALTHY_STATES);
    assert.equal(healthy.states.length, 2);
    assert.equal(healthy.states[0].algorithm, 'rfc4106(gcm(aes))');
    assert.equal(healthy.gcm, true);
    assert.deepEqual(missingForPair(swarm00, swarm01, healthy, healthy, 4789), []);
    // Another data-path port: the policy is not the one swarm uses.
    assert.match(missingForPair(swarm00, swarm01, healthy, healthy, 7789)[0], /has no IPsec policy for udp 7789 to swarm01 .*drops unencrypted VXLAN/);
    // The state of another SPI does not count.
    const stale = parseXfrmOutput(HEALTHY_STATES.replace('spi 0xa817f0e7 reqid 13681891 mode transport\n\treplay', 'spi 0x11111111 reqid 13681891 mode transport\n\treplay'));
    assert.match(missingForPair(swarm00, swarm01, stale, stale, 4789).join('\n'), /swarm00 holds no ESP state of SPI 0xa817f0e7/);
  });
  it('counters that grew between two readings', () => {
    const before = parseXfrmOutput('### stat\nXfrmOutNoStates 3\nXfrmInNoStates 1\n');
    const after = parseXfrmOutput('### stat\nXfrmOutNoStates 5\nXfrmInNoStates 1\nXfrmInTmplMismatch 2\n');
    assert.deepEqual([...counterGrowth(before, after)], [['XfrmOutNoStates', 2], ['XfrmInTmplMismatch', 2]]);
    assert.equal(counterGrowth(undefined, after).size, 0);
  });
  it('the command hides key material and exits 0 when /proc/crypto has no GCM', () => {
    // A stand-in `ip` that prints a state with a key, in front of the real PATH.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'xfrm-'));
    try {
      const key = '0x0123456789abcdef0123456789abcdef01234567';
      fs.writeFileSync(path.join(bin, 'ip'), `#!/bin/sh\n[ "$2" = state ] && printf 'src 10.99.0.10 dst 10.99.0.11\\n\\tproto esp spi 0xa817f0e7 reqid 1 mode transport\\n\\taead rfc4106(gcm(aes)) ${key} 128\\n\\tauth-trunc hmac(sha256) ${key} 96\\n\\tenc cbc(aes) ${key}\\n'\nexit 0\n`, { mode: 0o755 });
      const argv = xfrmCommand().argv;
      const run = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
      assert.equal(run.status, 0, run.stderr);
      assert.ok(!run.stdout.includes('0123456789abcdef'), run.stdout);
      assert.match(run.stdout, /aead rfc4106\(gcm\(aes\)\) \(key hidden\) 128/);
      const x = parseXfrmOutput(run.stdout);
      assert.equal(x.states[0].spi, '0xa817f0e7', 'the SPI is kept: it is no secret, and the check needs it');
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});
