// The index's fast path: the common frame (Ethernet, IPv4, TCP or UDP, possibly inside VXLAN)
// read without the general decoder, into a row of int32. It runs on the indexing thread and, for
// pcap files read ahead, in the reader thread (where the bytes were just copied): that thread
// gets this function's source text (Function.prototype.toString), so it must stay
// self-contained: nothing but its parameters, its locals and literal numbers (the names of the
// constants they stand for are in the comments; fastPath.test.ts checks them).

/** A row: what fastParse reads (R_PROTOCOL .. R_TUNNEL_DST_PORT), what the index adds. */
export const R_CAPTURED = 0;
export const R_ORIGINAL = 1;
export const R_INTERFACE = 2;
export const R_TIME_IS_ZERO = 3;
/** 6 or 17; 0 in a row the fast path did not take. */
export const R_PROTOCOL = 4;
export const R_SRC = 5;
export const R_DST = 6;
export const R_SRC_PORT = 7;
export const R_DST_PORT = 8;
/** Sequence numbers as int32: read back with >>> 0. */
export const R_SEQ = 9;
export const R_ACK = 10;
export const R_TCP_FLAGS = 11;
export const R_WINDOW = 12;
export const R_WINDOW_SCALE = 13;
export const R_SEGMENT_LENGTH = 14;
export const R_LAYERS = 15;
export const R_PROTOCOL_COLUMN = 16;
export const R_MARKS = 17;
export const R_HASH = 18;
/** 1 when the frame came in VXLAN: then the outer flow follows. */
export const R_TUNNEL = 19;
export const R_TUNNEL_SRC = 20;
export const R_TUNNEL_DST = 21;
export const R_TUNNEL_SRC_PORT = 22;
export const R_TUNNEL_DST_PORT = 23;
export const R_TUNNEL_HASH = 24;
/** pcap records read ahead: the record's seconds and fraction, and where it is in its chunk. */
export const R_SECONDS = 25;
export const R_FRACTION = 26;
export const R_RECORD = 27;
/** Int32 per row; as float64: the packet's time (ns from the first) and file offset. */
export const ROW_INTS = 32;
export const RD_TIME = 14;
export const RD_FILE_OFFSET = 15;

/**
 * Reads the common frame at b[start, start + capturedLength) into row[r + R_PROTOCOL ..
 * r + R_TUNNEL_DST_PORT], exactly as the general decoder and the index would see it
 * (test/unit/capture/index.test.ts compares the two on the corpus and on frames cut and
 * altered byte by byte): Ethernet II, IPv4 (header whole, lengths consistent, not a fragment),
 * TCP (header whole, options well formed) or UDP (length consistent), the UDP possibly carrying
 * DNS or one level of VXLAN (per `udpApps`, the decoder's table of UDP ports). Anything else, or
 * anything odd, returns false and writes nothing: the general path takes the frame.
 */
