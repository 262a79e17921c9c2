// The fast path runs in the reader thread from its source text: it must stand alone, and its
// literal numbers must be the constants they stand for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketDecoder } from '../../../src/capture/decoder';
import * as fastPath from '../../../src/capture/fastPath';
import { TcpFlag, ethernetFrame, ipv4Packet, tcpFrame, udpDatagram, udpFrame, vxlanPayload } from '../../../src/capture/frameBuilder';
import { Layer, Mark, Protocol } from '../../../src/capture/packet';

const { fastParse, ROW_INTS } = fastPath;
const udpApps = new PacketDecoder({ vxlanPorts: [7789] }).udpApps;

const frames: [string, Buffer][] = [
  ['tcp', tcpFrame('10.0.0.1', '10.0.1.2', { srcPort: 40000, dstPort: 80, seq: 0xfffffff0, ack: 7, flags: TcpFlag.SYN | TcpFlag.ACK, window: 65535, options: { mss: 1460, windowScale: 7, sackPermitted: true, timestamps: [1, 2] } })],
  ['dns over tcp', tcpFrame('10.0.0.1', '10.0.0.254', { srcPort: 40000, dstPort: 53, seq: 1, flags: TcpFlag.ACK | TcpFlag.PSH, payload: 30 })],
  ['udp', udpFrame('10.0.0.1', '10.0.0.2', 1234, 5678, 20)],
  ['dns', udpFrame('10.0.0.1', '10.0.0.254', 1234, 53, 40)],
  ['vxlan', ethernetFrame(0x0800, ipv4Packet('10.99.0.10', '10.99.0.11', 17, udpDatagram('10.99.0.10', '10.99.0.11', 40001, 7789, vxlanPayload(4097, tcpFrame('10.0.0.1', '10.0.1.2', { srcPort: 40000, dstPort: 80, seq: 1, flags: TcpFlag.ACK }))))) ],
  ['ipv6 (not for the fast path)', tcpFrame('fd00::1', 'fd00::2', { srcPort: 1, dstPort: 2, seq: 3, flags: TcpFlag.ACK })],
];

describe('the fast path', () => {
  it('stands alone: compiled from its source text it reads every frame as the module function does', () => {
    const standalone = new Function(`return (${fastParse.toString()})`)() as typeof fastParse;
    for (const [name, frame] of frames) {
      const a = new Int32Array(ROW_INTS).fill(-7);
      const b = new Int32Array(ROW_INTS).fill(-7);
      assert.equal(standalone(frame, 0, frame.length, frame.length, udpApps, a, 0), fastParse(frame, 0, frame.length, frame.length, udpApps, b, 0), name);
      assert.deepEqual(a, b, name);
    }
  });

  it('its literal numbers are the constants they stand for', () => {
    const row = new Int32Array(ROW_INTS);
    const read = (frame: Buffer) => {
      assert.ok(fastParse(frame, 0, frame.length, frame.length, udpApps, row, 0));
      return { layers: row[fastPath.R_LAYERS], protocol: row[fastPath.R_PROTOCOL_COLUMN], marks: row[fastPath.R_MARKS] };
    };
    assert.deepEqual(read(frames[0][1]), { layers: Layer.ETH | Layer.IPV4 | Layer.TCP, protocol: Protocol.TCP, marks: 0 });
    assert.deepEqual(read(frames[1][1]), { layers: Layer.ETH | Layer.IPV4 | Layer.TCP | Layer.DNS, protocol: Protocol.DNS, marks: 0 });
    assert.deepEqual(read(frames[2][1]), { layers: Layer.ETH | Layer.IPV4 | Layer.UDP, protocol: Protocol.UDP, marks: 0 });
    assert.deepEqual(read(frames[3][1]), { layers: Layer.ETH | Layer.IPV4 | Layer.UDP | Layer.DNS, protocol: Protocol.DNS, marks: 0 });
    assert.deepEqual(read(frames[4][1]), { layers: Layer.ETH | Layer.IPV4 | Layer.UDP | Layer.VXLAN | Layer.TCP, protocol: Protocol.TCP, marks: Mark.TUNNELED });
    // The words it writes are the row's: R_PROTOCOL .. R_TUNNEL_DST_PORT.
    assert.equal(row[fastPath.R_PROTOCOL], 6);
    assert.equal(row[fastPath.R_TUNNEL], 1);
    assert.equal(row[fastPath.R_TUNNEL_DST_PORT], 7789);
    assert.equal(row[fastPath.R_SRC_PORT], 40000);
    read(frames[0][1]);
    assert.equal(row[fastPath.R_SEQ] >>> 0, 0xfffffff0);
    assert.equal(row[fastPath.R_WINDOW_SCALE], 7);
    assert.equal(row[fastPath.R_TCP_FLAGS], TcpFlag.SYN | TcpFlag.ACK);
    assert.equal(fastParse(frames[5][1], 0, frames[5][1].length, frames[5][1].length, udpApps, row, 0), false);
  });
});
