// Runs the CLI's main() in-process and collects what it prints.
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main';

export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  const code = await main(argv, out, err);
  return { code, out: o, err: e };
}
