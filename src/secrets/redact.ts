import { Secret, SECRET_MASK } from './secret.js';

/**
 * Values at least this long are masked wherever they occur in free text. Shorter ones ("no", "42")
 * are masked only as whole words (not inside "nothing" or "1042"), or every diff and log would
 * turn into confetti. This is the second line of defence: values derived from a secret are marked
 * sensitive where they are made and never reach text at all (see template/strict-context.ts).
 */
export const MIN_REDACTED_LENGTH = 4;

/**
 * The same value as other programs print it back escaped: a JSON string, an SQL literal (MariaDB
 * echoes `IDENTIFIED BY '...'` in replication errors), a shell single-quoted word, a C/shell
 * double-quoted string; and as the template encoders write it into the files `run` can print
 * (a .env or php.ini value: \\ \" \$; systemd: C escapes with %% and $$). Masking only the raw
 * spelling would let these through.
 */
export function escapedSpellings(s: string): string[] {
  const forms = [
    JSON.stringify(s).slice(1, -1),
    s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n'),
    s.replace(/'/g, "'\\''"),
    s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/`/g, '\\`'),
    s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$'),
    cEscaped(s, { '%': '%%' }),
    cEscaped(s, { '%': '%%', $: '$$' }),
    s.replace(/%/g, '%%'),
  ];
  return [...new Set(forms)].filter((f) => f !== s);
}

const C_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The inside of a C double-quoted string as redis.conf and systemd read it (see template/encoders.ts). */
function cEscaped(s: string, extra: Readonly<Record<string, string>>): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    out +=
      extra[ch] ?? C_ESCAPES[ch] ?? (code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : ch);
  }
  return out;
}

/** Lines of a multi-line secret (a PEM key) are masked one by one too: diffs show them apart. */
const MIN_SECRET_LINE_LENGTH = 8;

/**
 * Masks every occurrence of known secret values in text (diffs, command output, error messages,
 * JSON reports) before it is shown or written anywhere.
 *
 * How it stays fast with many secrets and long texts: all values are compiled into ONE regular
 * expression shaped like a trie (shared prefixes are matched once, so the engine does not try every
 * value at every position), wrapped in a lookahead so the native regex scan reports each position
 * where any value starts, with the longest value starting there. The covered ranges are then merged
 * and each merged range is replaced once. Merging also handles overlapping values correctly
 * ("abcd" and "cdef" in "abcdef" mask all of it, no partial leak), which a plain
 * `text.replace(/longest|shorter/g)` does not.
 */
export class Redactor {
  readonly #pattern: RegExp | undefined;
  readonly #shortPattern: RegExp | undefined;
  readonly #count: number;
  readonly #mask: string;

  constructor(values: Iterable<string | Secret>, mask: string = SECRET_MASK) {
    this.#mask = mask;
    const unique = new Set<string>();
    const short = new Set<string>();
    for (const v of values) {
      const s = v instanceof Secret ? v.reveal() : v;
      if (s.length >= MIN_REDACTED_LENGTH) unique.add(s);
      else if (s.trim() !== '') short.add(s);
      if (s.includes('\n')) {
        for (const line of s.split(/\r?\n/)) if (line.trim().length >= MIN_SECRET_LINE_LENGTH) unique.add(line.trim());
      }
    }
    this.#count = unique.size + short.size;
    this.#shortPattern =
      short.size === 0
        ? undefined
        : new RegExp(
            `(?<![A-Za-z0-9])(?:${[...short]
              .sort((a, b) => b.length - a.length)
              .map((v) => [...v].map(escapeChar).join(''))
              .join('|')})(?![A-Za-z0-9])`,
            'g',
          );
    // JSON output (--json, webhook bodies, lock records) carries a value with " \ or a newline
    // escaped: mask that spelling too, or the masking is bypassed by encoding.
    const spellings = new Set(unique);
    for (const s of unique)
      for (const spelt of escapedSpellings(s)) if (spelt.length >= MIN_REDACTED_LENGTH) spellings.add(spelt);
    this.#pattern = unique.size === 0 ? undefined : new RegExp(`(?=(${trieSource([...spellings])}))`, 'g');
  }

