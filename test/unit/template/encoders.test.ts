import { describe, expect, it } from 'vitest';
import * as encode from '../../../src/template/encoders.js';
import { renderInline, renderTemplate } from '../../../src/template/render.js';
import { tempTree } from '../../support/tmp.js';
import { join } from 'node:path';

/** Every character some format treats specially, and a trailing backslash. */
const HOSTILE = `a"b'c\\d$e\`f;g#h i\\\\j\${HOME}%n%% x\\`;

type Encoder = (value: unknown) => string;
const ENCODERS: Record<string, Encoder> = {
  quote: encode.quote,
  quoteWords: encode.quoteWords,
  dotenv: encode.dotenv,
  nginx: encode.nginx,
  haproxy: encode.haproxy,
  mysqlOption: encode.mysqlOption,
  sqlString: encode.sqlString,
  redis: encode.redis,
  phpIni: encode.phpIni,
  systemd: encode.systemd,
  systemdExec: encode.systemdExec,
  systemdValue: encode.systemdValue,
  aptConf: encode.aptConf,
};

describe('encoders: exact output', () => {
  it.each([
    ['quote', HOSTILE, `'a"b'\\''c\\d$e\`f;g#h i\\\\j\${HOME}%n%% x\\'`],
    ['quote', '10.0.0.1', '10.0.0.1'],
    ['quote', '', "''"],
    ['quoteWords', ' --index-url  https://x/simple ;rm ', "--index-url https://x/simple ';rm'"],
    ['quoteWords', '', ''],
    ['dotenv', HOSTILE, `"a\\"b'c\\\\d\\$e\`f;g#h i\\\\\\\\j\\\${HOME}%n%% x\\\\"`],
    ['dotenv', 'line1\nline2\ttab', '"line1\\nline2\\ttab"'],
    ['dotenv', 'plain', '"plain"'],
    ['dotenv', 6379, '"6379"'],
    ['nginx', '/srv/kanka/public', '/srv/kanka/public'],
    ['nginx', `a "b" \\ c;{d}#e'`, `"a \\"b\\" \\\\ c;{d}#e'"`],
    ['haproxy', '/etc/haproxy/certs/kanka.pem', '/etc/haproxy/certs/kanka.pem'],
    ['haproxy', HOSTILE, `'a"b'\\''c\\d$e\`f;g#h i\\\\j\${HOME}%n%% x\\'`],
    ['mysqlOption', '10.0.0.1', '10.0.0.1'],
    ['mysqlOption', HOSTILE, `"a\\"b'c\\\\d$e\`f;g#h i\\\\\\\\j\${HOME}%n%% x\\\\"`],
    ['mysqlOption', 'a\nb', '"a\\nb"'],
    ['sqlString', HOSTILE, `'a"b\\'c\\\\d$e\`f;g#h i\\\\\\\\j\${HOME}%n%% x\\\\'`],
    ['sqlString', 'nul\0nl\ncr\r', "'nul\\0nl\\ncr\\r'"],
    ['redis', 'allkeys-lru', 'allkeys-lru'],
    ['redis', HOSTILE, `"a\\"b'c\\\\d$e\`f;g#h i\\\\\\\\j\${HOME}%n%% x\\\\"`],
    ['redis', 'bell\u0007nl\n', '"bell\\x07nl\\n"'],
    ['phpIni', HOSTILE, `"a\\"b'c\\\\d\\$e\`f;g#h i\\\\\\\\j\\\${HOME}%n%% x\\\\"`],
    ['phpIni', 'yes', '"yes"'],
    ['systemd', 'A=b', 'A=b'],
    ['systemd', `K=${HOSTILE}`, `"K=a\\"b'c\\\\d$e\`f;g#h i\\\\\\\\j\${HOME}%%n%%%% x\\\\"`],
    ['systemdExec', HOSTILE, `"a\\"b'c\\\\d$$e\`f;g#h i\\\\\\\\j$\${HOME}%%n%%%% x\\\\"`],
    ['systemdExec', ';', '";"'],
    ['systemdValue', '*-01,04,07,10-01 04:00:00', '*-01,04,07,10-01 04:00:00'],
    ['systemdValue', '50% off', '50%% off'],
    [
      'aptConf',
      'origin=Debian,codename=${distro_codename}-security,label=Debian-Security',
      '"origin=Debian,codename=${distro_codename}-security,label=Debian-Security"',
    ],
    ['aptConf', "it's; // not a comment", '"it\'s; // not a comment"'],
  ])('%s(%j) is %s', (name, value, expected) => {
    expect(ENCODERS[name]?.(value)).toBe(expected);
  });
});

