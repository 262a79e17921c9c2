// Messages between the packet viewer webview and the extension host, typed both ways. The data
// stays in the host; the webview asks for windows of rows.

export interface RowView {
  /** 1-based packet number. */
  number: number;
  time: string;
  source: string;
  destination: string;
  protocol: string;
  length: number;
  info: string;
  colour?: 'rst' | 'bad-tcp' | 'icmp-error' | 'syn';
}

export interface DetailView {
  label: string;
  /** Field name for "filter on this value" (ip.src, tcp.port...). */
  name: string;
  value?: string | number | boolean;
  offset: number;
  length: number;
  children?: DetailView[];
}

export interface ConversationView {
  id: number;
  protocol: string;
  a: string;
  b: string;
  packets: string;
  bytes: string;
  duration: string;
  verdict: string;
  verdictText: string;
  firstPacket: number;
  bad: boolean;
}

/** Where a packet stands in the shown list (the host's answer to a 'place' request). */
export interface SelectionPlace {
  /** 1-based packet number. */
  number: number;
  /** Shown: its row. Hidden: the row of the first shown packet after it (the count when none). */
  position: number;
  shown: boolean;
}

export type TimeFormat = 'relative' | 'absolute' | 'delta' | 'conversation';

export type ViewerToHost =
  | { type: 'ready' }
  | { type: 'rows'; start: number; count: number; generation: number }
  | { type: 'select'; number: number }
  /** After the list was rebuilt (generation): where does packet `number` stand now? */
  | { type: 'place'; number: number; generation: number }
  | { type: 'filter'; expression: string }
  | { type: 'timeFormat'; format: TimeFormat }
  | { type: 'conversations' }
  | { type: 'follow'; conversation: number }
  | { type: 'export' }
  | { type: 'wireshark' };

export type HostToViewer =
  | { type: 'init'; fileName: string; count: number; growing: boolean; error?: string; wireshark: boolean; /** Where the addresses' names come from, in words; none: no names. */ names?: string }
  | { type: 'count'; count: number; growing: boolean; error?: string; generation: number }
  | { type: 'rows'; start: number; rows: RowView[]; generation: number }
  | { type: 'details'; number: number; layers: DetailView[]; bytes: number[]; problems: string[] }
  | { type: 'place'; place: SelectionPlace; generation: number }
  | { type: 'filterResult'; expression: string; ok: boolean; error?: string; count: number; generation: number }
  | { type: 'conversations'; list: ConversationView[] }
  | { type: 'stream'; conversation: number; title: string; segments: { fromA: boolean; text: string }[] };
