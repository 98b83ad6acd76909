import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { MAX_YAML_DEPTH } from './yaml-depth.js';

/** More aliases than any configuration uses; each one costs the YAML library a scan of the others. */
export const MAX_ALIASES = 1000;
/** Nodes aliases may add to a document once expanded (an "alias bomb" adds billions). */
export const MAX_ALIAS_NODES = 100_000;

/** Explicit tags that only restate a plain YAML type; others (!!binary, !!set, !custom...) make values configs do not use. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

interface Frame {
  node: Node;
  exit: boolean;
}

/**
 * One linear pass over a parsed document: duplicate keys (the YAML library's own check compares
 * every key with every other one: quadratic), keys that are not plain names, and aliases that
 * would expand the document too far or too deep, or into itself. Problems come with their line.
 */
export function checkYamlNodes(doc: Document, lineCounter: LineCounter, file: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const at = (node: Node | null | undefined) => {
    const offset = node?.range?.[0];
    if (offset === undefined) return {};
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const size = new Map<Node, { nodes: number; depth: number }>();
  const anchors = new Map<string, { nodes: number; depth: number }>();
  const open = new Set<string>();
  let aliases = 0;
  let added = 0;
  const root = doc.contents;
  const stack: Frame[] = root ? [{ node: root, exit: false }] : [];
  const children = (node: Node): Node[] => {
    const out: Node[] = [];
    if (isMap(node) || isSeq(node)) {
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          if (item.key) out.push(item.key as Node);
          if (item.value) out.push(item.value as Node);
        } else if (item) out.push(item as Node);
      }
    }
    return out;
  };
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const { node } = frame;
    if (frame.exit) {
      const s = { nodes: 1, depth: 1 };
      for (const c of children(node)) {
        const part = size.get(c) ?? { nodes: 1, depth: 1 };
        s.nodes += part.nodes;
        s.depth = Math.max(s.depth, part.depth + 1);
      }
      size.set(node, s);
      if (node.anchor) {
        anchors.set(node.anchor, s);
        open.delete(node.anchor);
      }
      continue;
    }
    // An inline `!vault |` value (ansible-vault encrypt_string) is a scalar holding vault text.
    const inlineVault = node.tag === '!vault' && isScalar(node) && typeof node.value === 'string';
    if (!isAlias(node) && node.tag !== undefined && !PLAIN_TAGS.has(node.tag) && !inlineVault) {
      const shown = node.tag.replace('tag:yaml.org,2002:', '!!');
      const hint =
        shown === '!vault'
          ? 'a !vault value is a block of vault text: paste what `kanka-infra vault encrypt-string` prints'
          : 'write a plain string, number, list or mapping';
      diagnostics.push({ file, ...at(node), message: `the YAML tag ${shown} is not supported here`, hint });
      continue;
    }
    if (isAlias(node)) {
      aliases++;
      const target = anchors.get(node.source);
      if (open.has(node.source)) {
        diagnostics.push({
          file,
          ...at(node),
          message: `alias *${node.source} is inside the node it refers to (a loop)`,
        });
      } else if (!target) {
        diagnostics.push({
          file,
          ...at(node),
          message: `alias *${node.source} refers to no anchor (&${node.source}) before it`,
        });
      } else {
        added += target.nodes;
        if (open.size > 0) size.set(node, target);
        if (aliases > MAX_ALIASES) {
          diagnostics.push({
            file,
            ...at(node),
            message: `more than ${MAX_ALIASES} aliases (*name) in one file`,
            hint: 'write the values out, or share them through group or env variables',
          });
          return diagnostics;
        }
        if (added > MAX_ALIAS_NODES || target.depth > MAX_YAML_DEPTH) {
          diagnostics.push({
            file,
            ...at(node),
            message: `alias *${node.source} expands the document too far (an "alias bomb"?): refused`,
            hint: `aliases may add at most ${MAX_ALIAS_NODES} values and ${MAX_YAML_DEPTH} levels`,
          });
          return diagnostics;
        }
      }
      continue;
    }
    if (isScalar(node)) {
      if (node.anchor) anchors.set(node.anchor, { nodes: 1, depth: 1 });
      continue;
    }
    if (node.anchor) open.add(node.anchor);
    if (isMap(node)) checkKeys(node.items, file, at, diagnostics);
    // Sizes matter only inside an anchored node (what an alias would copy): elsewhere none are kept.
    if (open.size > 0) stack.push({ node, exit: true });
    // Children in reverse, so they are visited in document order (anchors before their aliases).
    const kids = children(node);
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i] as Node, exit: false });
  }
  return diagnostics;
}

function checkKeys(
  items: unknown[],
  file: string,
  at: (n: Node | null | undefined) => { line?: number; column?: number },
  diagnostics: Diagnostic[],
): void {
  const seen = new Map<string, Node>();
  for (const item of items) {
    if (!isPair(item)) continue;
    const key = item.key as Node | null;
    if (!isScalar(key) || key.value === null || key.value === undefined || key.value === '') {
      const what =
        key === null || isScalar(key)
          ? 'an empty key'
          : isAlias(key)
            ? 'an alias as a key'
            : 'a list or mapping as a key';
      diagnostics.push({
        file,
        ...at(key ?? (item.value as Node | null)),
        message: `${what}: keys must be plain names`,
      });
      continue;
    }
    // Keys become object properties: 1 and "1" are the same key once read (a scalar key is a
    // string, number or boolean).
    const name = typeof key.value === 'string' ? key.value : JSON.stringify(key.value);
    const first = seen.get(name);
    if (first) {
      diagnostics.push({
        file,
        ...at(key),
        message: `duplicate key "${name}" (first at line ${at(first).line ?? '?'})`,
        hint: 'a key may appear once in a mapping: merge the two, or rename one',
      });
    } else seen.set(name, key);
  }
}
