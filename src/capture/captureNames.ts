// The swarm's names for a capture's addresses, as they were when it was taken, in a file beside
// it ("<capture>.names.json"). Tasks move and addresses are reused: a capture opened tomorrow must
// not call yesterday's schemaregistry address by the name of whatever holds it today.
import * as fs from 'node:fs';
import type { PacketIndex } from './packetIndex';

export interface CaptureNames {
  /** When the names were read from the swarm (ISO 8601). */
  takenAt: string;
  /** Address → owner in words ("schemaregistry.1 on swarm00"). */
  names: Map<string, string>;
}

const VERSION = 1;

export function captureNamesPath(capture: string): string {
  return `${capture}.names.json`;
}

/** Writes the names beside the capture; a failure is returned, never thrown (the capture matters more). */
export function writeCaptureNames(capture: string, names: ReadonlyMap<string, string>, takenAt: Date = new Date()): string | undefined {
  try {
    const body = { version: VERSION, takenAt: takenAt.toISOString(), names: Object.fromEntries([...names].sort(([a], [b]) => a.localeCompare(b))) };
    fs.writeFileSync(captureNamesPath(capture), `${JSON.stringify(body, null, 1)}\n`);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The names beside a capture; undefined when there is no such file or it cannot be read as one. */
export function readCaptureNames(capture: string): CaptureNames | undefined {
  let text: string;
  try {
    text = fs.readFileSync(captureNamesPath(capture), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const body = JSON.parse(text) as { version?: unknown; takenAt?: unknown; names?: unknown };
    if (body.version !== VERSION || typeof body.takenAt !== 'string' || !body.names || typeof body.names !== 'object') return undefined;
    const names = new Map<string, string>();
    for (const [address, name] of Object.entries(body.names as Record<string, unknown>)) if (typeof name === 'string') names.set(address, name);
    return { takenAt: body.takenAt, names };
  } catch {
    return undefined;
  }
}

export function removeCaptureNames(capture: string): void {
  fs.rmSync(captureNamesPath(capture), { force: true });
}

/**
 * The names a capture carries for its addresses: those kept beside it when it was taken first
 * (ours, in the swarm's own words), then its own (a pcapng name resolution block, where an export
 * of ours writes them with underscores for Wireshark). Undefined for an address neither names.
 */
export function capturedNames(index: PacketIndex, kept: CaptureNames | undefined): (address: string) => string | undefined {
  return (address) => kept?.names.get(address) ?? index.addressNames.get(address)?.[0];
}
