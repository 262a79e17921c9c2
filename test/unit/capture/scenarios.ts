// Captures made byte by byte for the cases the tcpdump corpus lacks: every TCP analysis rule,
// every conversation verdict, the link layers and encapsulations a swarm produces. The fixture
// generator writes them under test/fixtures/capture/captures/ (checked in) and records what
// tshark says of them; the tests read them back.
import { dnsMessage, ethernetFrame, icmpMessage, ipPacket, ipv4Packet, ipv6Packet, sll2Frame, tcpFrame, TcpFlag as F, tcpSegment, TcpSpec, udpDatagram, udpFrame, vxlanPayload } from '../../../src/capture/frameBuilder';
import { CapturedFrame, pcapFile, pcapngFile } from '../../../src/capture/pcapWriter';

const BASE_SECONDS = 1_764_000_000;

/** Frames with a running clock: `at(ms)` moves it on. */
class Timeline {
  readonly frames: CapturedFrame[] = [];
  private nanos = 0;
  add(bytes: Uint8Array, afterMs = 1, interfaceIndex?: number): void {
    this.nanos += Math.round(afterMs * 1e6);
    this.frames.push({ bytes, seconds: BASE_SECONDS + Math.floor(this.nanos / 1e9), nanoseconds: this.nanos % 1e9, interfaceIndex });
  }
}

interface TcpPeer {
  address: string;
  port: number;
  seq: number;
}

/** A TCP connection's two sides, keeping their sequence numbers. */
class Connection {
  constructor(readonly t: Timeline, readonly client: TcpPeer, readonly server: TcpPeer, readonly window = 502) {}

  private send(from: TcpPeer, to: TcpPeer, flags: number, payload: number, extra: Partial<TcpSpec>, afterMs: number): void {
    const spec: TcpSpec = { srcPort: from.port, dstPort: to.port, seq: from.seq, ack: flags & F.ACK ? to.seq : 0, flags, window: this.window, payload, ...extra };
    this.t.add(tcpFrame(from.address, to.address, spec), afterMs);
    if (extra.seq === undefined) from.seq = (from.seq + payload + (flags & (F.SYN | F.FIN) ? 1 : 0)) >>> 0;
  }

  c(flags: number, payload = 0, extra: Partial<TcpSpec> = {}, afterMs = 1): this {
    this.send(this.client, this.server, flags, payload, extra, afterMs);
    return this;
  }

  s(flags: number, payload = 0, extra: Partial<TcpSpec> = {}, afterMs = 1): this {
    this.send(this.server, this.client, flags, payload, extra, afterMs);
    return this;
  }

  handshake(scale = 7): this {
    this.c(F.SYN, 0, { options: { mss: 1460, sackPermitted: true, windowScale: scale }, window: 64240 });
    this.s(F.SYN | F.ACK, 0, { options: { mss: 1460, sackPermitted: true, windowScale: scale }, window: 65160 }, 10);
    return this.c(F.ACK, 0, {}, 10);
  }
}

function connection(t: Timeline, clientPort = 40000, serverPort = 8081, client = '10.0.1.5', server = '10.0.1.9'): Connection {
  return new Connection(t, { address: client, port: clientPort, seq: 1000 + clientPort }, { address: server, port: serverPort, seq: 900000 + serverPort });
}

export interface Scenario {
  /** File name under test/fixtures/capture/captures/. */
  name: string;
  bytes: Buffer;
  /** Extra tshark arguments (decode-as for a custom VXLAN port). */
  tsharkArgs?: string[];
  /** What it shows, for the README and the test names. */
  about: string;
}

