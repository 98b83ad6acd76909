import { sh } from '../shell/command.js';

/**
 * Encoders: a value made into one token of the format it lands in, so the program that reads the
 * file gets back exactly the value (any printable character, quotes, backslashes, `$`, `#`, `;`,
 * spaces). A value a format cannot carry is refused with an error that names the encoder and the
 * character, never the value (it is often a secret), and is never silently changed.
 */
export class EncodingError extends Error {
  override name = 'EncodingError';
}

/** A word that needs no quotes in any of these formats (kept bare so configs stay readable). */
const PLAIN_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

function fail(encoder: string, why: string): never {
  throw new EncodingError(`${encoder}: ${why}`);
}

/** Strings and numbers only: a list or a missing value in a config is a template mistake. */
function text(encoder: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  const what =
    value === undefined
      ? 'nothing (undefined)'
      : value === null
        ? 'null'
        : Array.isArray(value)
          ? 'a list'
          : `a ${typeof value}`;
  return fail(encoder, `expected a string or a number, got ${what}`);
}

function describe(ch: string, at: number): string {
  const code = ch.codePointAt(0) ?? 0;
  const names: Record<number, string> = { 0: 'NUL', 9: 'a tab', 10: 'a newline', 13: 'a carriage return' };
  return `${names[code] ?? `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`} at character ${at + 1}`;
}

/** A C0 control character or DEL. */
function isControl(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

/** Control characters (C0 and DEL) other than those the format has an escape for. */
function refuseControls(encoder: string, value: string, escaped: ReadonlySet<string>, why: string): void {
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? '';
    if (isControl(ch) && !escaped.has(ch)) fail(encoder, `the value has ${describe(ch, i)}: ${why}`);
  }
}

/** Replaces characters by their escapes, one pass (so an escape is never escaped again). */
function escapeEach(value: string, table: Readonly<Record<string, string>>): string {
  let out = '';
  for (const ch of value) out += table[ch] ?? ch;
  return out;
}

const NONE: ReadonlySet<string> = new Set();

/** POSIX shell: one word, single-quoted when needed (the `sh` command builder's quoting, shq). */
export function quote(value: unknown): string {
  const s = text('quote', value);
  if (s.includes('\0')) fail('quote', `the value has ${describe('\0', s.indexOf('\0'))}: a shell word cannot hold NUL`);
  return sh`${s}`.text;
}

/** POSIX shell: a space-separated list of arguments (e.g. pip options), each word quoted on its own. */
export function quoteWords(value: unknown): string {
  const s = text('quoteWords', value);
  if (s.includes('\0'))
    fail('quoteWords', `the value has ${describe('\0', s.indexOf('\0'))}: a shell word cannot hold NUL`);
  return sh`${s.split(/\s+/).filter((w) => w !== '')}`.text;
}

const DOTENV_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '"': '\\"',
  $: '\\$',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\f': '\\f',
  '\v': '\\v',
};

/**
 * A .env value as phpdotenv 5 (Laravel) reads it: always double-quoted (the role's healthz.php
 * reads quoted values only), with `\\`, `\"`, `\$` (no ${VAR} expansion) and `\n \r \t \f \v`.
 * phpdotenv has no escape for other control characters: refused.
 */
export function dotenv(value: unknown): string {
  const s = text('dotenv', value);
  refuseControls('dotenv', s, new Set(['\n', '\r', '\t', '\f', '\v']), 'a .env file has no escape for it');
  return `"${escapeEach(s, DOTENV_ESCAPES)}"`;
}

/**
 * One nginx directive argument: double-quoted with `\"` and `\\`. `$` is refused: most directives
 * expand variables and nginx has no escape for `$`. Newlines are refused (nginx would keep them).
 */
