// Compare view: sends option changes and re-run requests to the extension host, which re-renders.
// @ts-check
(function () {
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  const only = /** @type {HTMLInputElement} */ (document.getElementById('onlyDifferences'));
  const ignore = /** @type {HTMLInputElement} */ (document.getElementById('ignoreNumbers'));
  const send = () => vscode.postMessage({ type: 'options', onlyDifferences: only.checked, ignoreNumbers: ignore.checked });
  only.addEventListener('change', send);
  ignore.addEventListener('change', send);
  document.getElementById('rerun')?.addEventListener('click', () => vscode.postMessage({ type: 'rerun' }));
  vscode.postMessage({ type: 'ready' });
})();