function verdicts(): Scenario {
  const t = new Timeline();
  // completed: handshake, request, response, FIN both ways
  connection(t, 40001).handshake().c(F.PSH | F.ACK, 120).s(F.ACK).s(F.PSH | F.ACK, 900).c(F.ACK).c(F.FIN | F.ACK).s(F.FIN | F.ACK).c(F.ACK);
  // refused: the server answers the SYN with RST
  const refused = connection(t, 40002);
  refused.c(F.SYN, 0, { options: { mss: 1460 } });
  refused.t.add(tcpFrame(refused.server.address, refused.client.address, { srcPort: refused.server.port, dstPort: refused.client.port, seq: 0, ack: refused.client.seq, flags: F.RST | F.ACK, window: 0 }), 1);
  // no answer: the SYN three times
  const silent = connection(t, 40003, 8081, '10.0.1.5', '10.0.1.77');
  silent.c(F.SYN, 0, { options: { mss: 1460 }, seq: silent.client.seq });
  silent.c(F.SYN, 0, { options: { mss: 1460 }, seq: silent.client.seq }, 1000);
  silent.c(F.SYN, 0, { options: { mss: 1460 }, seq: silent.client.seq }, 2000);
  // reset mid-stream by the server
  connection(t, 40004).handshake().c(F.PSH | F.ACK, 50).s(F.ACK).s(F.RST | F.ACK);
  // reset by the client
  connection(t, 40005).handshake().c(F.PSH | F.ACK, 50).s(F.PSH | F.ACK, 70).c(F.RST | F.ACK);
  // half closed: the client's FIN only
  connection(t, 40006).handshake().c(F.PSH | F.ACK, 10).s(F.ACK).c(F.FIN | F.ACK).s(F.ACK);
  // still open
  connection(t, 40007).handshake().c(F.PSH | F.ACK, 10).s(F.ACK);
  // unreachable: a router answers the SYN with ICMP host unreachable
  const unreachable = connection(t, 40008, 8081, '10.0.1.5', '10.0.9.9');
  unreachable.c(F.SYN, 0, { options: { mss: 1460 } });
  const quoted = ipv4Packet('10.0.1.5', '10.0.9.9', 6, tcpSegment('10.0.1.5', '10.0.9.9', { srcPort: 40008, dstPort: 8081, seq: 1000 + 40008, flags: F.SYN, options: { mss: 1460 } }));
  t.add(ethernetFrame(0x0800, ipv4Packet('10.0.1.1', '10.0.1.5', 1, icmpMessage(3, 1, Buffer.alloc(4), quoted.subarray(0, 28)))), 3);
  // a capture that starts mid-stream, ends with FIN from the server and the client
  const late = connection(t, 40009);
  late.c(F.PSH | F.ACK, 30).s(F.ACK).s(F.FIN | F.ACK).c(F.FIN | F.ACK).s(F.ACK);
  return { name: 'tcp-verdicts.pcap', bytes: pcapFile({ linkType: 1, nanosecond: true }, t.frames), about: 'one TCP connection per verdict: completed, refused, no answer, reset by server, reset by client, half closed, still open, unreachable (ICMP), started before the capture' };
}

