import { chmodSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, hostname, release, totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { fileFact, sha256 } from '../../../src/facts/file.js';
import { hostFactsFact } from '../../../src/facts/host-facts.js';
import { commandSucceedsFact } from '../../../src/facts/command-status.js';
import { raw } from '../../../src/shell/command.js';
import { FakeHost } from '../../support/fake-host/index.js';
import { runLocalSh } from '../../support/local-sh.js';
import { tempTree } from '../../support/tmp.js';

/** The probe snippets run for real here; the fake host must print exactly what they print. */
describe('file fact', () => {
  it('reads a file, a directory, a link and an absent path; the fake agrees', async () => {
    const dir = tempTree({ 'a.conf': 'hello\n', 'sub/.keep': '' });
    chmodSync(join(dir, 'a.conf'), 0o640);
    symlinkSync('/etc/hosts', join(dir, 'link'));
    const fake = new FakeHost();
    fake.put(join(dir, 'a.conf'), { content: 'hello\n', mode: '0640' });
    fake.put(join(dir, 'sub'), { type: 'directory', mode: '0755' });
    fake.put(join(dir, 'link'), { type: 'link', target: '/etc/hosts' });
    for (const [name, want] of [
      ['a.conf', 'nope'],
      ['a.conf', undefined],
      ['sub', undefined],
      ['link', undefined],
      ['absent', undefined],
    ] as const) {
      const fact = fileFact(join(dir, name), want);
      const real = fact.parse(runLocalSh(fact.script()).stdout);
      const faked = (await fake.probe([fact])).get(fact.id);
      expect(faked).toEqual({ ok: true, value: real });
    }
  });

  it('sends content only when it differs from the wanted hash', () => {
    const dir = tempTree({ 'a.conf': 'hello\n' });
    const path = join(dir, 'a.conf');
    const differs = fileFact(path, sha256('other')).parse(runLocalSh(fileFact(path, sha256('other')).script()).stdout);
    const same = fileFact(path, sha256('hello\n')).parse(runLocalSh(fileFact(path, sha256('hello\n')).script()).stdout);
    expect(differs.type === 'file' && differs.content?.toString()).toBe('hello\n');
    expect(same.type === 'file' && same.content).toBeUndefined();
    expect(same.type === 'file' && same.sha256).toBe(sha256('hello\n'));
  });

  it('paths with spaces and quotes are quoted', () => {
    const dir = tempTree({ "it's a file.txt": 'x' });
    const fact = fileFact(join(dir, "it's a file.txt"));
    expect(fact.parse(runLocalSh(fact.script()).stdout).type).toBe('file');
  });
});

describe('host facts and guards', () => {
  it('host facts parse from this machine', () => {
    const facts = hostFactsFact.parse(runLocalSh(hostFactsFact.script()).stdout);
    expect(facts.cpus).toBeGreaterThan(0);
    expect(facts.memory_mb).toBeGreaterThan(100);
    expect(facts.os_id).not.toBe('unknown');
    // The builtin reads give what the commands they replace would.
    expect(facts.hostname).toBe(hostname());
    expect(facts.kernel).toBe(release());
    expect(facts.memory_mb).toBe(Math.floor(totalmem() / 1024 / 1024));
    expect(facts.cpus).toBe(availableParallelism());
  });

  it('a guard reports success and failure, and cannot end the probe with exit', () => {
    expect(commandSucceedsFact(raw('true')).parse(runLocalSh(commandSucceedsFact(raw('true')).script()).stdout)).toBe(
      true,
    );
    expect(
      commandSucceedsFact(raw('exit 3')).parse(
        runLocalSh(`${commandSucceedsFact(raw('exit 3')).script().text}\necho after`).stdout.split('\n')[0] ?? '',
      ),
    ).toBe(false);
    expect(runLocalSh(`${commandSucceedsFact(raw('exit 3')).script().text}\necho after`).stdout).toContain('after');
  });
});
