// Messages between the compare webview and the extension host. Typed both ways.
export type CompareToHost =
  | { type: 'ready' }
  | { type: 'options'; ignoreNumbers: boolean; onlyDifferences: boolean }
  | { type: 'rerun' };
