// A small, safe markdown subset for chat messages.
// It parses into a tree that React renders as elements: no HTML string is ever built, so raw
// HTML in a message is shown as text. Links only keep http, https and mailto targets.
//
// Blocks: paragraphs (single newlines kept), ``` fenced code ```, > quotes, - lists.
// Inline: `code`, **bold**, *italic* or _italic_, ~~strike~~, [text](url), bare URLs, @mentions.

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'br' }
  | { t: 'code'; v: string }
  | { t: 'strong'; c: Inline[] }
  | { t: 'em'; c: Inline[] }
  | { t: 'del'; c: Inline[] }
  | { t: 'link'; href: string; c: Inline[] }
  | { t: 'mention'; userId: string; v: string };

export type Block =
  | { t: 'p'; c: Inline[] }
  | { t: 'pre'; v: string }
  | { t: 'quote'; c: Block[] }
  | { t: 'ul'; items: Inline[][] };

export interface MentionTarget {
  userId: string;
  name: string;
}

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** The URL if it is absolute and uses a safe protocol, else null. */
export function safeUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
}

export function parseMarkdown(text: string, mentions: readonly MentionTarget[] = []): Block[] {
  // Longest names first so "@Ann Lee" wins over "@Ann".
  const targets = [...mentions].sort((a, b) => b.name.length - a.name.length);
  return parseBlocks(text.replace(/\r\n?/g, '\n').split('\n'), targets, 0);
}

const MAX_QUOTE_DEPTH = 3;

function parseBlocks(lines: string[], mentions: readonly MentionTarget[], depth: number): Block[] {
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) blocks.push({ t: 'p', c: parseInlineLines(para, mentions) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trimStart().startsWith('```')) {
      const end = lines.findIndex((l, j) => j > i && l.trim().startsWith('```'));
      if (end !== -1) {
        flush();
        blocks.push({ t: 'pre', v: lines.slice(i + 1, end).join('\n') });
        i = end;
        continue;
      }
    }
    if (depth < MAX_QUOTE_DEPTH && /^>\s?/.test(line)) {
      flush();
      const quoted: string[] = [];
      while (i < lines.length && /^>\s?/.test(lines[i]!)) quoted.push(lines[i++]!.replace(/^>\s?/, ''));
      i--;
      blocks.push({ t: 'quote', c: parseBlocks(quoted, mentions, depth + 1) });
      continue;
    }
    if (/^\s*[-*]\s+\S/.test(line)) {
      flush();
      const items: Inline[][] = [];
      while (i < lines.length && /^\s*[-*]\s+\S/.test(lines[i]!)) items.push(parseInline(lines[i++]!.replace(/^\s*[-*]\s+/, ''), mentions));
      i--;
      blocks.push({ t: 'ul', items });
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    para.push(line);
  }
  flush();
  return blocks;
}

function parseInlineLines(lines: string[], mentions: readonly MentionTarget[]): Inline[] {
  const out: Inline[] = [];
  lines.forEach((line, i) => {
    if (i > 0) out.push({ t: 'br' });
    out.push(...parseInline(line, mentions));
  });
  return out;
}

const URL_START = /^https?:\/\/[^\s<>]+/i;
const TRAILING_PUNCT = /[.,!?:;'")\]]+$/;

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);
}

export function parseInline(src: string, targets: readonly MentionTarget[] = [], nesting = 0): Inline[] {
  const mentions = nesting === 0 ? [...targets].sort((a, b) => b.name.length - a.name.length) : targets;
  const out: Inline[] = [];
  let text = '';
  const pushText = (v: string) => {
    text += v;
  };
  const flush = () => {
    if (text) out.push({ t: 'text', v: text });
    text = '';
  };
  const emit = (node: Inline) => {
    flush();
    out.push(node);
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    const rest = src.slice(i);
    if (ch === '`') {
      const end = src.indexOf('`', i + 1);
      if (end > i + 1) {
        emit({ t: 'code', v: src.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (nesting < 4) {
      const delimited = matchDelimited(src, i);
      if (delimited) {
        emit({ t: delimited.kind, c: parseInline(delimited.inner, mentions, nesting + 1) });
        i = delimited.end;
        continue;
      }
    }
    if (ch === '[') {
      const m = /^\[([^\]\n]{1,500})\]\(((?:[^()\s]|\([^()\s]*\)){1,2000})\)/.exec(rest);
      if (m) {
        const href = safeUrl(m[2]!);
        if (href) emit({ t: 'link', href, c: parseInline(m[1]!, [], nesting + 1) });
        else pushText(m[1]!); // an unsafe target keeps its words and loses the link
        i += m[0].length;
        continue;
      }
    }
    if ((ch === 'h' || ch === 'H') && !isWordChar(src[i - 1])) {
      const m = URL_START.exec(rest);
      if (m) {
        const raw = m[0].replace(TRAILING_PUNCT, '');
        const href = safeUrl(raw);
        if (href) {
          emit({ t: 'link', href, c: [{ t: 'text', v: raw }] });
          i += raw.length;
          continue;
        }
      }
    }
    if (ch === '@' && !isWordChar(src[i - 1])) {
      const target = mentions.find((m) => rest.slice(1, 1 + m.name.length) === m.name && !isWordChar(rest[1 + m.name.length]));
      if (target) {
        emit({ t: 'mention', userId: target.userId, v: `@${target.name}` });
        i += 1 + target.name.length;
        continue;
      }
    }
    pushText(ch);
    i++;
  }
  flush();
  return out;
}

function matchDelimited(src: string, i: number): { kind: 'strong' | 'em' | 'del'; inner: string; end: number } | null {
  for (const [marker, kind] of [
    ['**', 'strong'],
    ['~~', 'del'],
    ['*', 'em'],
    ['_', 'em'],
  ] as const) {
    if (!src.startsWith(marker, i)) continue;
    const open = i + marker.length;
    const first = src[open];
    if (first === undefined || /\s/.test(first)) continue;
    if (marker === '_' && isWordChar(src[i - 1])) continue; // snake_case is not italic
    let close = src.indexOf(marker, open + 1);
    while (close !== -1) {
      const before = src[close - 1]!;
      const after = src[close + marker.length];
      const okAfter = marker !== '_' || !isWordChar(after);
      if (!/\s/.test(before) && okAfter && !(marker === '*' && after === '*')) break;
      close = src.indexOf(marker, close + 1);
    }
    if (close === -1) continue;
    return { kind, inner: src.slice(open, close), end: close + marker.length };
  }
  return null;
}

/** One line of plain text for previews and notifications. */
export function toPlainText(text: string): string {
  const parts: string[] = [];
  const walk = (nodes: Inline[]) => {
    for (const n of nodes) {
      if (n.t === 'text' || n.t === 'code' || n.t === 'mention') parts.push(n.v);
      else if (n.t === 'br') parts.push(' ');
      else walk(n.c);
    }
  };
  const blocks = parseMarkdown(text);
  const walkBlocks = (bs: Block[]) => {
    for (const b of bs) {
      if (b.t === 'p') walk(b.c);
      else if (b.t === 'pre') parts.push(b.v);
      else if (b.t === 'quote') walkBlocks(b.c);
      else for (const item of b.items) walk(item);
      parts.push(' ');
    }
  };
  walkBlocks(blocks);
  return parts.join('').replace(/\s+/g, ' ').trim();
}
