// The packet viewer's selection across filters (src/webview/packetViewer/selection.ts): the details
// pane never shows a packet the list does not, a hidden packet is remembered, and the keyboard goes
// on from where it would be.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detailsContent, isHidden, listRebuilt, navigate, NO_SELECTION, placed, placeInShown, selectRow, type Selection } from '../../src/webview/packetViewer/selection';

/** The webview's side of one rebuild: the list changes, the host places the selected packet. */
function rebuild(selection: Selection, shown: number[] | undefined, total: number): Selection {
  const rebuilt = listRebuilt(selection);
  return rebuilt.number === undefined ? rebuilt : placed(rebuilt, placeInShown(shown, total, rebuilt.number));
}

describe('packet viewer: where a packet stands in the shown list', () => {
  it('no filter: every packet at its own row', () => {
    assert.deepEqual(placeInShown(undefined, 14, 1), { number: 1, position: 0, shown: true });
    assert.deepEqual(placeInShown(undefined, 14, 14), { number: 14, position: 13, shown: true });
  });

  it('a filter: a shown packet at its row among the matches, a hidden one at the row of the next shown packet', () => {
    const shown = Int32Array.from([1, 4, 9]); // packets 2, 5 and 10
    assert.deepEqual(placeInShown(shown, 14, 5), { number: 5, position: 1, shown: true });
    assert.deepEqual(placeInShown(shown, 14, 1), { number: 1, position: 0, shown: false });
    assert.deepEqual(placeInShown(shown, 14, 7), { number: 7, position: 2, shown: false });
    assert.deepEqual(placeInShown(shown, 14, 14), { number: 14, position: 3, shown: false }, 'after the last: the count');
    assert.deepEqual(placeInShown(new Int32Array(0), 14, 3), { number: 3, position: 0, shown: false }, 'nothing matches');
  });

  it('agrees with a linear search on many lists', () => {
    for (let seed = 1; seed < 200; seed++) {
      const total = seed % 37;
      const shown = Array.from({ length: total }, (_, i) => i).filter((i) => (i * seed + 7) % 5 < 2);
      for (let number = 1; number <= total; number++) {
        const at = shown.indexOf(number - 1);
        const after = shown.findIndex((p) => p > number - 1);
        assert.deepEqual(placeInShown(shown, total, number), { number, position: at >= 0 ? at : after >= 0 ? after : shown.length, shown: at >= 0 });
      }
    }
  });
});

describe('packet viewer: the selection when a filter comes', () => {
  it('the defect: frame 1 selected, a filter shows only frame 2: the details no longer show frame 1', () => {
    const before = selectRow(0, 1);
    assert.deepEqual(detailsContent(before, 14, false), { kind: 'packet', number: 1 });
    const after = rebuild(before, [1], 14);
    assert.equal(after.position, -1, 'no row is selected: frame 1 is not in the list');
    assert.equal(isHidden(after), true);
    const content = detailsContent(after, 1, false);
    assert.equal(content.kind, 'message');
    assert.match(content.kind === 'message' ? content.text : '', /^Packet 1 is hidden by the filter\. ↑ and ↓ select the shown packets around it\./);
  });

  it('a selected packet the filter keeps stays selected, at its new row', () => {
    const after = rebuild(selectRow(4, 5), [1, 4, 9], 14);
    assert.deepEqual(after, selectRow(1, 5));
    assert.deepEqual(detailsContent(after, 3, false), { kind: 'packet', number: 5 });
  });

  it('a hidden packet is selected again when a filter shows it (the filter cleared)', () => {
    const hidden = rebuild(selectRow(6, 7), [1, 4, 9], 14);
    assert.equal(isHidden(hidden), true);
    assert.deepEqual(rebuild(hidden, undefined, 14), selectRow(6, 7));
  });

  it('until the host has placed it, the details pane is left alone (no flicker), and an answer about another packet is ignored', () => {
    const rebuilt = listRebuilt(selectRow(4, 5));
    assert.deepEqual(detailsContent(rebuilt, 3, false), { kind: 'wait' });
    assert.equal(placed(rebuilt, { number: 6, position: 0, shown: true }), rebuilt);
    const chosenSince = selectRow(2, 10);
    assert.equal(placed(chosenSince, { number: 5, position: 1, shown: true }), chosenSince, 'a row clicked meanwhile wins');
  });

  it('nothing selected stays nothing selected, with a sentence for the pane', () => {
    assert.deepEqual(listRebuilt(NO_SELECTION), NO_SELECTION);
    assert.deepEqual(detailsContent(NO_SELECTION, 14, false), { kind: 'message', text: 'Select a packet to see its fields and bytes.' });
    assert.deepEqual(detailsContent(NO_SELECTION, 0, false), { kind: 'message', text: 'No packets shown.' });
    assert.deepEqual(detailsContent(NO_SELECTION, 0, true), { kind: 'message', text: 'No packets yet: the capture is running.' });
  });

  it('a filter nothing matches says so', () => {
    const content = detailsContent(rebuild(selectRow(0, 1), [], 14), 0, false);
    assert.equal(content.kind === 'message' && content.text.startsWith('Packet 1 is hidden by the filter. No packet matches the filter.'), true);
  });

  it('a row whose data has not arrived yet: wait for it before asking for details', () => {
    assert.deepEqual(detailsContent(selectRow(3, undefined), 14, false), { kind: 'wait' });
  });
});