export function nginx(value: unknown): string {
  const s = text('nginx', value);
  refuseControls('nginx', s, NONE, 'an nginx argument must be one line without control characters');
  const dollar = s.indexOf('$');
  if (dollar >= 0)
    fail(
      'nginx',
      `the value has "$" at character ${dollar + 1}: nginx reads it as a variable and has no escape for it`,
    );
  if (PLAIN_WORD.test(s)) return s;
  return `"${escapeEach(s, { '\\': '\\\\', '"': '\\"' })}"`;
}

/**
 * One haproxy config argument: single-quoted when needed (everything literal, no `$` expansion),
 * an embedded quote written '\'' as in a shell. haproxy's parser is line-based: control
 * characters are refused.
 */
export function haproxy(value: unknown): string {
  const s = text('haproxy', value);
  refuseControls('haproxy', s, NONE, 'a haproxy argument must be one line without control characters');
  if (PLAIN_WORD.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const MYSQL_OPTION_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
};

/**
 * A value in a MariaDB option file (my.cnf, ~/.my.cnf): double-quoted with the escapes MariaDB's
 * option-file reader undoes (`\\ \" \n \r \t \b`); `#` and `'` are literal inside the quotes.
 */
export function mysqlOption(value: unknown): string {
  const s = text('mysqlOption', value);
  refuseControls('mysqlOption', s, new Set(['\n', '\r', '\t', '\b']), 'a MariaDB option file has no escape for it');
  if (PLAIN_WORD.test(s)) return s;
  return `"${escapeEach(s, MYSQL_OPTION_ESCAPES)}"`;
}

const SQL_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  "'": "\\'",
  '\0': '\\0',
  '\n': '\\n',
  '\r': '\\r',
  '\u001a': '\\Z',
};

/** A MariaDB SQL string literal (default sql_mode, i.e. without NO_BACKSLASH_ESCAPES). */
export function sqlString(value: unknown): string {
  return `'${escapeEach(text('sqlString', value), SQL_ESCAPES)}'`;
}

/**
 * One redis.conf argument: double-quoted when needed, with redis' escapes (`\\ \" \n \r \t`,
 * `\xHH` for other control characters). NUL is refused.
 */
export function redis(value: unknown): string {
  const s = text('redis', value);
  if (s.includes('\0')) fail('redis', `the value has ${describe('\0', s.indexOf('\0'))}: refused`);
  if (PLAIN_WORD.test(s)) return s;
  return cQuoted(s);
}

/**
 * A value in a php-fpm pool or php.ini (env[NAME] = ..., php_value[...] = ...): always
 * double-quoted (bare words like `yes`, `none` or `~` mean something else), with `\\ \" \$`.
 * php-fpm reads its pools line by line and ini strings have no escape for a newline: control
 * characters are refused, and so is an empty value (php-fpm refuses it).
 */
export function phpIni(value: unknown): string {
  const s = text('phpIni', value);
  refuseControls('phpIni', s, NONE, 'a php-fpm/ini value must be one line without control characters');
  if (s === '') fail('phpIni', 'the value is empty: php-fpm refuses an empty value (leave the setting out instead)');
  return `"${escapeEach(s, { '\\': '\\\\', '"': '\\"', $: '\\$' })}"`;
}

function systemdWord(encoder: string, s: string, dollar: string): string {
  if (s.includes('\0')) fail(encoder, `the value has ${describe('\0', s.indexOf('\0'))}: systemd refuses it`);
  if (PLAIN_WORD.test(s)) return s;
  return cQuoted(s, { '%': '%%', $: dollar });
}

const C_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Double-quoted with C escapes, as redis.conf and systemd both read them: \\ \" \n \r \t, \xHH for
 * other control characters, plus the format's own (`extra`, e.g. systemd's %%).
 */
