import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aptFact } from '../../../src/facts/apt-packages.js';
import type { Fact } from '../../../src/facts/fact.js';
import { fileFact, sha256 } from '../../../src/facts/file.js';
import { databaseFact, mysqlUserFact } from '../../../src/facts/mysql.js';
import { sh } from '../../../src/shell/command.js';
import { probeFacts } from '../../../src/transport/probe-script.js';
import { runLocalSh } from '../../support/local-sh.js';
import { LocalTransport } from '../../support/local-transport.js';
import { tempTree } from '../../support/tmp.js';

describe('probe script: shared file prelude', () => {
  it('reads every kind of path exactly as each fact alone would, with one stat and one sha256sum for all', async () => {
    const dir = tempTree({
      'plain.conf': 'plain\n',
      'a b*[1] $x.conf': 'glob, space and dollar\n',
      'plain.conf.bak': 'a name that starts like another\n',
      "it's.conf": 'quote\n',
      'tab\there': 'a tab: read by the fact itself\n',
      empty: '',
      'sub/inner': 'x',
    });
    chmodSync(join(dir, 'plain.conf'), 0o640);
    symlinkSync('plain.conf', join(dir, 'link'));
    // A fifo must not be opened (it would block): neither the prelude nor the fact hashes it.
    runLocalSh(`mkfifo ${join(dir, 'fifo')}`);
    const paths = [
      'plain.conf',
      'a b*[1] $x.conf',
      'plain.conf.bak',
      "it's.conf",
      'tab\there',
      'empty',
      'sub',
      'link',
      'fifo',
      'absent',
    ].map((p) => join(dir, p));
    // Wrappers that count the calls, then run the real commands.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const log = join(dir, 'calls');
    for (const cmd of ['stat', 'sha256sum']) {
      writeFileSync(join(bin, cmd), `#!/bin/sh\necho ${cmd} >> '${log}'\nexec /usr/bin/${cmd} "$@"\n`);
      chmodSync(join(bin, cmd), 0o755);
    }
    const facts = paths.map((p) => fileFact(p, sha256('wanted\n')));
    const together = await probeFacts(new LocalTransport(bin), facts, false);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    // stat: the prelude's one, the tab name's own, the link's owner, and one size check per differing
    // regular file (6) for the content; sha256sum: the prelude's one and the tab name's own.
    expect(calls.filter((c) => c === 'sha256sum')).toHaveLength(2);
    expect(calls.filter((c) => c === 'stat')).toHaveLength(1 + 1 + 1 + 6);
    for (const f of facts) {
      const alone = await probeFacts(new LocalTransport(), [f], false);
      expect(together.get(f.id), f.params['path']).toEqual(alone.get(f.id));
      expect(together.get(f.id)?.ok, f.params['path']).toBe(true);
    }
    const plain = together.get(facts[0]?.id ?? '');
    expect(plain).toMatchObject({
      ok: true,
      value: { type: 'file', mode: '0640', sha256: sha256('plain\n'), content: Buffer.from('plain\n') },
    });
    expect(together.get(facts[7]?.id ?? '')).toMatchObject({ ok: true, value: { type: 'link', target: 'plain.conf' } });
    expect(together.get(facts[8]?.id ?? '')).toMatchObject({ ok: true, value: { type: 'other', description: 'fifo' } });
    expect(together.get(facts[9]?.id ?? '')).toEqual({ ok: true, value: { type: 'absent' } });
  });

  it('a file that appears after the prelude ran is still read by its own fact', async () => {
    const dir = tempTree({});
    const late = join(dir, 'late');
    // The first fact of the probe creates the file the second one reads: the prelude did not see it.
    const creator = {
      ...fileFact(join(dir, 'other')),
      id: 'creator',
      shared: undefined,
      script: () => sh`printf 'made\\n' > ${late}; echo absent`,
    };
    const r = await probeFacts(new LocalTransport(), [creator, fileFact(late)], false);
    expect(r.get(fileFact(late).id)).toMatchObject({ ok: true, value: { type: 'file', sha256: sha256('made\n') } });
  });
});

describe('probe script: shared package and mysql reads', () => {
  const alone = (f: Fact<unknown>): Fact<unknown> => ({ ...f, shared: undefined });

  // Runs the machine's real dpkg-query and apt-cache several times: a timeout sized for a loaded 2-core machine.
  it('one dpkg-query for every apt task: each task gets what its own query gives', { timeout: 60_000 }, async () => {
    const facts = [
      aptFact(['bash', 'dash'], false),
      aptFact(['coreutils', 'bash', 'kanka-no-such-package'], false),
      aptFact(['dash'], true),
    ];
    const together = await probeFacts(new LocalTransport(), facts, false);
    for (const f of facts) {
      const own = await probeFacts(new LocalTransport(), [alone(f)], false);
      // The lists' age is read at the moment of each probe: compare the packages.
      const packagesOf = (o: unknown) => (o as { value?: { packages?: unknown } }).value?.packages;
      expect(packagesOf(together.get(f.id)), f.id).toEqual(packagesOf(own.get(f.id)));
      expect(together.get(f.id)?.ok).toBe(true);
    }
    expect(together.get(facts[1]?.id ?? '')).toMatchObject({ value: { packages: { 'kanka-no-such-package': {} } } });
    // Read by the shared query: a dpkg-query that answers nonsense, first in PATH after the prelude, is never called.
    const bin = tempTree({ 'dpkg-query': "#!/bin/sh\nprintf 'pkg\\tbash\\tamd64\\tii \\t0-read-on-its-own\\n'\n" });
    chmodSync(join(bin, 'dpkg-query'), 0o755);
    const shadowed = facts.map((f) => ({ ...f, script: () => sh`PATH=${bin}:$PATH\n${f.script()}` }));
    const r = await probeFacts(new LocalTransport(), shadowed, false);
    expect(r.get(facts[0]?.id ?? '')).toMatchObject({
      value: { packages: { bash: { installed: expect.not.stringMatching(/read-on-its-own/) } } },
    });
    expect(
      (await probeFacts(new LocalTransport(), [alone(shadowed[0] as Fact<unknown>)], false)).get(facts[0]?.id ?? ''),
    ).toMatchObject({
      value: { packages: { bash: { installed: '0-read-on-its-own' } } },
    });
  });

  it('mysql is asked once whether it answers; each fact says the same as on its own', async () => {
    const facts = [databaseFact('kanka'), mysqlUserFact('kanka')];
    const together = await probeFacts(new LocalTransport(), facts, false);
    for (const f of facts)
      expect(together.get(f.id), f.id).toEqual((await probeFacts(new LocalTransport(), [alone(f)], false)).get(f.id));
  });
});
