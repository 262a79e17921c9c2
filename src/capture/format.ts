// Text forms of addresses and numbers, as Wireshark and tcpdump print them.

export function ipv4Text(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

export function ipv4At(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text (inet_ntop's): the longest run of two or more zero groups becomes "::". */
export function ipv6Words(w: ArrayLike<number>, at = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 4; i++) {
    const word = w[at + i] >>> 0;
    groups.push(word >>> 16, word & 0xffff);
  }
  return ipv6Groups(groups);
}

export function ipv6At(b: Uint8Array, o: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[o + 2 * i] << 8) | b[o + 2 * i + 1]);
  return ipv6Groups(groups);
}

function ipv6Groups(g: number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) bestStart = -1;
  // IPv4-compatible and IPv4-mapped addresses end in dotted form, as inet_ntop writes them.
  const dottedTail =
    bestStart === 0 && (bestLength === 6 || (bestLength === 7 && g[7] !== 1) || (bestLength === 5 && g[5] === 0xffff));
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += i === 0 ? '::' : ':';
      i += bestLength - 1;
      continue;
    }
    if (dottedTail && i === 6) {
      text += `${g[6] >>> 8}.${g[6] & 0xff}.${g[7] >>> 8}.${g[7] & 0xff}`;
      break;
    }
    text += g[i].toString(16);
    if (i < 7) text += ':';
  }
  return text;
}

export function macAt(b: Uint8Array, o: number, length = 6): string {
  let text = '';
  for (let i = 0; i < length; i++) {
    if (i) text += ':';
    text += b[o + i].toString(16).padStart(2, '0');
  }
  return text;
}

export function hex(value: number, digits: number): string {
  return '0x' + (value >>> 0).toString(16).padStart(digits, '0');
}

export function bytesHex(b: Uint8Array, o: number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += b[o + i].toString(16).padStart(2, '0');
  return text;
}