function cQuoted(s: string, extra: Readonly<Record<string, string>> = {}): string {
  let out = '';
  for (const ch of s) {
    const mapped = extra[ch] ?? C_ESCAPES[ch];
    if (mapped !== undefined) out += mapped;
    else if (isControl(ch)) out += `\\x${(ch.codePointAt(0) ?? 0).toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `"${out}"`;
}

/**
 * One word of a systemd unit setting that is split into words, e.g. a whole
 * Environment="NAME=value" assignment: double-quoted when needed, C escapes, `%` written `%%`
 * (specifiers). `$` is literal there.
 */
export function systemd(value: unknown): string {
  return systemdWord('systemd', text('systemd', value), '$');
}

/** One argument of a systemd ExecStart= (ExecStop=, ...) command line: as `systemd`, and `$` written `$$`. */
export function systemdExec(value: unknown): string {
  return systemdWord('systemdExec', text('systemdExec', value), '$$');
}

/**
 * The whole value of a single-value systemd setting (OnCalendar=, Description=): not quoted
 * (systemd would keep the quotes), `%` written `%%`. Control characters, a trailing backslash
 * (line continuation) and leading or trailing spaces (systemd strips them) are refused.
 */
export function systemdValue(value: unknown): string {
  const s = text('systemdValue', value);
  refuseControls('systemdValue', s, NONE, 'a systemd setting is one line');
  if (s.endsWith('\\')) fail('systemdValue', 'the value ends with a backslash: systemd would join the next line to it');
  if (s !== s.trim()) fail('systemdValue', 'the value starts or ends with spaces: systemd strips them');
  return s.replace(/%/g, '%%');
}

/**
 * A value in an apt.conf file (/etc/apt/apt.conf.d): always double-quoted. apt.conf has no escapes
 * ("values must not include backslashes or extra quotation marks", apt.conf(5)) and a value is one
 * line: `"`, `\` and control characters are refused.
 */
export function aptConf(value: unknown): string {
  const s = text('aptConf', value);
  refuseControls('aptConf', s, NONE, 'an apt.conf value is one line');
  const bad = /["\\]/.exec(s);
  if (bad)
    fail(
      'aptConf',
      `the value has ${bad[0] === '"' ? 'a double quote' : 'a backslash'} at character ${bad.index + 1}: apt.conf has no escape for it`,
    );
  return `"${s}"`;
}

/**
 * A key of a sysctl.d file (net.ipv4.tcp_syncookies, or with "/" as separator when a part has a
 * dot: net/ipv4/conf/eth0.100/rp_filter). A leading "-" (ignore failures) is refused: the role
 * decides what a failure means.
 */
export function sysctlKey(value: unknown): string {
  const s = text('sysctlKey', value);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.:/@-]*$/.test(s))
    fail('sysctlKey', 'a sysctl key is letters, digits and _ . : / @ -, starting with a letter, digit or _');
  return s;
}

/**
 * A value in a sysctl.d file: the rest of the line, unquoted (sysctl keeps quotes), so one line
 * without leading or trailing spaces (they are stripped) and not empty.
 */
export function sysctlValue(value: unknown): string {
  const s = text('sysctlValue', value);
  refuseControls('sysctlValue', s, NONE, 'a sysctl value is one line');
  if (s === '' || s !== s.trim())
    fail('sysctlValue', 'the value is empty or starts or ends with spaces: sysctl strips them');
  return s;
}

/**
 * A DNS name a certificate is asked for (dehydrated's domains.txt, where words are names and `>`
 * starts an alias): letters, digits and hyphens in dot-separated labels of 1-63 characters, at
 * most 253 in all. A wildcard is refused: HTTP-01 cannot prove one.
 */
export function dnsName(value: unknown): string {
  const s = text('dnsName', value);
  if (s.startsWith('*.')) fail('dnsName', 'a wildcard name needs a DNS-01 challenge; HTTP-01 cannot validate it');
  if (s.length === 0 || s.length > 253) fail('dnsName', `a DNS name has 1 to 253 characters, this one ${s.length}`);
  for (const [i, label] of s.split('.').entries()) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label))
      fail('dnsName', `label ${i + 1} is not 1-63 letters, digits or inner hyphens`);
  }
  return s;
}
