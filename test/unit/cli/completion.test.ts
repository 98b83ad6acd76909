import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli } from '../../support/cli.js';
import { projectDir, projectFiles } from '../../support/project.js';
import { tempTree } from '../../support/tmp.js';

/** A project with two environments, a tagged task and an encrypted file beside the inventories. */
function project(): string {
  const base = projectFiles();
  return projectDir({
    'inventory/staging.yml': base['inventory/test.yml'],
    'inventory/test.secrets.yml': '$ANSIBLE_VAULT;1.1;AES256\n6162\n',
    'roles/base/tasks.yml': [
      '- name: motd',
      '  copy: { dest: /etc/motd, content: "hi\\n" }',
      '  tags: [motd, base]',
      '- name: app dir',
      '  file: { path: /srv/app, state: directory }',
      '  tags: [app]',
      '',
    ].join('\n'),
  });
}

/** The candidates `__complete` prints for these words (the last is the one under the cursor). */
async function candidates(cwd: string, ...words: string[]): Promise<string[]> {
  const r = await cli(['__complete', '--', ...words], { cwd });
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter((l) => l !== '');
}

describe('completion', () => {
  it('commands (not the hidden one), then options of the command', async () => {
    const cwd = project();
    expect(await candidates(cwd, '')).toEqual(expect.arrayContaining(['plan', 'apply', 'run', 'completion', 'db']));
    expect(await candidates(cwd, '')).not.toContain('__complete');
    expect(await candidates(cwd, 'pl')).toEqual(['plan']);
    expect(await candidates(cwd, 'plan', 'prod', '--l')).toEqual(['--limit']);
    expect(await candidates(cwd, 'run', 'test', '--')).toEqual(
      expect.arrayContaining(['--limit', '--forks', '--json', '--help']),
    );
    expect(await candidates(cwd, 'db', '')).toEqual(['backup', 'restore', 'reseed']);
    expect(await candidates(cwd, 'vault', 'e')).toEqual(['encrypt', 'edit', 'encrypt-string']);
    expect(await candidates(cwd, 'completion', '')).toEqual(['bash', 'zsh']);
  });

  it('environments from inventory/*.yml, not the encrypted secrets file; --project is followed', async () => {
    const cwd = project();
    expect((await candidates(cwd, 'plan', '')).sort()).toEqual(['staging', 'test']);
    expect(await candidates(cwd, 'apply', 'st')).toEqual(['staging']);
    expect(await candidates(cwd, 'add-host', 'x', '--env', '')).toEqual(['staging', 'test']);
    expect(await candidates(tempTree({}), 'plan', '-p', cwd, 'te')).toEqual(['test']);
  });

  it('hosts and groups for --limit (with patterns), tags for --tags, hosts for db reseed; nothing contacted', async () => {
    const cwd = project();
    const r = await cli(['__complete', '--', 'plan', 'test', '--limit', ''], { cwd });
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['all', 'db', 'db1', 'web', 'web1']);
    expect(r.connected).toEqual([]);
    expect(await candidates(cwd, 'run', 'test', '-l', 'web1:d')).toEqual(['web1:db', 'web1:db1']);
    expect(await candidates(cwd, 'plan', 'test', '-l', 'all:!w')).toEqual(['all:!web', 'all:!web1']);
    expect((await candidates(cwd, 'apply', 'test', '--tags', '')).sort()).toEqual(['app', 'base', 'motd']);
    expect(await candidates(cwd, 'apply', 'test', '--tags', 'app,m')).toEqual(['app,motd']);
    expect(await candidates(cwd, 'plan', 'test', '--skip-tags', 'b')).toEqual(['base']);
    expect(await candidates(cwd, 'db', 'reseed', 'test', '')).toEqual(['web1', 'db1']);
    expect(await candidates(cwd, 'add-host', 'new', '--env', 'test', '--group', '')).toEqual(['web', 'db']);
  });

  it("nothing after run's --, for a value it cannot know, or for a broken project (no error printed)", async () => {
    const cwd = project();
    expect(await candidates(cwd, 'run', 'test', '--', 'upt')).toEqual([]);
    expect(await candidates(cwd, 'plan', 'test', '--forks', '')).toEqual([]);
    expect(await candidates(cwd, 'plan', 'nope', '--limit', '')).toEqual([]);
    const broken = projectDir({ 'inventory/test.yml': 'hosts: [' });
    expect(await candidates(broken, 'plan', 'test', '--limit', '')).toEqual([]);
  });

  it('completion bash|zsh prints the script; another shell is a usage error', async () => {
    const bash = await cli(['completion', 'bash'], { cwd: project() });
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('complete -o default -F _kanka_infra kanka-infra');
    const zsh = await cli(['completion', 'zsh'], { cwd: project() });
    expect(zsh.stdout).toMatch(/^#compdef kanka-infra\n/);
    expect(zsh.stdout).toContain('compdef _kanka_infra kanka-infra');
    expect((await cli(['completion', 'fish'], { cwd: project() })).code).toBe(1);
  });

  it('the bash script completes a real line through the program the user typed', async () => {
    const cwd = project();
    const script = (await cli(['completion', 'bash'], { cwd })).stdout;
    const bin = tempTree({});
    const program = join(bin, 'kanka-infra');
    // The CLI from source, as the script would run the installed one.
    const entry = join(import.meta.dirname, '../../../src/cli/entry.ts');
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    writeFileSync(program, `#!/bin/sh\nexec node --import ${tsx} ${JSON.stringify(entry)} "$@"\n`);
    chmodSync(program, 0o755);
    const complete = (line: string) =>
      execFileSync(
        'bash',
        [
          '-c',
          `${script}\nCOMP_LINE="$1"; COMP_POINT=\${#COMP_LINE}; COMP_WORDBREAKS=$' \\t\\n"\\'><=;|&(:'\n_kanka_infra\nprintf '%s\\n' "\${COMPREPLY[@]}"`,
          'bash',
          line,
        ],
        { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
      )
        .split('\n')
        .filter(Boolean);
    expect(complete(`${program} plan test --limit we`)).toEqual(['web', 'web1']);
    // bash replaces what follows the colon: that part is offered.
    expect(complete(`${program} plan test --limit web1:d`)).toEqual(['db', 'db1']);
  });
});
