/**
 * Round trips through the real parsers: each encoder's output is read back by the program that
 * reads that format on the hosts (Debian packages installed by .ci/run), and must give back the
 * value exactly. Without a package a block is skipped here, and fails in CI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as encode from '../../../src/template/encoders.js';

const repoRoot = join(import.meta.dirname, '..', '..', '..');
// Each test starts a real server or parser: slow on a loaded machine.
vi.setConfig({ testTimeout: 30_000 });

/** Printable values that break naive quoting, one line each. */
const PRINTABLE = [
  `a"b'c\\d$e\`f;g#h i\\\\j\${HOME}%n%% x\\`,
  '',
  ' ',
  '\\',
  '\\\\',
  '"',
  "'",
  "''",
  `\\"`,
  `\\'`,
  ' leading and trailing ',
  '#comment',
  ';semi',
  '=eq=',
  '--option',
  '$HOME ${HOME} $(id) `id`',
  '{braces} [brackets] (parens) <angle> |&!*?~^',
  'pässwörd ✓ 密码',
  'ends with quote"',
  "ends with quote'",
  'ends with backslash quote\\"',
  '%s %% %n %h',
];
/** Values with control characters, for formats that have escapes for them. */
const MULTILINE = ['line1\nline2', 'tab\there', 'cr\rlf\n', '\n', 'end\\\n'];

const have = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
/** Skipped on a machine without the package, never in CI (.ci/run installs them). */
const needs = (...bins: string[]) => describe.skipIf(!process.env['CI'] && !bins.every(have));

