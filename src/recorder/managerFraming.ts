// Captures through the manager-only transport travel as service logs, which are text lines. The
// job's fixed script writes tcpdump's file in the container and sends new bytes every few tenths of
// a second as "D <offset> <base64>" lines; tcpdump's messages as "E <text>"; at the end
// "X <exit status> <sha256 of the whole file>", so the receiver can prove it got every byte.

/** The job's script. Its arguments: a duration in seconds (0: none), then tcpdump's own. */
export const MANAGER_CAPTURE_SCRIPT = [
  'file=/tmp/swarm-doctor.pcap; rm -f "$file"',
  'duration="$1"; shift',
  'if [ "$duration" != 0 ]; then timeout -s INT "$duration" tcpdump -U -w "$file" "$@" 2>/tmp/swarm-doctor.err & else tcpdump -U -w "$file" "$@" 2>/tmp/swarm-doctor.err & fi',
  'pid=$!',
  'off=0; sent_err=0',
  'send() {',
  '  size=$(stat -c %s "$file" 2>/dev/null || echo 0)',
  '  if [ "$size" -gt "$off" ]; then',
  '    printf "D %s %s\\n" "$off" "$(tail -c +$((off + 1)) "$file" | head -c $((size - off)) | base64 -w0)"',
  '    off=$size',
  '  fi',
  '  lines=$(wc -l < /tmp/swarm-doctor.err 2>/dev/null || echo 0)',
  '  if [ "$lines" -gt "$sent_err" ]; then tail -n +$((sent_err + 1)) /tmp/swarm-doctor.err | head -n $((lines - sent_err)) | sed "s/^/E /"; sent_err=$lines; fi',
  '}',
  'trap \'kill $pid 2>/dev/null\' TERM INT',
  'while kill -0 "$pid" 2>/dev/null; do send; sleep 0.3; done',
  'wait "$pid"; status=$?',
  'send',
  'printf "X %s %s\\n" "$status" "$(sha256sum "$file" 2>/dev/null | cut -d" " -f1)"',
].join('\n');

export type ManagerCaptureEvent =
  | { kind: 'data'; offset: number; bytes: Buffer }
  | { kind: 'message'; text: string }
  | { kind: 'exit'; status: number; sha256?: string };

/** Turns log text, in whatever chunks it arrives, into events; checks that offsets follow on. */
export class ManagerCaptureDecoder {
  private text = '';
  private expected = 0;

  constructor(private readonly onEvent: (event: ManagerCaptureEvent) => void) {}

  push(chunk: Buffer): void {
    this.text += chunk.toString('latin1');
    let newline: number;
    while ((newline = this.text.indexOf('\n')) >= 0) {
      const line = this.text.slice(0, newline).replace(/\r$/, '');
      this.text = this.text.slice(newline + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line.startsWith('D ')) {
      const [, offsetText, data = ''] = line.split(' ');
      const offset = Number(offsetText);
      if (offset !== this.expected) throw new Error(`The capture stream skipped bytes: expected offset ${this.expected}, got ${offset}.`);
      const bytes = Buffer.from(data, 'base64');
      this.expected += bytes.length;
      this.onEvent({ kind: 'data', offset, bytes });
    } else if (line.startsWith('E ')) {
      this.onEvent({ kind: 'message', text: line.slice(2) });
    } else if (line.startsWith('X ')) {
      const [, status, sha256] = line.split(' ');
      this.onEvent({ kind: 'exit', status: Number(status), sha256: sha256 || undefined });
    } else if (line.trim()) {
      this.onEvent({ kind: 'message', text: line });
    }
  }

  /** Bytes received so far. */
  get received(): number {
    return this.expected;
  }
}