  /** A redactor that masks nothing (no secrets loaded). */
  static none(): Redactor {
    return new Redactor([]);
  }

  /** How many distinct values are masked. */
  get size(): number {
    return this.#count;
  }

  /** The text with every occurrence of every secret value replaced by "<secret>". */
  redact(text: string): string {
    const long = this.#redactLong(text);
    return this.#shortPattern === undefined ? long : long.replace(this.#shortPattern, this.#mask);
  }

  #redactLong(text: string): string {
    const pattern = this.#pattern;
    if (pattern === undefined || text.length === 0) return text;
    pattern.lastIndex = 0;
    let out = '';
    let copiedTo = 0; // text before this index is already in `out`
    let maskStart = -1; // current merged covered range [maskStart, maskEnd)
    let maskEnd = -1;
    for (const m of text.matchAll(pattern)) {
      const start = m.index;
      const end = start + (m[1] ?? '').length;
      if (start <= maskEnd) {
        if (end > maskEnd) maskEnd = end;
        continue;
      }
      if (maskStart >= 0) {
        out += text.slice(copiedTo, maskStart) + this.#mask;
        copiedTo = maskEnd;
      }
      maskStart = start;
      maskEnd = end;
    }
    if (maskStart < 0) return text;
    out += text.slice(copiedTo, maskStart) + this.#mask + text.slice(maskEnd);
    return out;
  }

  /**
   * A copy of a JSON-like value with every string (object keys included) redacted; `Secret`
   * instances are kept (they serialise as "<secret>" themselves). Other values are returned as they
   * are. Cycles are preserved rather than followed forever.
   */
  redactDeep<T>(value: T): T {
    if (this.#count === 0) return value;
    return this.#deep(value, new Map()) as T;
  }

  #deep(value: unknown, seen: Map<object, unknown>): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object' || value instanceof Secret) return value;
    const done = seen.get(value);
    if (done !== undefined) return done;
    if (Array.isArray(value)) {
      const copy: unknown[] = [];
      seen.set(value, copy);
      for (const item of value) copy.push(this.#deep(item, seen));
      return copy;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value; // Dates, Buffers, class instances: not JSON documents
    const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    seen.set(value, copy);
    for (const [k, v] of Object.entries(value)) copy[this.redact(k)] = this.#deep(v, seen);
    return Object.setPrototypeOf(copy, proto) as unknown;
  }
}

interface TrieNode {
  children: Map<string, TrieNode>;
  terminal: boolean;
}

/**
 * Regex source matching any of the values, built as a trie so that shared prefixes are tried once.
 * At each node longer continuations are tried before stopping, so the longest value wins.
 * Built iteratively (post-order) so very long values cannot overflow the stack.
 */
function trieSource(values: string[]): string {
  const root: TrieNode = { children: new Map(), terminal: false };
  for (const v of values) {
    let node = root;
    // UTF-16 code units, like the regex (no "u" flag): a value's surrogate pairs stay together.
    for (let i = 0; i < v.length; i++) {
      const ch = v.charAt(i);
      let next = node.children.get(ch);
      if (!next) {
        next = { children: new Map(), terminal: false };
        node.children.set(ch, next);
      }
      node = next;
    }
    node.terminal = true;
  }
  const source = new Map<TrieNode, string>();
  const stack: Array<{ node: TrieNode; expanded: boolean }> = [{ node: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (!top.expanded) {
      top.expanded = true;
      for (const child of top.node.children.values()) stack.push({ node: child, expanded: false });
      continue;
    }
    stack.pop();
    const branches = [...top.node.children].map(([ch, child]) => escapeChar(ch) + (source.get(child) ?? ''));
    for (const child of top.node.children.values()) source.delete(child);
    let s = '';
    if (branches.length === 1 && !top.node.terminal) s = branches[0] ?? '';
    else if (branches.length > 0) s = `(?:${branches.join('|')})${top.node.terminal ? '?' : ''}`;
    source.set(top.node, s);
  }
  return source.get(root) ?? '';
}

function escapeChar(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}
