// The packet viewer's selection as filters come and go. Plain data, no DOM: the webview keeps a
// Selection; the host answers where a packet stands in the shown list (placeInShown).
//
// The selection is a packet (its number), not a row: when a filter (or any rebuild of the list)
// comes, the webview asks the host where its packet now is. Still shown: it stays selected at its
// new row. Hidden: nothing is selected and the details say so (never the hidden packet's fields
// under a list that does not show it); the packet is remembered, so it is selected again when a
// filter shows it, and ↑/↓ go on from where it would be, to the shown packets around it.
import type { SelectionPlace } from './protocol';

/**
 * Where packet `number` (1-based) stands among `shown` (ascending 0-based packet indices that pass
 * the filter; undefined: every one of `total` packets is shown).
 */
export function placeInShown(shown: ArrayLike<number> | undefined, total: number, number: number): SelectionPlace {
  const packet = number - 1;
  if (!shown) return { number, position: Math.max(0, Math.min(packet, total)), shown: packet >= 0 && packet < total };
  let low = 0;
  let high = shown.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (shown[middle] < packet) low = middle + 1;
    else high = middle;
  }
  return { number, position: low, shown: low < shown.length && shown[low] === packet };
}

export interface Selection {
  /** The packet chosen (1-based); kept while a filter hides it. Undefined: none, or its row has not arrived yet. */
  number: number | undefined;
  /** Its row in the shown list; -1 when nothing is selected, the packet is hidden, or its place is being asked. */
  position: number;
  /** Where navigation goes on from when no row is selected: the row the hidden packet would have. */
  gap: number;
  /** The list was rebuilt and the host has not yet said where the packet now is. */
  placing: boolean;
}

export const NO_SELECTION: Selection = { number: undefined, position: -1, gap: 0, placing: false };

/** A row chosen (clicked, or reached with the keyboard); `number` once its row has arrived. */
export function selectRow(position: number, number: number | undefined): Selection {
  return { number, position, gap: position, placing: false };
}

/** The list was rebuilt (a filter, a time format): the packet's row is unknown until placed. */
export function listRebuilt(selection: Selection): Selection {
  return selection.number === undefined ? NO_SELECTION : { number: selection.number, position: -1, gap: 0, placing: true };
}

/** The host's answer; ignored when it is about another packet than the one selected now. */
export function placed(selection: Selection, place: SelectionPlace): Selection {
  if (!selection.placing || selection.number !== place.number) return selection;
  return place.shown ? selectRow(place.position, place.number) : { number: place.number, position: -1, gap: place.position, placing: false };
}

export function isHidden(selection: Selection): boolean {
  return selection.number !== undefined && selection.position < 0 && !selection.placing;
}

export type NavigationKey = 'ArrowDown' | 'ArrowUp' | 'PageDown' | 'PageUp' | 'Home' | 'End';

/**
 * The row a key moves to in a list of `count` rows (`page` rows a page), or undefined when there is
 * none. From a selected row: that many rows on. With nothing selected: from the gap, as if the cursor
 * sat just above the row there: ↓ selects that row (the first shown after a hidden packet), ↑ the one
 * before it.
 */
export function navigate(selection: Selection, key: NavigationKey, count: number, page: number): number | undefined {
  if (count <= 0) return undefined;
  const clamp = (position: number) => Math.min(count - 1, Math.max(0, position));
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  const step = key === 'ArrowDown' || key === 'ArrowUp' ? 1 : Math.max(1, page);
  const down = key === 'ArrowDown' || key === 'PageDown';
  if (selection.position >= 0) return clamp(selection.position + (down ? step : -step));
  const gap = selection.placing ? 0 : selection.gap;
  return clamp(down ? gap + step - 1 : gap - step);
}

/** What the details pane shows: a packet's fields, or a sentence saying why there are none. */
export type DetailsContent =
  | { kind: 'packet'; number: number }
  | { kind: 'message'; text: string }
  /** The row, or the packet's new place, is on its way: leave the pane as it is for now. */
  | { kind: 'wait' };

export function detailsContent(selection: Selection, count: number, growing: boolean): DetailsContent {
  if (selection.placing || (selection.position >= 0 && selection.number === undefined)) return { kind: 'wait' };
  if (selection.number !== undefined && selection.position >= 0) return { kind: 'packet', number: selection.number };
  if (selection.number !== undefined) {
    const around = count === 0 ? 'No packet matches the filter.' : '↑ and ↓ select the shown packets around it.';
    return { kind: 'message', text: `Packet ${selection.number} is hidden by the filter. ${around} Change or clear the filter to see it again.` };
  }
  if (count === 0) return { kind: 'message', text: growing ? 'No packets yet: the capture is running.' : 'No packets shown.' };
  return { kind: 'message', text: 'Select a packet to see its fields and bytes.' };
}
