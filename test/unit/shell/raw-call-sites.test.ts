import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every call of `name(` in src (comments excluded), as "file: line". */
function callSites(name: string): string[] {
  const call = new RegExp(`(^|[^\\w.])${name}\\(`);
  return sourceFiles(SRC).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => call.test(line.replace(/\/\/.*$/, '')) && !/^\s*(\*|\/\*)/.test(line))
      .map((line) => `${relative(SRC, file)}: ${line.trim()}`),
  );
}

/**
 * An unquoted value in a host command is a visible choice: raw() is called in these places only,
 * each for a reason. A new call site fails this test until it is added here, with its reason.
 */
describe('where text reaches a host unquoted', () => {
  it('raw() is called only where the text is shell by nature or data', () => {
    expect(callSites('raw').sort()).toEqual(
      [
        // Shell written by role authors (command run/unless, check command, validate): THE one place.
        'shell/role-shell.ts: return raw(text);',
        // A command line the operator typed after `run <env> --`, joined as ssh joins its words.
        "shell/operator-shell.ts: return raw(words.join(' '));",
        // A heredoc body: data inside a quoted heredoc, never expanded; ended by a random delimiter.
        'shell/heredoc.ts: const delimited = raw(`${body}${eof}`);',
        // The definition.
        'shell/command.ts: export function raw(text: string): ShellCommand {',
      ].sort(),
    );
  });

  it('shq() is only called by the sh template: nothing quotes (or forgets to quote) by hand', () => {
    expect(
      callSites('shq')
        .map((s) => s.split(':')[0])
        .sort(),
    ).toEqual(['shell/command.ts', 'shell/command.ts', 'shell/quote.ts']);
  });
});
