/**
 * The helpers the mariadb-backup role picks its hosts and its SSH key with: firstOther and
 * sshPublicKey, through the real template renderer (strict context, secrets traced).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../src/secrets/secret.js';
import { standInValue } from '../../../src/secrets/stand-in.js';
import { renderInline } from '../../../src/template/render.js';

const host = (name: string, n: number, groups = ['backend']) => ({ name, address: `10.0.0.${n}`, groups, vars: {} });
const ctx = (names: string[], extra: Record<string, unknown> = {}) => ({
  hosts: Object.fromEntries(
    [host('web1', 9, ['frontend']), ...names.map((n, i) => host(n, 20 + i))].map((h) => [h.name, h]),
  ),
  mariadb_primary: 'backend1',
  ...extra,
});
const render = (text: string, context: Record<string, unknown>) => renderInline(text, context);

describe('firstOther', () => {
  it('names the first host of a list that is not the given one, in inventory order', () => {
    expect(
      render('{{firstOther mariadb_primary (hostsOf "backend")}}', ctx(['backend1', 'backend2', 'backend3'])).text,
    ).toBe('backend2');
    expect(
      render('{{firstOther mariadb_primary (hostsOf "backend")}}', ctx(['backend3', 'backend1', 'backend2'])).text,
    ).toBe('backend3');
  });

  it('is empty when the list has no other host (a single backend)', () => {
    expect(render('[{{firstOther mariadb_primary (hostsOf "backend")}}]', ctx(['backend1'])).text).toBe('[]');
  });

  it('takes names and lists of names too, flattened in order (the copy target: primary first, then the backends)', () => {
    const c = ctx(['backend1', 'backend2']);
    expect(render('{{firstOther "backend2" mariadb_primary (hostsOf "backend")}}', c).text).toBe('backend1');
    expect(render('{{firstOther "backend1" mariadb_primary (hostsOf "backend")}}', c).text).toBe('backend2');
    expect(render('{{firstOther "a" "" "a" "b"}}', c).text).toBe('b');
  });
});

describe('sshPublicKey', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kssh-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let made = 0;
  const keygen = (type: string): { priv: string; pub: string } => {
    const file = join(dir, `${type}-${++made}`);
    const r = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'c', '-f', file]);
    expect(r.status, r.stderr.toString()).toBe(0);
    return {
      priv: readFileSync(file, 'utf8'),
      pub: readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' '),
    };
  };

  it.each(['ed25519', 'ecdsa', 'rsa'])(
    'derives what ssh-keygen wrote as the public key (%s), and the render is sensitive',
    (type) => {
      const { priv, pub } = keygen(type);
      const out = render('{{sshPublicKey secrets.k}}', { secrets: { k: new Secret(priv) } });
      expect(out.text).toBe(pub);
      expect(out.sensitive).toBe(true);
    },
  );

  it('refuses something that is not a private key, without quoting it', () => {
    const { pub } = keygen('ed25519');
    expect(() => render('{{sshPublicKey secrets.k}}', { secrets: { k: new Secret('hunter2-not-a-key') } })).toThrow(
      /not an unencrypted private key/,
    );
    expect(() => render('{{sshPublicKey secrets.k}}', { secrets: { k: new Secret('hunter2-not-a-key') } })).not.toThrow(
      /hunter2/,
    );
    expect(() => render('{{sshPublicKey k}}', { k: pub })).toThrow(/public key|private key/);
    expect(() => render('{{sshPublicKey k}}', { k: 42 })).toThrow(/needs a private key/);
  });

  it("a secret's stand-in (validate without the vault password) gives a stand-in line", () => {
    expect(render('{{sshPublicKey k}}', { k: standInValue('backup_ssh_key') }).text).toBe(
      'ssh-ed25519 stand-in-public-key',
    );
  });
});
