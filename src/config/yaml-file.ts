import { readFileSync, statSync } from 'node:fs';
import { isMap, isSeq, isScalar, isPair, LineCounter, parseDocument, visit, type Node, type Pair } from 'yaml';
import { ConfigError, describeFsError, type Diagnostic } from '../diagnostics/diagnostic.js';
import { InlineVault } from '../secrets/inline-vault.js';
import { decodeUtf8 } from './utf8.js';
import { checkYamlNodes, MAX_ALIAS_NODES } from './yaml-checks.js';
import { checkYamlDepth } from './yaml-depth.js';

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

/**
 * Far beyond any real configuration (a 10,000-host inventory is about 1 MB), and small enough that
 * parsing, which is linear but not fast, stays within seconds: a bigger file is refused at once.
 */
export const MAX_YAML_BYTES = 8 * 1024 * 1024;

/** A text file's content: readable, UTF-8 (a leading BOM dropped), or a ConfigError saying which and why. */
export function readTextFile(file: string, what: string, maxBytes = Infinity): string {
  let bytes: Buffer;
  try {
    if (statSync(file).size > maxBytes) {
      throw new ConfigError([
        {
          file,
          message: `the ${what} is larger than ${maxBytes / 1024 / 1024} MB: refused`,
          hint: 'a configuration file this big is a mistake (a generated or wrong file?)',
        },
      ]);
    }
    bytes = readFileSync(file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([{ file, message: `cannot read ${what}: ${describeFsError(err)}` }]);
  }
  return decodeUtf8(bytes, file, `the ${what}`);
}

export function loadYamlFile(file: string, what: string): YamlFile {
  return parseYaml(readTextFile(file, what, MAX_YAML_BYTES), file);
}

export function parseYaml(text: string, file: string): YamlFile {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  checkYamlDepth(source, file);
  const lineCounter = new LineCounter();
  // uniqueKeys off: the library's duplicate check is quadratic; checkYamlNodes does it in one pass.
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const diagnostics: Diagnostic[] = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return { file, line: pos.line, column: pos.col, message: `YAML syntax error: ${firstLine(e.message)}` };
    });
    throw new ConfigError(diagnostics);
  }
  const problems = checkYamlNodes(doc, lineCounter, file);
  if (problems.length > 0) throw new ConfigError(problems);
  // `!vault |` scalars (ansible-vault encrypt_string) become InlineVaults, decrypted once the
  // password is known (cli/load.ts); checkYamlNodes allows the tag on scalars only.
  visit(doc, {
    Scalar(_key, node) {
      if (node.tag !== '!vault') return;
      const offset = node.range?.[0];
      node.value = new InlineVault(
        String(node.value),
        file,
        offset === undefined ? undefined : lineCounter.linePos(offset).line,
      );
    },
  });
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_NODES });
  } catch (err) {
    // checkYamlNodes refuses what the library would; this is its own guard speaking.
    throw new ConfigError([
      { file, message: `cannot read the YAML: ${firstLine(err instanceof Error ? err.message : String(err))}` },
    ]);
  }
  const pairIndex = new WeakMap<object, Map<string, Pair>>();
  const locate = (path: ReadonlyArray<string | number>) => {
    let node: unknown = doc.contents;
    let offset = rangeStart(node);
    for (const key of path) {
      const child = childNode(node, key, pairIndex);
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

/**
 * Finds the child at `key`; reports the offset of the key itself so errors point at the key's line.
 * A mapping's keys are indexed on first use, so locating many keys of a large mapping stays linear.
 */
function childNode(
  node: unknown,
  key: string | number,
  pairIndex: WeakMap<object, Map<string, Pair>>,
): { value: unknown; keyOffset?: number } | undefined {
  if (isMap(node)) {
    let index = pairIndex.get(node);
    if (!index) {
      index = new Map();
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const k = String(isScalar(item.key) ? item.key.value : item.key);
        if (!index.has(k)) index.set(k, item);
      }
      pairIndex.set(node, index);
    }
    const item = index.get(String(key));
    if (!item) return undefined;
    const keyOffset = rangeStart(item.key);
    return keyOffset === undefined ? { value: item.value } : { value: item.value, keyOffset };
  }
  if (isSeq(node) && typeof key === 'number') {
    const value = node.items[key];
    return value === undefined ? undefined : { value };
  }
  return undefined;
}
