// A display filter as a predicate over the index, decoding a packet only when the filter asks for
// a field the index does not keep. For the viewer and the CLI.
import { compileFilter, FilterError } from './filter';
import type { CaptureFile, PacketIndex } from './packetIndex';

export type PacketPredicate = (index: PacketIndex, i: number) => boolean;

export type PredicateResult = { ok: true; predicate: PacketPredicate | undefined } | { ok: false; error: string };

/** Compiles a filter for one capture file; an empty filter passes every packet (predicate undefined). */
export function packetPredicate(text: string, file: CaptureFile): PredicateResult {
  if (!text.trim()) return { ok: true, predicate: undefined };
  try {
    const filter = compileFilter(text);
    return {
      ok: true,
      predicate: (index, i) => {
        let decoded: ReturnType<CaptureFile['details']> | undefined;
        return filter.matches({ index, i, details: () => (decoded ??= file.details(index, i)) });
      },
    };
  } catch (error) {
    if (error instanceof FilterError) return { ok: false, error: error.message };
    throw error;
  }
}
