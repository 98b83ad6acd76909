import { describe, expect, it } from 'vitest';
import { Redactor } from '../../../src/secrets/redact.js';
import * as encoders from '../../../src/template/encoders.js';

// As the local fleet's passwords: every character some format escapes (quotes, backslashes, $, `, %).
const HOSTILE = `0jiIHstZ_I9v "q' \\\\d $HOME \`id\`; #c \${PATH} %n%% b7a420881a21\\`;

/** Encoders that write one value as one string (quoteWords splits it into shell words: not a spelling of it). */
const SPELLING_ENCODERS = Object.entries(encoders).filter(
  (e): e is [string, (v: unknown) => string] => typeof e[1] === 'function' && e[0] !== 'quoteWords',
);

describe('a secret is masked as the template encoders write it into files (what `run cat <file>` prints)', () => {
  it.each(SPELLING_ENCODERS)('%s', (name, encode) => {
    let written: string;
    try {
      written = encode(HOSTILE);
    } catch {
      return; // this encoder refuses such a value: it never reaches a file
    }
    const shown = new Redactor([HOSTILE]).redact(`KEY=${written}\n`);
    expect(shown, name).not.toContain('0jiIHstZ');
    expect(shown, name).not.toContain('b7a420881a21');
  });

  it('the .env, php.ini and systemd spellings were the ones missing', () => {
    const r = new Redactor([HOSTILE]);
    for (const written of [encoders.dotenv(HOSTILE), encoders.phpIni(HOSTILE), encoders.systemdExec(HOSTILE)])
      expect(r.redact(written)).toBe('"<secret>"');
  });
});
