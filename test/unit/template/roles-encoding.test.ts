/**
 * The shipped roles' templates, rendered with hostile secrets and read back by the real readers:
 * what php, the MariaDB client and redis get is exactly the secret.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { renderTemplate } from '../../../src/template/render.js';

const roles = join(import.meta.dirname, '..', '..', '..', 'roles');
// Some tests start php, redis or Python: slow on a loaded machine.
vi.setConfig({ testTimeout: 30_000 });
const hostile = (tag: string) => `${tag} "q' \\\\d $HOME \`id\`; #c \${PATH} %n%% end\\`;
const secrets = {
  db_password: hostile('db'),
  replication_password: hostile('repl'),
  redis_password: hostile('redis'),
  thumbor_security_key: hostile('thumbor'),
  s3_access_key: hostile('s3a'),
  s3_secret_key: hostile('s3s'),
  sentry_dsn: 'https://k@sentry.invalid/1',
};

const hostRecords = {
  backend1: { name: 'backend1', address: '10.0.0.21', groups: ['backend'], vars: {} },
  backend2: { name: 'backend2', address: '10.0.0.22', groups: ['backend'], vars: {} },
};

function context(role: string): Record<string, unknown> {
  const defaults = parse(readFileSync(join(roles, role, 'defaults.yml'), 'utf8')) as Record<string, unknown>;
  return {
    ...defaults,
    env: 'test',
    host: hostRecords.backend2,
    hosts: hostRecords,
    secrets,
    facts: { memory_mb: 2048 },
  };
}

const render = (role: string, template: string): string =>
  renderTemplate(join(roles, role, 'templates', template), context(role)).text;

const have = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const needs = (...bins: string[]) => it.skipIf(!process.env['CI'] && !bins.every(have));

const dirs: string[] = [];
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'kenc-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('shipped templates carry hostile secrets intact', () => {
  needs('php')('nginx-php .env: phpdotenv (Laravel) and healthz.php read every secret and address', () => {
    const app = scratch();
    writeFileSync(join(app, '.env'), render('nginx-php', 'env.hbs'));
    const php = `require '/usr/share/php/Dotenv/autoload.php'; echo json_encode(Dotenv\\Dotenv::createArrayBacked($argv[1])->load());`;
    const laravel = JSON.parse(spawnSync('php', ['-r', php, app], { encoding: 'utf8' }).stdout) as Record<
      string,
      string
    >;
    // healthz.php itself, with the database and Redis unreachable: it reports what it tried.
    mkdirSync(join(app, 'public'));
    const healthz = readFileSync(join(roles, 'nginx-php', 'files', 'healthz.php'), 'utf8');
    const reader = /\/\/ The app's \.env[\s\S]*?(?=\n\$checks = )/.exec(healthz)?.[0] ?? '';
    writeFileSync(join(app, 'public', 'reader.php'), `<?php\n${reader}\necho json_encode($env);\n`);
    const own = JSON.parse(
      spawnSync('php', [join(app, 'public', 'reader.php')], { encoding: 'utf8' }).stdout,
    ) as Record<string, string>;
    for (const read of [laravel, own]) {
      expect(read).toMatchObject({
        DB_HOST: '10.0.0.21',
        DB_READ_HOST: '10.0.0.22',
        DB_PASSWORD: secrets.db_password,
        REDIS_PASSWORD: secrets.redis_password,
        REDIS_PORT: '6379',
        AWS_ACCESS_KEY_ID: secrets.s3_access_key,
        AWS_SECRET_ACCESS_KEY: secrets.s3_secret_key,
        SENTRY_LARAVEL_DSN: secrets.sentry_dsn,
      });
    }
  });

  needs('my_print_defaults')(
    'mariadb-replica option file: the client reads the primary and the replication password',
    () => {
      const file = join(scratch(), 'replication.cnf');
      writeFileSync(file, render('mariadb-replica', 'replication.cnf.hbs'));
      const r = spawnSync('my_print_defaults', [`--defaults-file=${file}`, 'client'], { encoding: 'utf8' });
      expect(r.stdout).toBe(`--host=10.0.0.21\n--user=repl\n--password=${secrets.replication_password}\n`);
    },
  );

  it('mariadb-replica CHANGE MASTER: the password is one SQL literal', () => {
    const sql = render('mariadb-replica', 'change-master.sql.hbs');
    expect(sql).toContain(
      `MASTER_HOST='10.0.0.21', MASTER_USER='repl', MASTER_PASSWORD='repl "q\\' \\\\\\\\d $HOME \`id\`; #c \${PATH} %n%% end\\\\', MASTER_USE_GTID=slave_pos`,
    );
  });

  needs('redis-server', 'redis-cli')('redis.conf: the requirepass line authenticates with the password', async () => {
    const conf = render('redis', 'redis.conf.hbs');
    const requirepass = conf.split('\n').find((l) => l.startsWith('requirepass '));
    expect(conf).toContain('bind 127.0.0.1 10.0.0.22\nport 6379\n');
    const dir = scratch();
    const sock = join(dir, 'r.sock');
    writeFileSync(
      join(dir, 'redis.conf'),
      ['port 0', `unixsocket ${sock}`, 'daemonize no', 'save ""', `dir ${dir}`, requirepass ?? '', ''].join('\n'),
    );
    const server = spawn('redis-server', [join(dir, 'redis.conf')], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 250 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
      const ping = spawnSync('redis-cli', ['-s', sock, '--no-auth-warning', '-a', secrets.redis_password, 'PING'], {
        encoding: 'utf8',
      });
      expect(ping.stdout).toBe('PONG\n');
    } finally {
      server.kill();
    }
  });

  needs('python3')('thumbor.conf: Python reads the security key', () => {
    const conf = render('thumbor', 'thumbor.conf.hbs');
    const r = spawnSync(
      'python3',
      [
        '-c',
        'import sys, json; ns = {}; exec(sys.stdin.read(), ns); print(json.dumps([ns["SECURITY_KEY"], ns["RESULT_STORAGE_FILE_STORAGE_ROOT_PATH"]]))',
      ],
      { input: conf, encoding: 'utf8' },
    );
    expect(JSON.parse(r.stdout)).toEqual([secrets.thumbor_security_key, '/var/cache/thumbor/result']);
  });

  it('no template puts a secret in a file without an encoder', () => {
    const bare: string[] = [];
    for (const role of readdirSync(roles)) {
      const dir = join(roles, role, 'templates');
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir)) {
        const text = readFileSync(join(dir, file), 'utf8');
        for (const m of text.matchAll(/\{\{\s*secrets\.\w+\s*\}\}/g)) bare.push(`${role}/templates/${file}: ${m[0]}`);
      }
    }
    expect(bare).toEqual([]);
  });
});