function analysis(): Scenario {
  const t = new Timeline();
  // Retransmission after a timeout, and a spurious one (data already acknowledged).
  const rto = connection(t, 41001).handshake();
  rto.c(F.PSH | F.ACK, 100);
  rto.c(F.PSH | F.ACK, 100, { seq: rto.client.seq - 100 }, 300);
  rto.s(F.ACK);
  rto.c(F.PSH | F.ACK, 100, { seq: rto.client.seq - 100 }, 50);

  // Fast retransmission: a lost segment, three duplicate ACKs, the resend within 20 ms.
  const fast = connection(t, 41002).handshake();
  const lostSeq = fast.client.seq;
  fast.c(F.ACK, 1000);
  fast.c(F.ACK, 1000, {}, 0.1);
  fast.c(F.ACK, 1000, {}, 0.1);
  fast.c(F.ACK, 1000, {}, 0.1);
  for (let i = 0; i < 3; i++) fast.s(F.ACK, 0, { ack: lostSeq, options: { sack: [[lostSeq + 1000, lostSeq + 1000 * (i + 2)]] } }, 2);
  fast.c(F.ACK, 1000, { seq: lostSeq }, 2);
  fast.s(F.ACK, 0, {}, 5);

  // Out of order: a later segment first, the earlier one right after.
  const ooo = connection(t, 41003).handshake();
  const first = ooo.client.seq;
  ooo.c(F.ACK, 500, { seq: first + 500 }, 1);
  ooo.c(F.ACK, 500, { seq: first }, 0.5);
  ooo.client.seq = first + 1000;
  ooo.s(F.ACK, 0, {}, 10);

  // Previous segment not captured, and the ACK of the unseen bytes.
  const gap = connection(t, 41004).handshake();
  gap.client.seq += 700;
  gap.c(F.ACK | F.PSH, 300);
  gap.s(F.ACK);

  // Zero window, a zero window probe, its ACK, then a window update.
  const zero = new Connection(t, { address: '10.0.1.5', port: 41005, seq: 5000 }, { address: '10.0.1.9', port: 8081, seq: 9000 }, 0);
  zero.c(F.SYN, 0, { options: { mss: 1460, windowScale: 0 }, window: 8192 });
  zero.s(F.SYN | F.ACK, 0, { options: { mss: 1460, windowScale: 0 }, window: 2000 }, 5);
  zero.c(F.ACK, 0, { window: 8192 }, 5);
  zero.c(F.ACK | F.PSH, 1000, { window: 8192 });
  zero.c(F.ACK | F.PSH, 1000, { window: 8192 }, 0.2);
  zero.s(F.ACK, 0, { window: 0 }, 5);
  zero.c(F.ACK, 1, { window: 8192 }, 200);
  // The receiver still has no room: it repeats its ACK (not of the probe byte), window 0.
  zero.client.seq -= 1;
  zero.s(F.ACK, 0, { window: 0 }, 5);
  zero.s(F.ACK, 0, { window: 4000 }, 300);
  zero.c(F.ACK | F.PSH, 500, { window: 8192 }, 5);

  // Keep-alive and its ACK.
  const keep = connection(t, 41006).handshake();
  keep.c(F.PSH | F.ACK, 20).s(F.ACK);
  keep.c(F.ACK, 0, { seq: keep.client.seq - 1 }, 1000);
  keep.s(F.ACK, 0, {}, 1);

  // A window update: the same ACK with a bigger window.
  const update = connection(t, 41007).handshake();
  update.c(F.PSH | F.ACK, 20).s(F.ACK);
  update.s(F.ACK, 0, { window: 1000 }, 3);

  // Ports reused: a new SYN with another initial sequence number after a completed connection.
  const first1 = connection(t, 41008).handshake();
  first1.c(F.FIN | F.ACK).s(F.FIN | F.ACK).c(F.ACK);
  const again = connection(t, 41008);
  again.client.seq += 77777;
  again.handshake();
  again.c(F.RST | F.ACK);

  // A retransmitted SYN (same sequence number: not a new connection).
  const synAgain = connection(t, 41009, 8081, '10.0.1.5', '10.0.1.10');
  synAgain.c(F.SYN, 0, { seq: synAgain.client.seq });
  synAgain.c(F.SYN, 0, { seq: synAgain.client.seq }, 1000);
  synAgain.client.seq += 1;
  synAgain.s(F.SYN | F.ACK, 0, {}, 1);
  synAgain.c(F.ACK);
  return { name: 'tcp-analysis.pcap', bytes: pcapFile({ linkType: 1, nanosecond: true }, t.frames), about: 'every TCP analysis rule: retransmission, spurious and fast retransmission, duplicate ACK, out of order, previous segment not captured, ACKed unseen segment, zero window and its probe and probe ACK, window full, window update, keep-alive and its ACK, reused ports, a retransmitted SYN' };
}

function windowFull(): Scenario {
  const t = new Timeline();
  const c = new Connection(t, { address: '10.0.1.5', port: 42001, seq: 100 }, { address: '10.0.1.9', port: 8081, seq: 700 });
  c.c(F.SYN, 0, { options: { mss: 1000, windowScale: 1 }, window: 4000 });
  c.s(F.SYN | F.ACK, 0, { options: { mss: 1000, windowScale: 1 }, window: 3000 }, 2);
  c.c(F.ACK, 0, { window: 2000 }, 2);
  c.s(F.ACK, 0, { window: 1000 }, 1);
  // The server advertised 1000 << 1 = 2000 bytes: two segments fill it.
  c.c(F.ACK, 1000, { window: 2000 });
  c.c(F.ACK, 1000, { window: 2000 });
  c.s(F.ACK, 0, { window: 1000 }, 5);
  return { name: 'tcp-window-full.pcap', bytes: pcapFile({ linkType: 1 }, t.frames), about: 'window full with a window scale of 1' };
}

