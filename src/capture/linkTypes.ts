// Link-layer header types as pcap and pcapng files carry them (the LINKTYPE_* values of
// https://www.tcpdump.org/linktypes.html), with the few DLT_* values libpcap writes as they are.

export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  /** DLT_RAW on most systems; libpcap writes LINKTYPE_RAW (101) but old files carry 12 or 14. */
  RAW_12: 12,
  RAW_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** libpcap and wiretap refuse bigger records for ordinary link types; so do we. */
export const MAX_CAPTURED_LENGTH = 262_144;
/** USB (189, 220, 249) and D-Bus (231) carry frames far bigger than a network's. */
export const LARGE_FRAME_LINK_TYPES: readonly number[] = [189, 220, 249, 231];

const names: Record<number, string> = {
  0: 'NULL (BSD loopback)',
  1: 'Ethernet',
  6: 'IEEE 802.5 Token Ring',
  8: 'SLIP',
  9: 'PPP',
  10: 'FDDI',
  12: 'Raw IP',
  14: 'Raw IP',
  50: 'PPP in HDLC-like framing',
  101: 'Raw IP',
  104: 'Cisco HDLC',
  105: 'IEEE 802.11',
  107: 'Frame Relay',
  108: 'OpenBSD loopback',
  113: 'Linux cooked (SLL)',
  119: 'Prism 802.11',
  127: 'IEEE 802.11 radiotap',
  129: 'ARCNET',
  137: 'Juniper',
  143: 'DOCSIS',
  147: 'User 0',
  149: 'Apple IP over IEEE 1394',
  195: 'IEEE 802.15.4',
  201: 'Bluetooth HCI H4 with phdr',
  220: 'USB Linux mmapped',
  228: 'Raw IPv4',
  229: 'Raw IPv6',
  276: 'Linux cooked v2 (SLL2)',
};

export function linkTypeName(linkType: number): string {
  return names[linkType] ?? `link type ${linkType}`;
}

/** Link types whose frames this layer decodes down to IP. */
export function isDecodedLinkType(linkType: number): boolean {
  switch (linkType) {
    case LinkType.NULL:
    case LinkType.ETHERNET:
    case LinkType.RAW_12:
    case LinkType.RAW_14:
    case LinkType.RAW:
    case LinkType.LOOP:
    case LinkType.LINUX_SLL:
    case LinkType.IPV4:
    case LinkType.IPV6:
    case LinkType.LINUX_SLL2:
      return true;
    default:
      return false;
  }
}