export function fastParse(b: Uint8Array, start: number, capturedLength: number, originalLength: number, udpApps: Uint8Array, row: Int32Array, r: number): boolean {
  let end = start + capturedLength;
  let reported = start + (originalLength > capturedLength ? originalLength : capturedLength);
  let o = start;
  let layers = 0;
  let protocolColumn = 0; // Protocol.OTHER
  let marks = 0;
  // The outer flow of a VXLAN tunnel.
  let tunnel = 0;
  let tunnelSrc = 0;
  let tunnelDst = 0;
  let tunnelSrcPort = 0;
  let tunnelDstPort = 0;
  let protocol = 0;
  let src = 0;
  let dst = 0;
  let srcPort = 0;
  let dstPort = 0;
  let seq = 0;
  let ack = 0;
  let tcpFlags = 0;
  let window = 0;
  let windowScale = -1;
  let segmentLength = -1;
  for (let depth = 0; ; depth++) {
    // Ethernet II carrying IPv4.
    if (end - o < 34 || b[o + 12] !== 0x08 || b[o + 13] !== 0x00) return false;
    o += 14;
    // IPv4: version 4, header whole, total length within the frame, not a fragment.
    const versionAndLength = b[o];
    if (versionAndLength >> 4 !== 4) return false;
    const headerLength = (versionAndLength & 0x0f) * 4;
    const totalLength = (b[o + 2] << 8) | b[o + 3];
    if (headerLength < 20 || end - o < headerLength || totalLength < headerLength || totalLength > reported - o || ((b[o + 6] & 0x3f) | b[o + 7]) !== 0) return false;
    protocol = b[o + 9];
    src = (b[o + 12] << 24) | (b[o + 13] << 16) | (b[o + 14] << 8) | b[o + 15];
    dst = (b[o + 16] << 24) | (b[o + 17] << 16) | (b[o + 18] << 8) | b[o + 19];
    reported = o + totalLength;
    if (end > reported) end = reported;
    o += headerLength;
    if (protocol === 6) {
      // TCP, its header whole.
      if (end - o < 20) return false;
      const tcpHeaderLength = (b[o + 12] >> 4) * 4;
      if (tcpHeaderLength < 20 || o + tcpHeaderLength > end) return false;
      srcPort = (b[o] << 8) | b[o + 1];
      dstPort = (b[o + 2] << 8) | b[o + 3];
      seq = (b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7];
      ack = (b[o + 8] << 24) | (b[o + 9] << 16) | (b[o + 10] << 8) | b[o + 11];
      tcpFlags = ((b[o + 12] << 8) | b[o + 13]) & 0x0fff;
      window = (b[o + 14] << 8) | b[o + 15];
      segmentLength = reported - o - tcpHeaderLength;
      // Options: the window scale; a malformed one is the general path's to report.
      const optionsEnd = o + tcpHeaderLength;
      for (let p = o + 20; p < optionsEnd; ) {
        const kind = b[p];
        if (kind === 0) break;
        if (kind === 1) {
          p++;
          continue;
        }
        if (p + 1 >= optionsEnd) return false;
        const length = b[p + 1];
        if (length < 2 || p + length > optionsEnd) return false;
        if (kind === 3 && length === 3) windowScale = b[p + 2] < 14 ? b[p + 2] : 14;
        p += length;
      }
      layers |= 0x21 | 0x08; // Layer.ETH | Layer.TCP | Layer.IPV4
      protocolColumn = 4; // Protocol.TCP
      if ((srcPort === 53 || dstPort === 53) && end - optionsEnd >= 14) {
        layers |= 0x400; // Layer.DNS
        protocolColumn = 8; // Protocol.DNS
      }
      break;
    }
    if (protocol !== 17) return false;
    // UDP, with a length that fits.
    if (end - o < 8) return false;
    srcPort = (b[o] << 8) | b[o + 1];
    dstPort = (b[o + 2] << 8) | b[o + 3];
    const udpLength = (b[o + 4] << 8) | b[o + 5];
    if (udpLength < 8 || udpLength > reported - o) return false;
    layers |= 0x41 | 0x08; // Layer.ETH | Layer.UDP | Layer.IPV4
    protocolColumn = 5; // Protocol.UDP
    const payloadEnd = end < o + udpLength ? end : o + udpLength;
    const app = udpApps[srcPort < dstPort ? srcPort : dstPort] || udpApps[srcPort < dstPort ? dstPort : srcPort];
    if (app === 0) break; // UdpApp.NONE
    if (app === 1 || app === 2 || app === 3) {
      // UdpApp.DNS, MDNS, LLMNR
      if (payloadEnd - (o + 8) >= 12) {
        layers |= 0x400; // Layer.DNS
        protocolColumn = 8; // Protocol.DNS
      }
      break;
    }
    // VXLAN, once: its frame is decoded as the packet's, the UDP flow is the tunnel's.
    if (app !== 4 || depth > 0 || payloadEnd - (o + 8) < 8) return false; // UdpApp.VXLAN
    layers |= 0x800; // Layer.VXLAN
    marks |= 0x20; // Mark.TUNNELED
    tunnel = 1;
    tunnelSrc = src;
    tunnelDst = dst;
    tunnelSrcPort = srcPort;
    tunnelDstPort = dstPort;
    reported = o + udpLength;
    end = payloadEnd;
    o += 16;
  }
  row[r + 4] = protocol; // R_PROTOCOL
  row[r + 5] = src; // R_SRC
  row[r + 6] = dst; // R_DST
  row[r + 7] = srcPort; // R_SRC_PORT
  row[r + 8] = dstPort; // R_DST_PORT
  row[r + 9] = seq; // R_SEQ
  row[r + 10] = ack; // R_ACK
  row[r + 11] = tcpFlags; // R_TCP_FLAGS
  row[r + 12] = window; // R_WINDOW
  row[r + 13] = windowScale; // R_WINDOW_SCALE
  row[r + 14] = segmentLength; // R_SEGMENT_LENGTH
  row[r + 15] = layers; // R_LAYERS
  row[r + 16] = protocolColumn; // R_PROTOCOL_COLUMN
  row[r + 17] = marks; // R_MARKS
  row[r + 19] = tunnel; // R_TUNNEL
  row[r + 20] = tunnelSrc; // R_TUNNEL_SRC
  row[r + 21] = tunnelDst; // R_TUNNEL_DST
  row[r + 22] = tunnelSrcPort; // R_TUNNEL_SRC_PORT
  row[r + 23] = tunnelDstPort; // R_TUNNEL_DST_PORT
  return true;
}
