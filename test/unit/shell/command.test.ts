import { describe, expect, it } from 'vitest';
import type { Op } from '../../../src/modules/ops.js';
import { join, lines, raw, sh, ShellCommand } from '../../../src/shell/command.js';
import { heredoc } from '../../../src/shell/heredoc.js';
import { roleShell, roleValidateCommand } from '../../../src/shell/role-shell.js';
import { runLocalSh } from '../../support/local-sh.js';

/** Values a shell would misread if they were not quoted. */
const HOSTILE = [
  '',
  ' ',
  'a b',
  "it's",
  "''",
  '"$HOME"',
  '$(touch /tmp/kanka-pwned)',
  '`id`',
  '; rm -rf /',
  '192.0.2.12, 0.0.0.0/0',
  'a\nb',
  '-rf',
  '--reference=/etc/shadow',
  '*',
  '~root',
  'x\\y\\\\z',
  '#comment',
  '!$&|<>(){}[]',
  'tab\there',
  'ünïcødé ✓',
];

describe('sh: every interpolation is quoted', () => {
  it.each(HOSTILE)('%j reaches the command as one literal argument', (value) => {
    const r = runLocalSh(sh`printf '[%s]' ${value}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`[${value}]`);
  });

  it('quotes with shq: plain words stay bare, the rest in single quotes', () => {
    expect(sh`chown -h -- ${'www-data'} ${'/srv/my app'}`.text).toBe("chown -h -- www-data '/srv/my app'");
    expect(sh`echo ${"it's"}`.text).toBe(`echo 'it'\\''s'`);
    expect(sh`echo ${''}`.text).toBe("echo ''");
  });

  it('numbers are quoted like strings; a non-finite number is refused', () => {
    expect(sh`sleep ${1.5}; exit ${3}`.text).toBe('sleep 1.5; exit 3');
    expect(() => sh`sleep ${Number.NaN}`).toThrow(/internal error/);
  });

  it('a list becomes quoted words, each its own argument', () => {
    const r = runLocalSh(sh`printf '[%s]' ${['a b', "c'd", '$e']}`);
    expect(r.stdout).toBe("[a b][c'd][$e]");
    expect(sh`x ${[]}y`.text).toBe('x y');
  });

  it('a nested command is inserted as it is (it is already safe), its own values still quoted', () => {
    const inner = sh`printf '%s\\n' ${'a b'}`;
    const outer = sh`if true; then ${inner}; fi`;
    expect(outer.text).toBe("if true; then printf '%s\\n' 'a b'; fi");
    expect(runLocalSh(outer).stdout).toBe('a b\n');
  });

  it('raw() is used as it is: the one way to put unquoted text in', () => {
    expect(sh`echo ${raw('$HOME')}`.text).toBe('echo $HOME');
    expect(runLocalSh(sh`X=1; echo ${raw('"$X"')} ${'"$X"'}`).stdout).toBe('1 "$X"\n');
  });

  it('refuses a look-alike object and a hand-made strings array at run time too', () => {
    const lookAlike = { text: 'rm -rf /' } as unknown as ShellCommand;
    expect(() => sh`echo ${lookAlike}`).toThrow(/internal error/);
    expect(ShellCommand.is(lookAlike)).toBe(false);
    expect(ShellCommand.is(sh`true`)).toBe(true);
    const fake = Object.assign(['rm -rf ', ''], { raw: ['rm -rf ', ''] }) as unknown as TemplateStringsArray;
    expect(() => sh(fake, '/')).toThrow(/tagged template/);
  });

  it('join and lines put commands together with a separator that is itself a command', () => {
    expect(join([sh`a`, sh`${'b c'}`]).text).toBe("a 'b c'");
    expect(join([sh`a`, sh`b`], sh` && `).text).toBe('a && b');
    expect(lines([sh`a`, sh`b`]).text).toBe('a\nb');
  });

  it('a command reads as its text (logs, JSON), which does not make it a command again', () => {
    const c = sh`echo ${'x y'}`;
    expect(String(c)).toBe("echo 'x y'");
    expect(JSON.stringify({ c })).toBe(JSON.stringify({ c: "echo 'x y'" }));
  });
});

describe('no string becomes a command by accident (checked by tsc: npm run typecheck)', () => {
  it('a string, or an object shaped like a command, is a type error where a command is expected', () => {
    // @ts-expect-error a string is not a ShellCommand
    const fromString: ShellCommand = 'rm -rf /';
    // @ts-expect-error an object with the same public shape is not one either (the brand is private)
    const lookAlike: ShellCommand = { text: 'rm -rf /', toString: () => 'rm -rf /', toJSON: () => 'rm -rf /' };
    // @ts-expect-error an exec op takes a command, not a string
    const op: Op = { op: 'exec', command: 'systemctl restart nginx' };
    // And at run time, should a cast get one through:
    // @ts-expect-error objects cannot be interpolated (only strings, numbers, lists of them, commands)
    expect(() => sh`echo ${{ path: '/etc' }}`).toThrow(/internal error/);
    // @ts-expect-error undefined is not a value to interpolate
    expect(() => sh`echo ${undefined}`).toThrow(/internal error/);
    expect(ShellCommand.is(fromString) || ShellCommand.is(lookAlike)).toBe(false);
    expect(op.op).toBe('exec');
  });
});

describe('heredoc and role shell', () => {
  it('feeds content as data: nothing in it is expanded, and it cannot end the heredoc early', () => {
    const content = '$HOME `id` $(id) \'q\' "d" \\ KANKA_EOF\nEOF\n';
    const r = runLocalSh(heredoc(sh`cat`, content));
    expect(r.stdout).toBe(content);
    expect(runLocalSh(heredoc(sh`cat`, 'a', sh`| tr a b`)).stdout).toBe('b\n');
  });

  it("a role's command is shell as written; {path} in validate becomes the given file", () => {
    expect(roleShell('test -f /etc/x && echo $HOME').text).toBe('test -f /etc/x && echo $HOME');
    expect(roleValidateCommand('nginx -t -c {path} && cmp {path} {path}', sh`"$tmp"`).text).toBe(
      'nginx -t -c "$tmp" && cmp "$tmp" "$tmp"',
    );
  });
});
