import { ConfigError } from '../diagnostics/diagnostic.js';

/** Deeper than any configuration needs, and far from the depth where the YAML parser's recursion fails. */
export const MAX_YAML_DEPTH = 200;

/**
 * Refuses YAML nested deeper than MAX_YAML_DEPTH, before it is parsed: the parser is recursive, and
 * near the stack limit V8 can abort the whole process (not a catchable error). A linear scan that
 * over-estimates: per line, its indentation plus compact "- "/"? " indicators, plus the open
 * [ and { of flow collections (outside quotes, comments and block scalars).
 */
export function checkYamlDepth(source: string, file: string): void {
  let flow = 0;
  let blockScalarIndent = -1;
  let lineNo = 0;
  for (const line of source.split('\n')) {
    lineNo++;
    const indent = line.length - line.trimStart().length;
    if (blockScalarIndent >= 0) {
      if (line.trim() === '' || indent > blockScalarIndent) continue;
      blockScalarIndent = -1;
    }
    let i = indent;
    let compact = 0;
    while (flow === 0 && /^[-?:][ \t]/.test(line.slice(i, i + 2))) {
      compact++;
      i += 2;
      while (line[i] === ' ' || line[i] === '\t') i++;
    }
    let valueStart = true;
    let peak = flow;
    for (; i < line.length; i++) {
      const c = line[i];
      if (c === '#' && (i === 0 || /[ \t]/.test(line[i - 1] ?? ''))) break;
      if (c === '"' || c === "'") {
        i = skipQuoted(line, i);
        valueStart = false;
        continue;
      }
      if ((c === '[' || c === '{') && (flow > 0 || valueStart)) peak = Math.max(peak, ++flow);
      else if ((c === ']' || c === '}') && flow > 0) flow--;
      // In block context a bracket opens a collection only where a value starts ("key: [", "- {").
      valueStart =
        c === ' ' || c === '\t'
          ? valueStart
          : c === ':' && /[ \t]/.test(line[i + 1] ?? ' ')
            ? true
            : c === '[' || c === '{' || c === ',';
    }
    if (indent + compact + peak > MAX_YAML_DEPTH) {
      throw new ConfigError([
        {
          file,
          line: lineNo,
          message: `nested more than ${MAX_YAML_DEPTH} levels deep`,
          hint: 'a configuration file does not need this depth: flatten it',
        },
      ]);
    }
    if (flow === 0 && /(^|[ \t:-])[|>][-+0-9]*[ \t]*(#.*)?$/.test(line.trimEnd())) blockScalarIndent = indent;
  }
}

/** Index of the closing quote (or the end of the line: a multi-line quoted string is rare in config). */
function skipQuoted(line: string, start: number): number {
  const q = line[start];
  for (let i = start + 1; i < line.length; i++) {
    if (q === '"' && line[i] === '\\') i++;
    else if (line[i] === q) {
      if (q === "'" && line[i + 1] === "'") i++;
      else return i;
    }
  }
  return line.length;
}
