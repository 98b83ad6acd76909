import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layers of src, top to bottom: a folder may import its own layer and the ones below it, never
 * one above. CONTRIBUTING.md says what each is for; this test keeps the tree honest.
 */
const LAYERS = [
  'launch',
  'cli',
  'db',
  'output',
  'engine',
  'config',
  'transport',
  'modules',
  'template',
  'facts',
  'secrets',
  'shell',
  'values',
  'local',
  'diagnostics',
] as const;

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative import specifiers of a file (static imports and re-exports, type-only ones too). */
function importSpecifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\sfrom\s+'([^']+)'/gm)].map((m) => m[1] ?? '');
  const sideEffects = [...text.matchAll(/^\s*import\s+'([^']+)'/gm)].map((m) => m[1] ?? '');
  const dynamic = [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? '');
  return [...specifiers, ...sideEffects, ...dynamic];
}

function relativeImports(file: string): string[] {
  return importSpecifiers(file).filter((s) => s.startsWith('.'));
}

function resolveImport(from: string, specifier: string): string {
  return resolve(dirname(from), specifier.replace(/\.js$/, '.ts'));
}

const folderOf = (file: string): string => relative(SRC, file).split(sep)[0] ?? '';

const files = sourceFiles(SRC);
const edges = files.map((file) => ({
  file,
  imports: relativeImports(file).map((s) => resolveImport(file, s)),
}));

describe('the layers of src', () => {
  it('every folder of src has a place in the layer list', () => {
    const folders = [...new Set(files.map(folderOf))].filter((f) => !f.endsWith('.ts'));
    expect(folders.filter((f) => !(LAYERS as readonly string[]).includes(f))).toEqual([]);
  });

  it('no file imports a higher layer', () => {
    const upward: string[] = [];
    for (const { file, imports } of edges) {
      const from = LAYERS.indexOf(folderOf(file) as (typeof LAYERS)[number]);
      for (const target of imports) {
        const to = LAYERS.indexOf(folderOf(target) as (typeof LAYERS)[number]);
        if (to < from) upward.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('no file imports from outside src (tests, bench, scripts)', () => {
    const outside = edges.flatMap(({ file, imports }) =>
      imports.filter((t) => relative(SRC, t).startsWith('..')).map((t) => `${relative(SRC, file)} -> ${t}`),
    );
    expect(outside).toEqual([]);
  });

  it('src holds only what the CLI runs: no test framework imported, no test double', () => {
    const testCode = files.flatMap((file) =>
      importSpecifiers(file)
        .filter((s) => s === 'vitest' || s.startsWith('vitest/') || s.startsWith('@vitest/'))
        .map((s) => `${relative(SRC, file)} imports ${s}`),
    );
    const doubles = files.map((f) => relative(SRC, f)).filter((f) => /(^|\/)(fake|mock|stub)[^/]*\.ts$/.test(f));
    expect([...testCode, ...doubles]).toEqual([]);
  });

  it('no import cycle between files', () => {
    const graph = new Map(edges.map((e) => [e.file, e.imports]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('the check sees real imports (a known downward import is found)', () => {
    const cli = edges.filter((e) => folderOf(e.file) === 'cli').flatMap((e) => e.imports.map(folderOf));
    expect(cli).toContain('engine');
    expect(cli).toContain('diagnostics');
  });
});
