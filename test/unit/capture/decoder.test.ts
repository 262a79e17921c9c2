import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketDecoder } from '../../../src/capture/decoder';
import { dnsMessage, ethernetFrame, icmpMessage, ipv4Packet, ipv6Packet, sll2Frame, tcpFrame, TcpFlag as F, tcpSegment, udpDatagram, udpFrame, vxlanPayload } from '../../../src/capture/frameBuilder';
import { DecodedPacket, DetailNode, Layer, Mark, PacketFacts, Protocol } from '../../../src/capture/packet';

const decoder = new PacketDecoder();

function decode(bytes: Uint8Array, linkType = 1, original = bytes.length, d = decoder): { packet: DecodedPacket; facts: PacketFacts } {
  const facts = new PacketFacts();
  const packet = d.details(bytes, 0, bytes.length, original, linkType, {}, facts);
  return { packet, facts };
}

function find(nodes: DetailNode[], name: string): DetailNode[] {
  const out: DetailNode[] = [];
  for (const n of nodes) {
    if (n.name === name) out.push(n);
    if (n.children) out.push(...find(n.children, name));
  }
  return out;
}

const syn = tcpFrame('10.0.0.1', '10.0.0.2', { srcPort: 40000, dstPort: 8081, seq: 123456, flags: F.SYN, window: 64240, options: { mss: 1460, sackPermitted: true, timestamps: [1000, 0], windowScale: 7 } });

