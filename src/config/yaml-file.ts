import { readFileSync } from 'node:fs';
import { isMap, isSeq, isScalar, isPair, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError, describeFsError, type Diagnostic } from './diagnostics.js';

/**
 * A parsed YAML file that remembers where every value came from, so a schema error on
 * `hosts.backend1.port` can name the line. (js-yaml gives positions only for syntax errors;
 * the `yaml` package keeps a source range on every node and can also edit files without
 * losing comments, which add-host needs.)
 */
export interface YamlFile {
  file: string;
  data: unknown;
  /** Line and column (1-based) of the value at `path`, or of its nearest existing parent. */
  locate(path: ReadonlyArray<string | number>): { line: number; column: number } | undefined;
}

export function readTextFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot read ${what}: ${describeFsError(err)}` }]);
  }
}

export function loadYamlFile(file: string, what: string): YamlFile {
  return parseYaml(readTextFile(file, what), file);
}

export function parseYaml(source: string, file: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const diagnostics: Diagnostic[] = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return { file, line: pos.line, column: pos.col, message: `YAML syntax error: ${firstLine(e.message)}` };
    });
    throw new ConfigError(diagnostics);
  }
  const data: unknown = doc.toJS({ maxAliasCount: 1000 });
  const locate = (path: ReadonlyArray<string | number>) => {
    let node: unknown = doc.contents;
    let offset = rangeStart(node);
    for (const key of path) {
      const child = childNode(node, key);
      if (child === undefined) break;
      node = child.value;
      offset = child.keyOffset ?? rangeStart(node) ?? offset;
    }
    if (offset === undefined) return undefined;
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  return { file, data, locate };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/** Finds the child at `key`; reports the offset of the key itself so errors point at the key's line. */
function childNode(node: unknown, key: string | number): { value: unknown; keyOffset?: number } | undefined {
  if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const k = isScalar(item.key) ? item.key.value : item.key;
      if (String(k) === String(key)) {
        const keyOffset = rangeStart(item.key);
        return keyOffset === undefined ? { value: item.value } : { value: item.value, keyOffset };
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof key === 'number') {
    const value = node.items[key];
    return value === undefined ? undefined : { value };
  }
  return undefined;
}