const dirs: string[] = [];
function scratch(): string {
  // Short: unix socket paths are limited to 108 bytes.
  const d = mkdtempSync(join(tmpdir(), 'kenc-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(cmd: string, args: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 20000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/**
 * Waits until a server accepts connections on its socket. The file alone is not enough: a server
 * binds (the file appears) before it listens, and a connection in between is refused.
 */
async function waitForListening(path: string, ms = 10000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = createConnection(path);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    if (Date.now() > until) throw new Error(`nothing listened on ${path} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function getOverSocket(socketPath: string, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: 'x' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('quote and quoteWords through /bin/sh', () => {
  it.each([...PRINTABLE, ...MULTILINE])('quote(%j) is one word holding the value', (value) => {
    const r = run('sh', ['-c', `printf '%s' ${encode.quote(value)}`]);
    expect(r.out).toBe(value);
  });

  it('quoteWords: each whitespace-separated word is one argument, nothing is run', () => {
    const r = run('sh', [
      '-c',
      `for a in ${encode.quoteWords(' --index-url  https://x/s;id $(id) `id` a\'b "c" ')}; do printf '[%s]' "$a"; done`,
    ]);
    expect(r.out).toBe(`[--index-url][https://x/s;id][$(id)][\`id\`][a'b]["c"]`);
  });
});

needs('php')("dotenv through phpdotenv (Laravel) and the role's healthz.php reader", () => {
  const values = [...PRINTABLE, ...MULTILINE, 'form\ffeed vertical\vtab'];
  const dir = scratch();
  const env = values.map((v, i) => `K_${i}=${encode.dotenv(v)}`).join('\n');
  writeFileSync(join(dir, '.env'), `# a comment\n${env}\nAFTER="still read"\n`);

  it('phpdotenv 5 reads every value back exactly', () => {
    const autoload = '/usr/share/php/Dotenv/autoload.php';
    const php = `require '${autoload}'; echo json_encode(Dotenv\\Dotenv::createArrayBacked($argv[1])->load());`;
    const r = run('php', ['-r', php, dir]);
    expect(r.err).toBe('');
    const read = JSON.parse(r.out) as Record<string, string>;
    values.forEach((v, i) => expect(read[`K_${i}`], JSON.stringify(v)).toBe(v));
    expect(read['AFTER']).toBe('still read');
  });

  it('the reader in roles/nginx-php/files/healthz.php reads every value back exactly', () => {
    // The shipped reader itself, cut out of healthz.php (from its comment to the first check).
    const healthz = readFileSync(join(repoRoot, 'roles/nginx-php/files/healthz.php'), 'utf8');
    const reader = /\/\/ The app's \.env[\s\S]*?(?=\n\$checks = )/.exec(healthz)?.[0];
    expect(reader, 'the .env reader in healthz.php').toBeDefined();
    const sub = join(dir, 'public');
    spawnSync('mkdir', ['-p', sub]);
    writeFileSync(join(sub, 'reader.php'), `<?php\n${reader ?? ''}\necho json_encode($env);\n`);
    const r = run('php', [join(sub, 'reader.php')]);
    const read = JSON.parse(r.out) as Record<string, string>;
    values.forEach((v, i) => expect(read[`K_${i}`], JSON.stringify(v)).toBe(v));
  });
});

needs('my_print_defaults')("mysqlOption through MariaDB's option-file reader (my_print_defaults)", () => {
  it.each([...PRINTABLE, ...MULTILINE, 'back\bspace'])('%j', (value) => {
    const file = join(scratch(), 'my.cnf');
    writeFileSync(
      file,
      `[client]\n# a comment\npassword = ${encode.mysqlOption(value)}  # trailing comment\nuser = after\n`,
    );
    const r = run('my_print_defaults', [`--defaults-file=${file}`, 'client']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`--password=${value}\n--user=after\n`);
  });
});

needs('redis-server', 'redis-cli')('redis through redis-server: the password in requirepass authenticates', () => {
  it.each([...PRINTABLE.filter((v) => v !== ''), ...MULTILINE, 'bell\u0007 esc\u001b del\u007f'])(
    '%j',
    async (value) => {
      const dir = scratch();
      const sock = join(dir, 'r.sock');
      const conf = [
        `port 0`,
        `unixsocket ${sock}`,
        'daemonize no',
        'save ""',
        'appendonly no',
        `dir ${dir}`,
        `requirepass ${encode.redis(value)}`,
        'maxmemory-policy allkeys-lru',
        '',
      ].join('\n');
      writeFileSync(join(dir, 'redis.conf'), conf);
      const server = spawn('redis-server', [join(dir, 'redis.conf')], { stdio: 'ignore' });
      try {
        await waitForListening(sock);
        expect(run('redis-cli', ['-s', sock, '--no-auth-warning', '-a', value, 'PING']).out).toBe('PONG\n');
        expect(run('redis-cli', ['-s', sock, '--no-auth-warning', '-a', `${value}x`, 'PING']).out).not.toBe('PONG\n');
      } finally {
        server.kill();
      }
    },
  );
});

needs('nginx')('nginx through nginx itself: each value served back by `return 200 <value>`', () => {
  it('every printable value without `$`', async () => {
    const dir = scratch();
    const values = PRINTABLE.filter((v) => !v.includes('$'));
    const sock = join(dir, 's.sock');
    const locations = values.map((v, i) => `    location = /${i} { return 200 ${encode.nginx(v)}; }`).join('\n');
    const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
      .map((t) => `  ${t}_temp_path ${dir}/${t};`)
      .join('\n');
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;\npid ${dir}/pid;\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n${temps}\n  default_type text/plain;\n  server {\n    listen unix:${sock};\n${locations}\n  }\n}\n`,
    );
    const check = run('nginx', ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf')]);
    expect(check.code, check.err).toBe(0);
    const server = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    await expectServedBack(server, sock, values);
  });
});

needs('haproxy')(
  'haproxy through haproxy itself: each value served back by `http-request return ... string <value>`',
  () => {
    it('every printable value', async () => {
      const dir = scratch();
      const values = PRINTABLE.filter((v) => v !== '');
      const sock = join(dir, 'h.sock');
      const rules = values
        .map(
          (v, i) =>
            `\thttp-request return status 200 content-type text/plain string ${encode.haproxy(v)} if { path /${i} }`,
        )
        .join('\n');
      const cfg = `global\n\tmaxconn 20\ndefaults\n\tmode http\n\ttimeout connect 1s\n\ttimeout client 5s\n\ttimeout server 5s\nfrontend f\n\tbind ${encode.haproxy(`unix@${sock}`)}\n${rules}\n`;
      writeFileSync(join(dir, 'haproxy.cfg'), cfg);
      const check = run('haproxy', ['-c', '-q', '-f', join(dir, 'haproxy.cfg')]);
      expect(check.code, check.out + check.err).toBe(0);
      const server = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
      await expectServedBack(server, sock, values);
    });
  },
);

const phpFpm = (() => {
  try {
    return readdirSync('/usr/sbin')
      .filter((f) => /^php-fpm[\d.]+$/.test(f))
      .sort()
      .map((f) => `/usr/sbin/${f}`)
      .pop();
  } catch {
    return undefined;
  }
})();

describe.skipIf(!process.env['CI'] && phpFpm === undefined)(
  "phpIni through php-fpm's pool parser (php-fpm -tt) and parse_ini_string",
  () => {
    it('env[] and php_value[] read back every printable value', () => {
      const dir = scratch();
      // php-fpm refuses an empty value (so does phpIni).
      const lines = PRINTABLE.filter((v) => v !== '').flatMap((v, i) => [
        `env[K_${i}] = ${encode.phpIni(v)}`,
        `php_value[user_agent] = ${encode.phpIni(v)}`,
      ]);
      writeFileSync(
        join(dir, 'fpm.conf'),
        `[global]\npid = ${dir}/fpm.pid\nerror_log = ${dir}/fpm.log\n[kanka]\nuser = nobody\nlisten = ${dir}/fpm.sock\npm = static\npm.max_children = 1\n${lines.join('\n')}\n`,
      );
      const r = run(phpFpm ?? 'php-fpm', ['-tt', '-y', join(dir, 'fpm.conf')]);
      expect(r.code, r.err).toBe(0);
      // php-fpm prints each setting as "NOTICE: \tname = value"; the env and php_value lines alternate.
      const dumped = (r.err + r.out)
        .split('\n')
        .map((l) => /NOTICE: \t(env\[K_\d+\]|php_value\[user_agent\]) = (.*)$/.exec(l))
        .filter((m) => m !== null);
      const env = new Map(dumped.filter((m) => m[1]?.startsWith('env')).map((m) => [m[1], m[2]]));
      PRINTABLE.filter((v) => v !== '').forEach((v, i) =>
        expect(env.get(`env[K_${i}]`) ?? '', JSON.stringify(v)).toBe(v),
      );
      expect(dumped.filter((m) => m[1] === 'php_value[user_agent]').length).toBeGreaterThan(0);
    });

    it.skipIf(!process.env['CI'] && !have('php'))(
      'parse_ini_string (INI_SCANNER_NORMAL) reads back every printable value',
      () => {
        const values = PRINTABLE.filter((v) => v !== '');
        const ini = values.map((v, i) => `k_${i} = ${encode.phpIni(v)}`).join('\n');
        const r = run(
          'php',
          ['-r', 'echo json_encode(parse_ini_string(stream_get_contents(STDIN), false, INI_SCANNER_NORMAL));'],
          ini,
        );
        const read = JSON.parse(r.out) as Record<string, string>;
        values.forEach((v, i) => expect(read[`k_${i}`], JSON.stringify(v)).toBe(v));
      },
    );
  },
);

needs('systemd-analyze')('systemd through systemd-analyze verify (its parser prints what it read)', () => {
  function verify(unit: string, name = 'kanka-enc.service'): string {
    const dir = scratch();
    writeFileSync(join(dir, name), unit);
    const r = run('systemd-analyze', ['verify', '--man=no', join(dir, name)]);
    return r.err + r.out;
  }

  // An assignment without a valid name is reported with the word as systemd unquoted it. (Its log
  // drops a trailing newline and prints a carriage return as a newline: those values are left out.)
  it.each([...PRINTABLE, 'line1\nline2', 'tab\there'])('systemd: Environment= word %j', (value) => {
    const word = `!${value}`;
    const out = verify(`[Service]\nType=oneshot\nEnvironment=${encode.systemd(word)}\nExecStart=/bin/true\n`);
    expect(out).toContain(`Invalid environment assignment, ignoring: ${word}\n`);
  });

  it('systemd: a valid NAME=value assignment with hostile characters is accepted without a warning', () => {
    const out = verify(
      `[Service]\nType=oneshot\nEnvironment=${encode.systemd(`DB_PASSWORD=${PRINTABLE[0] ?? ''}`)}\nExecStart=/bin/true\n`,
    );
    expect(out).toBe('');
  });

  // The executable is reported as read; `$$` is what systemd turns into `$` when it runs the command.
  it.each(PRINTABLE.filter((v) => !v.includes('\n')))('systemdExec: ExecStart= word %j', (value) => {
    const path = `/nonexistent/x${value}`;
    const out = verify(`[Service]\nType=oneshot\nExecStart=${encode.systemdExec(path)} ${encode.systemdExec(value)}\n`);
    const read = /(?:Executable name contains special characters: |Command )(.*?)(?: is not executable: .*)?\n/.exec(
      out,
    )?.[1];
    expect(read, out).toBe(path.replace(/\$/g, '$$$$'));
  });

  it.each(['*-01,04,07,10-01 04:00:00', 'not a calendar %n %% 50%', 'Mon..Fri'])(
    'systemdValue: OnCalendar= %j',
    (value) => {
      const out = verify(
        `[Timer]\nOnCalendar=${encode.systemdValue(value)}\n[Install]\nWantedBy=timers.target\n`,
        'kanka-enc.timer',
      );
      if (value.startsWith('not'))
        expect(out).toContain(`Failed to parse calendar specification, ignoring: ${value}\n`);
      else expect(out).not.toContain('Failed to parse calendar');
    },
  );
});

needs('apt-config')("aptConf through apt's own parser (apt-config shell)", () => {
  // apt.conf has no escapes: values with a double quote or a backslash are refused (encoders.test.ts).
  const values = PRINTABLE.filter((v) => !/["\\]/.test(v));
  it.each(values)('%j', (value) => {
    const file = join(scratch(), 'apt.conf');
    writeFileSync(file, `// comment\nKanka::Test ${encode.aptConf(value)};\nKanka::After "x";\n`);
    const r = spawnSync('apt-config', ['shell', 'V', 'Kanka::Test', 'A', 'Kanka::After'], {
      encoding: 'utf8',
      env: { ...process.env, APT_CONFIG: file },
    });
    expect(r.status, r.stderr).toBe(0);
    const read = run('sh', ['-c', 'eval "$1"; printf %s "$V|$A"', 'sh', r.stdout]);
    expect(read.out).toBe(`${value}|x`);
  });
});

needs('python3')('json as a Python string literal (thumbor.conf)', () => {
  it('ast.literal_eval reads back every value', () => {
    const values = [...PRINTABLE, ...MULTILINE];
    const src = `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
    const r = run(
      'python3',
      ['-c', 'import ast, json, sys; print(json.dumps(ast.literal_eval(sys.stdin.read())))'],
      src,
    );
    expect(JSON.parse(r.out)).toEqual(values);
  });
});

/** Each value, asked for as /<index> on the server's socket, comes back byte for byte; the server is stopped after. */
async function expectServedBack(
  server: ReturnType<typeof spawn>,
  sock: string,
  values: readonly string[],
): Promise<void> {
  try {
    await waitForListening(sock);
    for (const [i, v] of values.entries()) {
      const r = await getOverSocket(sock, `/${i}`);
      expect(r.body.toString('utf8'), JSON.stringify(v)).toBe(v);
    }
  } finally {
    server.kill();
  }
}