describe('packet viewer: the keyboard', () => {
  const page = 10;

  it('from a selected row: one row or a page on, kept inside the list', () => {
    const at = selectRow(5, 6);
    assert.equal(navigate(at, 'ArrowDown', 14, page), 6);
    assert.equal(navigate(at, 'ArrowUp', 14, page), 4);
    assert.equal(navigate(at, 'PageDown', 14, page), 13);
    assert.equal(navigate(at, 'PageUp', 14, page), 0);
    assert.equal(navigate(at, 'Home', 14, page), 0);
    assert.equal(navigate(at, 'End', 14, page), 13);
    assert.equal(navigate(selectRow(13, 14), 'ArrowDown', 14, page), 13);
  });

  it('nothing selected: ↓ selects the first row (not the second)', () => {
    assert.equal(navigate(NO_SELECTION, 'ArrowDown', 14, page), 0);
    assert.equal(navigate(NO_SELECTION, 'ArrowUp', 14, page), 0);
    assert.equal(navigate(NO_SELECTION, 'End', 14, page), 13);
    assert.equal(navigate(NO_SELECTION, 'ArrowDown', 0, page), undefined, 'an empty list: nowhere to go');
  });

  it('a hidden packet: ↓ selects the first shown packet after it, ↑ the last one before it', () => {
    // Shown: packets 2, 5, 10, 12. Packet 7 was selected: it sits between 5 (row 1) and 10 (row 2).
    const shown = [1, 4, 9, 11];
    const hidden = rebuild(selectRow(6, 7), shown, 14);
    assert.equal(hidden.gap, 2);
    assert.equal(navigate(hidden, 'ArrowDown', shown.length, page), 2, 'packet 10');
    assert.equal(navigate(hidden, 'ArrowUp', shown.length, page), 1, 'packet 5');
    assert.equal(navigate(hidden, 'PageDown', shown.length, page), 3);
    assert.equal(navigate(hidden, 'PageUp', shown.length, page), 0);
    // Before the first shown packet, and after the last.
    assert.equal(navigate(rebuild(selectRow(0, 1), shown, 14), 'ArrowDown', shown.length, page), 0);
    assert.equal(navigate(rebuild(selectRow(0, 1), shown, 14), 'ArrowUp', shown.length, page), 0);
    assert.equal(navigate(rebuild(selectRow(13, 14), shown, 14), 'ArrowUp', shown.length, page), 3);
    assert.equal(navigate(rebuild(selectRow(13, 14), shown, 14), 'ArrowDown', shown.length, page), 3);
  });

  it('a key pressed before the host has placed the packet goes from the top', () => {
    assert.equal(navigate(listRebuilt(selectRow(6, 7)), 'ArrowDown', 4, page), 0);
  });
});
