/**
 * The mariadb-backup role's templates: which host backs up and which receives the copy, as the
 * scripts read it (the settings file sourced by sh) and as sshd reads it (authorized_keys).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../src/secrets/secret.js';
import { renderTemplate } from '../../../src/template/render.js';

const roles = join(import.meta.dirname, '..', '..', '..', 'roles');
const defaults = (role: string) =>
  parse(readFileSync(join(roles, role, 'defaults.yml'), 'utf8')) as Record<string, unknown>;
const backend = (name: string, address: string) => ({ name, address, groups: ['backend'], vars: {} });
const two = { backend1: backend('backend1', '10.0.0.21'), backend2: backend('backend2', '10.0.0.22') };

const dir = mkdtempSync(join(tmpdir(), 'kbackup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'x', '-f', join(dir, 'key')]);
const privateKey = readFileSync(join(dir, 'key'), 'utf8');
const publicKey = readFileSync(join(dir, 'key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');

function render(
  template: string,
  on: string,
  opts: { hosts?: Record<string, ReturnType<typeof backend>>; vars?: Record<string, unknown>; key?: boolean } = {},
): string {
  const hosts: Record<string, ReturnType<typeof backend>> = opts.hosts ?? two;
  const context = {
    ...defaults('mariadb'),
    ...defaults('mariadb-backup'),
    ...opts.vars,
    env: 'test',
    host: hosts[on],
    hosts,
    secrets: opts.key === false ? {} : { backup_ssh_key: new Secret(privateKey) },
    facts: {},
  };
  return renderTemplate(join(roles, 'mariadb-backup', 'templates', template), context).text;
}

/** The settings as the scripts see them: the file sourced by sh, each variable printed back. */
const NAMES = [
  'host_name',
  'backup_dir',
  'databases',
  'keep',
  'max_age_days',
  'max_lag_seconds',
  'role',
  'primary_address',
  'backup_host',
  'copy_to',
  'copy_host',
  'copy_port',
];
function settings(text: string): Record<string, string> {
  const file = join(dir, 'conf');
  writeFileSync(file, text);
  const script = `. "$1" && for v in ${NAMES.join(' ')}; do eval "printf '%s=%s\\\\n' \\"\\$v\\" \\"\\\${$v}\\""; done`;
  const out = spawnSync('sh', ['-c', script, 'sh', file], { encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  return Object.fromEntries(
    out.stdout
      .split('\n')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

const keyLines = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('mariadb-backup: who backs up, who receives', () => {
  it('two backends: the replica backs up and copies to the primary; the primary only receives', () => {
    expect(settings(render('mariadb-backup.conf.hbs', 'backend2'))).toEqual({
      host_name: 'backend2',
      backup_dir: '/var/backups/kanka-infra/mariadb',
      databases: '',
      keep: '7',
      max_age_days: '14',
      max_lag_seconds: '300',
      role: 'replica',
      primary_address: '10.0.0.21',
      backup_host: 'backend2',
      copy_to: '10.0.0.21',
      copy_host: 'backend1',
      copy_port: '22',
    });
    expect(settings(render('mariadb-backup.conf.hbs', 'backend1'))).toMatchObject({
      role: 'primary',
      backup_host: 'backend2',
      copy_to: '',
      copy_host: '',
    });
    expect(keyLines(render('authorized_keys.hbs', 'backend1'))).toEqual([
      `restrict,command="/usr/local/lib/kanka-infra/mariadb-backup-receive",from="10.0.0.22" ${publicKey} kanka-mariadb-backup`,
    ]);
    expect(keyLines(render('authorized_keys.hbs', 'backend2'))).toEqual([]);
  });

  it('without secrets.backup_ssh_key nobody receives (the backup host still names its copy target; the script sees no key)', () => {
    expect(keyLines(render('authorized_keys.hbs', 'backend1', { key: false }))).toEqual([]);
  });

  it('a single backend backs itself up and copies nowhere', () => {
    const one = { backend1: two.backend1 };
    expect(settings(render('mariadb-backup.conf.hbs', 'backend1', { hosts: one }))).toMatchObject({
      role: 'primary',
      backup_host: 'backend1',
      copy_to: '',
    });
    expect(keyLines(render('authorized_keys.hbs', 'backend1', { hosts: one }))).toEqual([]);
  });

  it('three backends: the first replica backs up, to the primary; set by hand: another host, or no copy', () => {
    const three = { ...two, backend3: backend('backend3', '10.0.0.23') };
    expect(settings(render('mariadb-backup.conf.hbs', 'backend2', { hosts: three }))).toMatchObject({
      backup_host: 'backend2',
      copy_to: '10.0.0.21',
    });
    const chosen = { mariadb_backup_host: 'backend3', mariadb_backup_copy_to: 'backend2' };
    expect(settings(render('mariadb-backup.conf.hbs', 'backend3', { hosts: three, vars: chosen }))).toMatchObject({
      backup_host: 'backend3',
      copy_to: '10.0.0.22',
      copy_host: 'backend2',
    });
    expect(keyLines(render('authorized_keys.hbs', 'backend2', { hosts: three, vars: chosen }))[0]).toContain(
      'from="10.0.0.23"',
    );
    expect(keyLines(render('authorized_keys.hbs', 'backend1', { hosts: three, vars: chosen }))).toEqual([]);
    expect(
      settings(render('mariadb-backup.conf.hbs', 'backend2', { vars: { mariadb_backup_copy_to: 'none' } })),
    ).toMatchObject({ copy_to: '' });
    expect(keyLines(render('authorized_keys.hbs', 'backend1', { vars: { mariadb_backup_copy_to: 'none' } }))).toEqual(
      [],
    );
  });

  it('values reach the scripts intact, whatever their characters', () => {
    const odd = "/srv/backups/it's $HOME `id` \\ x";
    const s = settings(
      render('mariadb-backup.conf.hbs', 'backend2', {
        vars: { mariadb_backup_dir: odd, mariadb_backup_databases: ['kanka', 'kanka_stats'] },
      }),
    );
    expect(s).toMatchObject({ backup_dir: odd, databases: 'kanka kanka_stats' });
  });

  it('the timer takes the schedule as one systemd value', () => {
    expect(
      render('kanka-mariadb-backup.timer.hbs', 'backend2', { vars: { mariadb_backup_schedule: 'Mon *-*-* 01:00:00' } }),
    ).toContain('OnCalendar=Mon *-*-* 01:00:00\n');
  });
});