describe('decoder: details tree and summary columns', () => {
  it('Ethernet/IPv4/TCP SYN: fields with their byte offsets for the hex pane, and a Wireshark-like Info', () => {
    const { packet, facts } = decode(syn);
    assert.deepEqual(
      packet.layers.map((l) => l.name),
      ['frame', 'eth', 'ip', 'tcp'],
    );
    assert.deepEqual([packet.source, packet.destination, packet.protocol], ['10.0.0.1', '10.0.0.2', 'TCP']);
    assert.equal(packet.info, '40000 → 8081 [SYN] Seq=123456 Win=64240 Len=0 MSS=1460 SACK_PERM TSval=1000 TSecr=0 WS=128');
    const src = find(packet.layers, 'ip.src')[0];
    assert.deepEqual([src.offset, src.length, src.value], [26, 4, '10.0.0.1']);
    const flags = find(packet.layers, 'tcp.flags')[0];
    assert.deepEqual([flags.offset, flags.length, flags.value], [46, 2, 0x002]);
    assert.equal(find(packet.layers, 'tcp.flags.syn')[0].value, true);
    assert.equal(find(packet.layers, 'tcp.options.mss_val')[0].value, 1460);
    assert.equal(facts.windowScale, 7);
    assert.equal(facts.layers, Layer.ETH | Layer.IPV4 | Layer.TCP);
  });

  it('relative sequence numbers and the scaled window, given the conversation from the index', () => {
    const ack = tcpFrame('10.0.0.1', '10.0.0.2', { srcPort: 40000, dstPort: 8081, seq: 123457, ack: 999001, flags: F.ACK | F.PSH, window: 502, payload: 10 });
    const packet = decoder.details(ack, 0, ack.length, ack.length, 1, { tcp: { baseSeq: 123456, reverseBaseSeq: 999000, relative: true, windowShift: 7, stream: 3 }, analysis: ['TCP Retransmission'] });
    assert.equal(packet.info, '[TCP Retransmission] 40000 → 8081 [PSH, ACK] Seq=1 Ack=1 Win=64256 Len=10');
    assert.equal(find(packet.layers, 'tcp.stream')[0].value, 3);
    assert.equal(find(packet.layers, 'tcp.seq_raw')[0].value, 123457);
  });

  it('VXLAN on 4789: the inner frame decoded, VNI shown, columns from the inner packet', () => {
    const inner = ethernetFrame(0x0800, ipv4Packet('10.0.5.3', '10.0.5.7', 6, tcpSegment('10.0.5.3', '10.0.5.7', { srcPort: 46000, dstPort: 8081, seq: 1, flags: F.SYN })));
    const frame = udpFrame('10.99.0.12', '10.99.0.10', 51000, 4789, vxlanPayload(4097, inner));
    const { packet, facts } = decode(frame);
    assert.deepEqual(
      packet.layers.map((l) => l.name),
      ['frame', 'eth', 'ip', 'udp', 'vxlan', 'eth', 'ip', 'tcp'],
    );
    assert.equal(find(packet.layers, 'vxlan.vni')[0].value, 4097);
    assert.deepEqual([packet.source, packet.destination, packet.protocol], ['10.0.5.3', '10.0.5.7', 'TCP']);
    assert.equal(facts.vni, 4097);
    assert.equal(facts.marks & Mark.TUNNELED, Mark.TUNNELED);
    assert.equal(facts.tunnelSrcPort, 51000);
    assert.equal(facts.srcPort, 46000);
  });

  it('VXLAN on a configured data-path port only when told', () => {
    const inner = ethernetFrame(0x0800, ipv4Packet('10.0.6.2', '10.0.6.3', 17, udpDatagram('10.0.6.2', '10.0.6.3', 1, 53, dnsMessage(7, 'db'))));
    const frame = udpFrame('192.168.50.1', '192.168.50.2', 40000, 7789, vxlanPayload(256, inner));
    assert.equal(decode(frame).packet.protocol, 'UDP');
    const custom = decode(frame, 1, frame.length, new PacketDecoder({ vxlanPorts: [7789] }));
    assert.equal(custom.packet.protocol, 'DNS');
    assert.equal(custom.facts.vni, 256);
  });

  it('Linux cooked v2 (tcpdump -i any): direction and interface index', () => {
    const frame = sll2Frame(0x0800, ipv4Packet('10.0.5.3', '10.0.5.7', 6, tcpSegment('10.0.5.3', '10.0.5.7', { srcPort: 1, dstPort: 2, seq: 1, flags: F.SYN })), 7, 4);
    const { packet, facts } = decode(frame, 276);
    assert.equal(find(packet.layers, 'sll.pkttype')[0].label, 'Packet type: Sent by us (4)');
    assert.equal(find(packet.layers, 'sll.ifindex')[0].value, 7);
    assert.deepEqual([facts.linkPacketType, facts.linkInterface], [4, 7]);
    assert.equal(packet.protocol, 'TCP');
  });

  it('802.1Q and QinQ tags', () => {
    const frame = ethernetFrame(0x0800, ipv4Packet('10.1.0.1', '10.1.0.2', 17, udpDatagram('10.1.0.1', '10.1.0.2', 1, 2, 4)), undefined, undefined, [200, 300]);
    const { packet, facts } = decode(frame);
    assert.equal(find(packet.layers, 'ieee8021ad.id')[0].value, 200);
    assert.equal(find(packet.layers, 'vlan.id')[0].value, 300);
    assert.equal(facts.vlanId, 200);
    assert.equal(packet.source, '10.1.0.1');
  });

  it('ICMP errors: the quoted packet decoded under the ICMP layer, its flow kept apart', () => {
    const udp = ipv4Packet('10.0.0.1', '10.0.0.9', 17, udpDatagram('10.0.0.1', '10.0.0.9', 50000, 9999, 12));
    const frame = ethernetFrame(0x0800, ipv4Packet('10.0.0.9', '10.0.0.1', 1, icmpMessage(3, 3, Buffer.alloc(4), udp)));
    const { packet, facts } = decode(frame);
    assert.equal(packet.info, 'Destination unreachable (Port unreachable)');
    assert.deepEqual([packet.source, packet.destination], ['10.0.0.9', '10.0.0.1'], 'the columns stay the outer packet’s');
    const icmp = packet.layers.find((l) => l.name === 'icmp')!;
    assert.deepEqual(
      find(icmp.children!, 'ip.src').map((n) => n.value),
      ['10.0.0.1'],
    );
    assert.deepEqual([facts.quotedVersion, facts.quotedProtocol, facts.quotedSrcPort, facts.quotedDstPort], [4, 17, 50000, 9999]);
    assert.ok(facts.marks & Mark.ICMP_ERROR);
  });

  it('IPv6 extension headers and fragments', () => {
    const hop = Buffer.from([60, 0, 1, 4, 0, 0, 0, 0]);
    const dest = Buffer.from([6, 0, 1, 4, 0, 0, 0, 0]);
    const frame = ethernetFrame(0x86dd, ipv6Packet('fd00::1', 'fd00::2', 0, Buffer.concat([hop, dest, tcpSegment('fd00::1', 'fd00::2', { srcPort: 45000, dstPort: 443, seq: 1, flags: F.SYN })])));
    const { packet, facts } = decode(frame);
    assert.equal(facts.ipProtocol, 6);
    assert.equal(facts.srcPort, 45000);
    assert.ok(find(packet.layers, 'ipv6.hopopts').length && find(packet.layers, 'ipv6.dstopts').length);

    const big = udpDatagram('10.0.0.1', '10.0.0.2', 7002, 7003, 2000);
    const first = decode(ethernetFrame(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 17, big.subarray(0, 1480), { id: 77, moreFragments: true })));
    assert.ok(first.facts.marks & Mark.FRAGMENT);
    assert.equal(first.facts.srcPort, 7002, 'a first fragment still shows its ports');
    const second = decode(ethernetFrame(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 17, big.subarray(1480), { id: 77, fragmentOffset: 1480 })));
    assert.equal(second.packet.info, 'Fragmented IP protocol (proto=UDP 17, off=1480, ID=004d)');
    assert.equal(second.facts.srcPort, -1);
  });

  it('DNS queries and answers, ARP, ICMP echo: Info as Wireshark words it', () => {
    assert.equal(decode(udpFrame('10.0.0.1', '10.0.0.53', 33333, 53, dnsMessage(0x1a2b, 'tasks.schemaregistry'))).packet.info, 'Standard query 0x1a2b A tasks.schemaregistry');
    assert.equal(decode(udpFrame('10.0.0.53', '10.0.0.1', 53, 33333, dnsMessage(0x1a2b, 'tasks.schemaregistry', ['10.0.1.9', '10.0.1.10']))).packet.info, 'Standard query response 0x1a2b A tasks.schemaregistry A 10.0.1.9 A 10.0.1.10');
    const arp = Buffer.alloc(28);
    arp.writeUInt16BE(1, 0);
    arp.writeUInt16BE(0x0800, 2);
    arp[4] = 6;
    arp[5] = 4;
    arp.writeUInt16BE(1, 6);
    Buffer.from([10, 0, 0, 1]).copy(arp, 14);
    Buffer.from([10, 0, 0, 2]).copy(arp, 24);
    const arpPacket = decode(ethernetFrame(0x0806, arp)).packet;
    assert.deepEqual([arpPacket.protocol, arpPacket.info], ['ARP', 'Who has 10.0.0.2? Tell 10.0.0.1']);
    const echo = decode(ethernetFrame(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 1, icmpMessage(8, 0, Buffer.from([0, 7, 0, 1]))))).packet;
    assert.equal(echo.info, 'Echo (ping) request  id=0x0007, seq=1/256, ttl=64');
  });

  it('a DNS name whose compression pointer loops: a problem on the packet, not a hang or a throw', () => {
    const message = Buffer.from(dnsMessage(1, 'a'));
    // The question's name becomes a pointer to itself.
    message.writeUInt16BE(0xc00c, 12);
    const { packet, facts } = decode(udpFrame('10.0.0.1', '10.0.0.53', 1, 53, message));
    assert.match(packet.info, /\[Malformed Packet\]$/);
    assert.ok(packet.problems.some((p) => /pointers loop/.test(p)));
    assert.equal(facts.protocol, Protocol.DNS);
  });

  it('null/loopback (BSD AF_INET6 = 30) and raw IP link types', () => {
    const loop = Buffer.concat([Buffer.from([30, 0, 0, 0]), ipv6Packet('::1', '::1', 17, udpDatagram('::1', '::1', 3000, 4000, 4))]);
    assert.equal(decode(loop, 0).packet.source, '::1');
    assert.equal(decode(ipv4Packet('192.168.1.1', '192.168.1.2', 17, udpDatagram('192.168.1.1', '192.168.1.2', 1, 2, 0)), 101).packet.protocol, 'UDP');
    assert.equal(decode(ipv4Packet('192.168.1.1', '192.168.1.2', 17, udpDatagram('192.168.1.1', '192.168.1.2', 1, 2, 0)), 14).packet.protocol, 'UDP');
  });

  it('cut frames and bogus headers: the layers that fit, a problem for the rest, never a throw', () => {
    for (let cut = 0; cut < syn.length; cut++) {
      const { packet, facts } = decode(syn.subarray(0, cut), 1, syn.length);
      if (cut < syn.length) assert.ok(facts.marks & (Mark.TRUNCATED | Mark.MALFORMED) || cut >= 54, `cut at ${cut}`);
      assert.ok(packet.layers.length >= 1);
    }
    const bogus = Buffer.from(syn);
    bogus[14] = 0x43; // IPv4 with a 12-byte header
    const { packet, facts } = decode(bogus);
    assert.ok(facts.marks & Mark.MALFORMED);
    assert.match(packet.info, /Bogus IP header length \(12, must be at least 20\)/);
  });
});
