// package.json's welcome content, as VS Code renders it: links and command buttons, no other markdown.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

interface Manifest {
  contributes: {
    commands: { command: string }[];
    menus: { commandPalette: { command: string; when?: string }[] };
    viewsWelcome: { view: string; contents: string }[];
  };
}

function manifest(): Manifest {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const json = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (json.name === 'swarm-network-doctor') return json as Manifest;
    }
  }
  throw new Error('no swarm-network-doctor package.json above the test');
}

describe('package.json: views welcome content', () => {
  const { contributes } = manifest();

  it('uses no markdown VS Code shows literally there (bold, italics, code)', () => {
    for (const welcome of contributes.viewsWelcome) {
      const text = welcome.contents.replace(/\[[^\]]*\]\([^)]*\)/g, '');
      assert.doesNotMatch(text, /\*\*|__|(^|\s)[*_]\S|`/, `${welcome.view}: ${welcome.contents}`);
    }
  });

  it('links only commands that exist and run without a tree item (not hidden from the palette)', () => {
    const commands = new Set(contributes.commands.map((c) => c.command));
    const treeOnly = new Set(contributes.menus.commandPalette.filter((m) => m.when === 'never').map((m) => m.command));
    for (const welcome of contributes.viewsWelcome) {
      for (const [, command] of welcome.contents.matchAll(/\]\(command:([\w.]+)/g)) {
        assert.ok(commands.has(command), `${welcome.view} links ${command}, which package.json does not contribute`);
        assert.ok(!treeOnly.has(command), `${welcome.view} links ${command}, which needs a tree item (hidden from the palette)`);
      }
    }
  });
});
