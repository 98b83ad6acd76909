import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument, visit } from 'yaml';
import { InlineVault } from '../secrets/inline-vault.js';

/** Where a project keeps YAML that may hold `!vault |` values, beside the inventory. */
const PROJECT_YAML_DIRS = ['playbooks', 'roles'];

function yamlFilesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return yamlFilesUnder(path);
      return /\.ya?ml$/.test(e.name) ? [path] : [];
    });
}

/**
 * Every `!vault |` value in the project's playbooks and roles, found without loading them (a
 * broken role must not stop `run`, which needs these values only to mask them in what it prints).
 * A file that cannot be read or parsed gives what can be found in it.
 */
export function vaultBlocksIn(projectDir: string): InlineVault[] {
  const found: InlineVault[] = [];
  for (const file of PROJECT_YAML_DIRS.flatMap((d) => yamlFilesUnder(join(projectDir, d)))) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (!text.includes('!vault')) continue;
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
    visit(doc, {
      Scalar(_, node) {
        if (node.tag !== '!vault' || typeof node.value !== 'string') return;
        const line = node.range ? lineCounter.linePos(node.range[0]).line : undefined;
        found.push(new InlineVault(node.value, file, line));
      },
    });
  }
  return found;
}
