// The page every webview of ours starts from: a strict CSP (nothing by default, styles from the
// extension, scripts only with this page's nonce) and its assets through asWebviewUri.
import { randomBytes } from 'node:crypto';
import type * as vscode from 'vscode';

export interface WebviewPage {
  title: string;
  style: vscode.Uri;
  script: vscode.Uri;
  /** The script is an ES module (bundled webview code). */
  module?: boolean;
  /** Markup of the body; the script tag is appended. */
  body: string;
}

export function webviewPage(webview: vscode.Webview, page: WebviewPage): string {
  const nonce = randomBytes(16).toString('base64');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; font-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${webview.asWebviewUri(page.style)}">
<title>${page.title}</title>
</head>
<body>
${page.body}
<script nonce="${nonce}"${page.module ? ' type="module"' : ''} src="${webview.asWebviewUri(page.script)}"></script>
</body>
</html>`;
}
