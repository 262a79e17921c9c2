// The e2e test-runner extension: placed by test/e2e/harness beside the installed extension in a
// code-server run, with a runner.json next to this file: { "suite": <compiled suite index.js>,
// "results": <file to write> }. On activation (after the extension it depends on) it runs the
// mocha suite inside the extension host and writes the results; the harness waits for that file.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

exports.activate = async function activate() {
  const config = JSON.parse(fs.readFileSync(path.join(__dirname, 'runner.json'), 'utf8'));
  try {
    await require(config.suite).runToFile(config.results);
  } catch (error) {
    fs.writeFileSync(config.results, JSON.stringify({ passed: 0, failed: 0, pending: 0, durationMs: 0, tests: [], error: String((error && error.stack) || error) }));
  }
};

exports.deactivate = function deactivate() {};