function protocols(): Scenario {
  const t = new Timeline();
  const interfaces = [
    { linkType: 1, name: 'eth0', resolution: 9 },
    { linkType: 276, name: 'any', resolution: 6 },
    { linkType: 101, name: 'tun0' },
    { linkType: 0, name: 'lo0' },
    { linkType: 113, name: 'any-v1' },
  ];
  const eth = (b: Buffer) => t.add(b, 1, 0);
  // VLAN and QinQ
  eth(ethernetFrame(0x0800, ipv4Packet('10.1.0.1', '10.1.0.2', 17, udpDatagram('10.1.0.1', '10.1.0.2', 5000, 5001, 20)), undefined, undefined, [100]));
  eth(ethernetFrame(0x86dd, ipv6Packet('fd00::1', 'fd00::2', 17, udpDatagram('fd00::1', 'fd00::2', 5000, 5001, 20)), undefined, undefined, [200, 300]));
  // ARP request and reply
  const arp = (op: number, sha: string, spa: string, tha: string, tpa: string) => {
    const b = Buffer.alloc(28);
    b.writeUInt16BE(1, 0);
    b.writeUInt16BE(0x0800, 2);
    b[4] = 6;
    b[5] = 4;
    b.writeUInt16BE(op, 6);
    Buffer.from(sha.split(':').map((h) => parseInt(h, 16))).copy(b, 8);
    Buffer.from(spa.split('.').map(Number)).copy(b, 14);
    Buffer.from(tha.split(':').map((h) => parseInt(h, 16))).copy(b, 18);
    Buffer.from(tpa.split('.').map(Number)).copy(b, 24);
    return b;
  };
  eth(ethernetFrame(0x0806, arp(1, '02:42:0a:00:00:01', '10.0.0.1', '00:00:00:00:00:00', '10.0.0.2'), '02:42:0a:00:00:01', 'ff:ff:ff:ff:ff:ff'));
  eth(ethernetFrame(0x0806, arp(2, '02:42:0a:00:00:02', '10.0.0.2', '02:42:0a:00:00:01', '10.0.0.1'), '02:42:0a:00:00:02', '02:42:0a:00:00:01'));
  // DNS query and answer (IPv4), AAAA over IPv6
  eth(udpFrame('10.0.0.1', '10.0.0.53', 33333, 53, dnsMessage(0x1a2b, 'tasks.schemaregistry')));
  eth(udpFrame('10.0.0.53', '10.0.0.1', 53, 33333, dnsMessage(0x1a2b, 'tasks.schemaregistry', ['10.0.1.9', '10.0.1.10'])));
  eth(udpFrame('fd00::1', 'fd00::53', 33334, 53, dnsMessage(0x0707, 'example.org', ['2001:db8::7'], true, 28)));
  // IPv4 options (record route) and fragments
  eth(ethernetFrame(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 17, udpDatagram('10.0.0.1', '10.0.0.2', 7000, 7001, 8), { options: Buffer.from([7, 7, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0].slice(0, 8)) })));
  const big = udpDatagram('10.0.0.1', '10.0.0.2', 7002, 7003, 2000);
  eth(ethernetFrame(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 17, big.subarray(0, 1480), { id: 77, moreFragments: true })));
  eth(ethernetFrame(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 17, big.subarray(1480), { id: 77, fragmentOffset: 1480 })));
  // IPv6 with a hop-by-hop header and a destination options header before TCP
  const hop = Buffer.from([60, 0, 1, 4, 0, 0, 0, 0]);
  const dest = Buffer.concat([Buffer.from([6, 0, 1, 4, 0, 0, 0, 0])]);
  eth(ethernetFrame(0x86dd, ipv6Packet('fd00::1', 'fd00::2', 0, Buffer.concat([hop, dest, tcpSegment('fd00::1', 'fd00::2', { srcPort: 45000, dstPort: 443, seq: 1, flags: F.SYN, options: { mss: 1440 } })]))));
  // ICMP port unreachable quoting a UDP datagram; ICMPv6 unreachable quoting TCP
  const udpOut = ipv4Packet('10.0.0.1', '10.0.0.9', 17, udpDatagram('10.0.0.1', '10.0.0.9', 50000, 9999, 12));
  eth(ethernetFrame(0x0800, udpOut));
  eth(ethernetFrame(0x0800, ipv4Packet('10.0.0.9', '10.0.0.1', 1, icmpMessage(3, 3, Buffer.alloc(4), udpOut))));
  const tcp6 = ipv6Packet('fd00::1', 'fd00::9', 6, tcpSegment('fd00::1', 'fd00::9', { srcPort: 45001, dstPort: 80, seq: 5, flags: F.SYN }));
  eth(ethernetFrame(0x86dd, tcp6));
  eth(ethernetFrame(0x86dd, ipv6Packet('fd00::fe', 'fd00::1', 58, icmpMessage(1, 4, Buffer.alloc(4), tcp6))));
  // ICMP echo
  eth(ethernetFrame(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 1, icmpMessage(8, 0, Buffer.from([0, 7, 0, 1]), Buffer.alloc(16)))));
  // VXLAN on 4789: a swarm overlay packet (inner TCP SYN, VNI 4097)
  const inner = ethernetFrame(0x0800, ipv4Packet('10.0.5.3', '10.0.5.7', 6, tcpSegment('10.0.5.3', '10.0.5.7', { srcPort: 46000, dstPort: 8081, seq: 10, flags: F.SYN, options: { mss: 1410 } })), '02:42:0a:00:05:03', '02:42:0a:00:05:07');
  eth(udpFrame('10.99.0.12', '10.99.0.10', 51000, 4789, vxlanPayload(4097, inner)));
  // Linux cooked v2: outgoing SYN on interface 7, incoming RST on interface 7
  const sllSyn = ipv4Packet('10.0.5.3', '10.0.5.7', 6, tcpSegment('10.0.5.3', '10.0.5.7', { srcPort: 46001, dstPort: 8081, seq: 99, flags: F.SYN }));
  t.add(sll2Frame(0x0800, sllSyn, 7, 4), 1, 1);
  const sllRst = ipv4Packet('10.0.5.7', '10.0.5.3', 6, tcpSegment('10.0.5.7', '10.0.5.3', { srcPort: 8081, dstPort: 46001, seq: 0, ack: 100, flags: F.RST | F.ACK, window: 0 }));
  t.add(sll2Frame(0x0800, sllRst, 7, 0), 1, 1);
  // Raw IP, null/loopback (AF_INET6 = 30 little-endian) and Linux cooked v1
  t.add(ipPacket('192.168.1.1', '192.168.1.2', 17, udpDatagram('192.168.1.1', '192.168.1.2', 1000, 2000, 4)), 1, 2);
  const loop = Buffer.concat([Buffer.from([30, 0, 0, 0]), ipv6Packet('::1', '::1', 17, udpDatagram('::1', '::1', 3000, 4000, 4))]);
  t.add(loop, 1, 3);
  const sll1 = Buffer.alloc(16);
  sll1.writeUInt16BE(4, 0);
  sll1.writeUInt16BE(1, 2);
  sll1.writeUInt16BE(6, 4);
  sll1.writeUInt16BE(0x0800, 14);
  t.add(Buffer.concat([sll1, ipv4Packet('10.2.0.1', '10.2.0.2', 17, udpDatagram('10.2.0.1', '10.2.0.2', 1111, 2222, 3))]), 1, 4);
  return { name: 'protocols.pcapng', bytes: pcapngFile({ interfaces }, t.frames), about: 'pcapng with five interfaces and link types (Ethernet at ns resolution, SLL2, raw IP, null, SLL): VLAN, QinQ, ARP, DNS, IPv4 options and fragments, IPv6 extension headers, ICMP and ICMPv6 errors, echo, VXLAN on 4789' };
}

function customVxlanPort(): Scenario {
  const t = new Timeline();
  for (let i = 0; i < 3; i++) {
    const inner = ethernetFrame(0x0800, ipv4Packet('10.0.6.2', '10.0.6.3', 17, udpDatagram('10.0.6.2', '10.0.6.3', 5353 + i, 53, dnsMessage(i, 'db.internal'))));
    t.add(udpFrame('192.168.50.1', '192.168.50.2', 40000 + i, 7789, vxlanPayload(256 + i, inner)));
  }
  return { name: 'vxlan-port-7789.pcap', bytes: pcapFile({ linkType: 1 }, t.frames), tsharkArgs: ['-d', 'udp.port==7789,vxlan'], about: 'VXLAN on a swarm data-path port (7789), inner DNS queries' };
}

export function scenarios(): Scenario[] {
  return [verdicts(), analysis(), windowFull(), protocols(), customVxlanPort()];
}
