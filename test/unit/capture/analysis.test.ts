// TCP analysis and conversations on the made captures, stated independently of tshark (the
// corpus test checks the same packets against tshark too).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConversationSummary } from '../../../src/capture/conversations';
import { CaptureFile, indexCaptureFileSync, rowColour } from '../../../src/capture/packetIndex';
import { analysisNotes, hasAnalysisField, isBadTcp } from '../../../src/capture/tcpAnalysis';
import { FIXTURES } from './tshark';

function conversations(name: string): ConversationSummary[] {
  const file = path.join(FIXTURES, 'captures', name);
  const index = indexCaptureFileSync(file);
  const capture = new CaptureFile(file);
  try {
    return index.conversationSummaries(capture);
  } finally {
    capture.close();
  }
}

describe('TCP conversations: completeness and a verdict in words', () => {
  const all = conversations('tcp-verdicts.pcap');
  const byPort = (port: number) => all.find((c) => c.portA === port)!;

  it('completed: both FINs; who sent the first', () => {
    const c = byPort(40001).tcp!;
    assert.equal(c.verdict, 'completed');
    assert.equal(c.completenessText, 'SYN, SYN-ACK, ACK, DATA, FIN');
    assert.equal(c.completeness, 31);
    assert.equal(c.firstFin?.endpoint, '10.0.1.5:40001');
    assert.equal(c.client, 'A');
    assert.deepEqual([c.payloadAtoB, c.payloadBtoA], [120, 900]);
  });

  it('refused: the RST answering the SYN, and who sent it', () => {
    const c = byPort(40002).tcp!;
    assert.equal(c.verdict, 'refused');
    assert.equal(c.verdictText, 'refused: RST from 10.0.1.9:8081 (the server) after the SYN');
  });

  it('no answer: how many times the SYN went out', () => {
    const c = byPort(40003);
    assert.equal(c.tcp!.verdict, 'no answer');
    assert.equal(c.tcp!.verdictText, 'no answer: SYN sent 3 times, nothing came back');
    assert.deepEqual([c.packetsAtoB, c.packetsBtoA, c.duration], [3, 0, 3]);
  });

  it('reset mid-stream by the server, and by the client', () => {
    assert.equal(byPort(40004).tcp!.verdictText, 'reset mid-stream by the server (RST from 10.0.1.9:8081)');
    assert.equal(byPort(40004).tcp!.verdict, 'reset by server');
    assert.equal(byPort(40005).tcp!.verdict, 'reset by client');
    assert.equal(byPort(40005).tcp!.firstRst?.endpoint, '10.0.1.5:40005');
  });

  it('half closed, still open', () => {
    assert.equal(byPort(40006).tcp!.verdictText, 'half closed: FIN from the client 10.0.1.5:40006 only');
    assert.equal(byPort(40007).tcp!.verdict, 'still open');
  });

  it('unreachable: the ICMP error quoting the SYN is linked to the connection', () => {
    const c = byPort(40008);
    assert.equal(c.icmpErrors, 1);
    assert.equal(c.tcp!.verdict, 'unreachable');
    assert.equal(c.tcp!.verdictText, 'unreachable: Destination unreachable (Host unreachable) from 10.0.1.1 (packet 41) (SYN sent once)');
  });

  it('a connection the capture caught mid-way: the client guessed from the ports, and said so', () => {
    const c = byPort(40009).tcp!;
    assert.equal(c.verdict, 'completed');
    assert.equal(c.client, 'A');
    assert.equal(c.clientGuessed, true);
    assert.equal(c.verdictText, 'completed: both sides closed with FIN, first the server 10.0.1.9:8081 (started before the capture; client guessed from the ports)');
  });
});

describe('TCP analysis flags, packet by packet', () => {
  const file = path.join(FIXTURES, 'captures', 'tcp-analysis.pcap');
  const index = indexCaptureFileSync(file);
  const flagged = new Map<number, string[]>();
  for (let i = 0; i < index.count; i++) if (index.analysis[i]) flagged.set(i + 1, analysisNotes(index.analysis[i]));

  it('every rule fires where the capture was made to trigger it, and nowhere else', () => {
    assert.deepEqual(Object.fromEntries(flagged), {
      5: ['TCP Retransmission'],
      7: ['TCP Spurious Retransmission'],
      15: ['TCP Window Update'],
      16: ['TCP Dup ACK'],
      17: ['TCP Dup ACK'],
      18: ['TCP Fast Retransmission'],
      23: ['TCP Previous segment not captured'],
      24: ['TCP Out-Of-Order'],
      29: ['TCP Previous segment not captured'],
      30: ['TCP ACKed unseen segment'],
      35: ['TCP Window Full'],
      36: ['TCP ZeroWindow'],
      37: ['TCP ZeroWindowProbe'],
      38: ['TCP ZeroWindow', 'TCP ZeroWindowProbeAck'],
      39: ['TCP Window Update'],
      46: ['TCP Keep-Alive'],
      47: ['TCP Keep-Alive ACK'],
      53: ['TCP Window Update'],
      60: ['TCP Port numbers reused'],
      65: ['TCP Retransmission'],
    });
  });

  it('Wireshark fields: retransmission also marks fast and spurious ones; "Bad TCP" colouring', () => {
    assert.ok(hasAnalysisField(index.analysis[17], 'retransmission') && hasAnalysisField(index.analysis[17], 'fast_retransmission'));
    assert.ok(hasAnalysisField(index.analysis[6], 'retransmission') && hasAnalysisField(index.analysis[6], 'spurious_retransmission'));
    assert.equal(isBadTcp(index.analysis[45]), false, 'a keep-alive is not bad TCP');
    assert.equal(rowColour(index, 4), 'bad-tcp');
    assert.equal(rowColour(index, 0), 'syn');
  });

  it('a port reused by a new connection starts a new conversation (a new tcp.stream)', () => {
    const streams = new Set<number>();
    for (let i = 53; i < 63; i++) streams.add(index.conversations.streamOf(index.conversation[i]));
    assert.equal(streams.size, 2);
  });
});

describe('UDP and other conversations', () => {
  it('packets and bytes each way; the ICMP error that quotes a datagram is linked to its flow', () => {
    const all = conversations('protocols.pcapng');
    const dns = all.find((c) => c.protocol === 'UDP' && c.portB === 53 && c.addressA === '10.0.0.1')!;
    assert.deepEqual([dns.packetsAtoB, dns.packetsBtoA], [1, 1]);
    assert.deepEqual([dns.bytesAtoB, dns.bytesBtoA], [80, 112]);
    const unreachable = all.find((c) => c.portB === 9999)!;
    assert.equal(unreachable.icmpErrors, 1);
    assert.match(unreachable.icmpError!, /^Destination unreachable \(Port unreachable\) from 10\.0\.0\.9/);
    const overlay = all.find((c) => c.portB === 4789)!;
    assert.equal(overlay.packetsAtoB, 1, 'the VXLAN outer flow is a conversation of its own');
    const sll2 = all.find((c) => c.portA === 46001)!;
    assert.equal(sll2.tcp!.verdict, 'refused');
  });
});