describe('encoders: refusals', () => {
  const SECRET = 'Sup3r-s3cret';
  it.each([
    [
      'dotenv',
      `${SECRET}\u0001`,
      /dotenv: the value has control character U\+0001 at character 13: a \.env file has no escape for it/,
    ],
    ['nginx', `${SECRET}\n`, /nginx: the value has a newline at character 13/],
    ['nginx', `${SECRET}$x`, /nginx: the value has "\$" at character 13: nginx reads it as a variable/],
    ['haproxy', `${SECRET}\n`, /haproxy: the value has a newline at character 13/],
    ['haproxy', `${SECRET}\t`, /haproxy: the value has a tab/],
    ['mysqlOption', `${SECRET}\u0000`, /mysqlOption: the value has NUL at character 13/],
    ['redis', `${SECRET}\u0000`, /redis: the value has NUL/],
    ['phpIni', `${SECRET}\n`, /phpIni: the value has a newline at character 13: a php-fpm\/ini value must be one line/],
    ['phpIni', `${SECRET}\r`, /phpIni: the value has a carriage return/],
    ['phpIni', '', /phpIni: the value is empty: php-fpm refuses an empty value/],
    ['systemd', `${SECRET}\u0000`, /systemd: the value has NUL/],
    ['systemdExec', `${SECRET}\u0000`, /systemdExec: the value has NUL/],
    ['systemdValue', `${SECRET}\n`, /systemdValue: the value has a newline/],
    ['systemdValue', `${SECRET}\\`, /systemdValue: the value ends with a backslash/],
    ['systemdValue', ` ${SECRET}`, /systemdValue: the value starts or ends with spaces/],
    ['quote', `${SECRET}\u0000`, /quote: the value has NUL at character 13: a shell word cannot hold NUL/],
    ['quoteWords', `${SECRET}\u0000`, /quoteWords: the value has NUL/],
    ['aptConf', `${SECRET}"`, /aptConf: the value has a double quote at character 13: apt.conf has no escape for it/],
    ['aptConf', `${SECRET}\\`, /aptConf: the value has a backslash at character 13/],
    ['aptConf', `${SECRET}\n`, /aptConf: the value has a newline at character 13: an apt.conf value is one line/],
  ])('%s refuses %j, naming itself and the character, never the value', (name, value, message) => {
    let thrown: unknown;
    try {
      ENCODERS[name]?.(value);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(encode.EncodingError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain(SECRET);
  });

  it.each(Object.keys(ENCODERS))('%s refuses what is not a string or a number', (name) => {
    expect(() => ENCODERS[name]?.(undefined)).toThrow(
      new RegExp(`^${name}: expected a string or a number, got nothing \\(undefined\\)$`),
    );
    expect(() => ENCODERS[name]?.(['a'])).toThrow(`${name}: expected a string or a number, got a list`);
    expect(() => ENCODERS[name]?.({ a: 1 })).toThrow(`${name}: expected a string or a number, got a object`);
    expect(() => ENCODERS[name]?.(null)).toThrow(`${name}: expected a string or a number, got null`);
  });
});

describe('encoders as template helpers', () => {
  it('each is a helper of the same name; json stays a helper', () => {
    const context = { v: HOSTILE };
    for (const [name, fn] of Object.entries(ENCODERS)) {
      if (name === 'nginx' || name === 'systemdValue' || name === 'aptConf') continue; // refuse `$` / a trailing backslash / quotes
      expect(renderInline(`{{${name} v}}`, context).text, name).toBe(fn(HOSTILE));
    }
    expect(renderInline('{{nginx (concat "/srv/" v)}}', { v: 'a b' }).text).toBe('"/srv/a b"');
  });

  // Handlebars gives a helper no position: the line is there only if render.ts learns where the helper was.
  it('a refused value fails the render with the template file and the helper', () => {
    const dir = tempTree({ 'site.hbs': 'server {\n  root {{ nginx app_root }};\n}\n' });
    const file = join(dir, 'site.hbs');
    expect(() => renderTemplate(file, { app_root: '/srv/$evil' })).toThrow(
      /site\.hbs(:2:\d+)?: nginx: the value has "\$" at character 6/,
    );
  });
});
