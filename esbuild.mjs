// Bundles the extension host entry and the CLI (platform node), and each webview's browser-side code
// as an entry of its own (platform browser).
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  // ssh2's optional native parts cannot be bundled; ssh2 falls back to JavaScript without them.
  external: ['vscode', 'cpu-features', './crypto/build/Release/sshcrypto.node'],
};

/** A browser-side webview bundle: apart from the extension, for the browser, with its UI components. */
const webview = (name) => ({
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  entryPoints: [`src/webview/${name}/main.ts`],
  outfile: `dist/webview/${name}.js`,
});

const entries = [
  webview('packetViewer'),
  webview('doctor'),
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  },
];

if (watch) {
  for (const options of entries) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  }
} else {
  await Promise.all(entries.map((options) => esbuild.build(options)));
}
