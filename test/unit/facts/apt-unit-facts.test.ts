import { describe, expect, it } from 'vitest';
import { aptFact, parseAptState } from '../../../src/facts/apt-packages.js';
import { parseUnitState } from '../../../src/facts/systemd-unit.js';
import { runLocalSh } from '../../support/local-sh.js';

// These run the machine's real dpkg-query and apt-cache: on a loaded 2-core machine apt-cache alone
// took over 5 s (the default timeout), so they get a timeout sized for that.
describe('apt packages fact', { timeout: 60_000 }, () => {
  it('reads installed versions from this Debian machine, and no candidate for a package no source has', () => {
    const fact = aptFact(['bash', 'kanka-no-such-package'], false);
    const state = fact.parse(runLocalSh(fact.script()).stdout);
    expect(state.packages['bash']?.installed).toMatch(/^\d/);
    expect(state.packages['kanka-no-such-package']).toEqual({});
    expect(state.cacheAge).toBeGreaterThanOrEqual(0);
  });

  it('reads nothing more than dpkg when every package is installed (the no-op case)', () => {
    const fact = aptFact(['bash', 'dash'], false);
    const out = runLocalSh(fact.script()).stdout;
    expect(out).not.toMatch(/^policy$/m);
    const state = fact.parse(out);
    expect(state.packages['bash']?.installed).toMatch(/^\d/);
    expect(state.packages['dash']?.installed).toMatch(/^\d/);
  });

  it('asks apt-cache for every package with state latest, installed or not', () => {
    const fact = aptFact(['bash'], true);
    const out = runLocalSh(fact.script()).stdout;
    expect(out).toMatch(/^policy$/m);
    expect(out).toMatch(/^bash:$/m);
  });

  it('parses dpkg-query and apt-cache policy output, including junk, removed and arch-qualified packages', () => {
    const out = [
      'pkg\tnginx\tamd64\tii \t1.22.1-9',
      'pkg\tredis\tamd64\trc \t5:7.0.15-1',
      'pkg\tlibfoo\tamd64\tii \t1.0',
      'pkg\tlibfoo\ti386\tun \t',
      'cache\t1700000000\t1700003600',
      'policy',
      'N: Unable to locate package foo',
      'haproxy:',
      '  Installed: (none)',
      '  Candidate: 2.6.12-1+deb12u1',
      '  Version table:',
      '     2.6.12-1+deb12u1 500',
      '        500 http://10.213.7.1:8088 ./ Packages',
      'libfoo:i386:',
      '  Installed: (none)',
      '  Candidate: 1.0',
      'nginx:amd64:',
      '  Installed: 1.22.1-9',
      '  Candidate: (none)',
    ].join('\n');
    expect(parseAptState(out, ['haproxy', 'nginx', 'redis', 'libfoo', 'libfoo:i386'])).toEqual({
      packages: {
        haproxy: { candidate: '2.6.12-1+deb12u1' },
        nginx: { installed: '1.22.1-9' },
        redis: {},
        libfoo: { installed: '1.0' },
        'libfoo:i386': { candidate: '1.0' },
      },
      cacheAge: 3600,
    });
  });
});

describe('systemd unit fact', () => {
  it('parses systemctl show, captured from a Debian 12 host', () => {
    const out =
      'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=no\nConditionResult=yes\nConditionTimestampMonotonic=5123456\n';
    expect(parseUnitState(out)).toEqual({
      load: 'loaded',
      active: 'active',
      unitFile: 'enabled',
      needDaemonReload: false,
      conditionFailed: false,
    });
    const skipped =
      'LoadState=loaded\nActiveState=inactive\nUnitFileState=enabled\nNeedDaemonReload=no\nConditionResult=no\nConditionTimestampMonotonic=5123456\n';
    expect(parseUnitState(skipped).conditionFailed).toBe(true);
    expect(
      parseUnitState('LoadState=not-found\nActiveState=inactive\nUnitFileState=\nNeedDaemonReload=no\n').load,
    ).toBe('not-found');
  });

  it('rejects output that is not systemctl show', () => {
    expect(() => parseUnitState('Failed to connect to bus: No such file or directory\n')).toThrow(
      /unexpected systemctl output/,
    );
  });
});

import { checkFact } from '../../../src/facts/check.js';
import { raw } from '../../../src/shell/command.js';
describe('check fact', () => {
  it('retries until the command passes, and reports the last output when it never does', () => {
    const dir = `/tmp/kanka-check-${process.pid}`;
    const flaky = checkFact(
      raw(`n=$(cat ${dir} 2>/dev/null || echo 0); echo $((n+1)) > ${dir}; [ "$n" -ge 2 ]`),
      5,
      0.01,
    );
    expect(flaky.parse(runLocalSh(`rm -f ${dir}; ${flaky.script().text}; rm -f ${dir}`).stdout)).toEqual({
      passed: true,
      tries: 3,
      output: '',
    });
    const never = checkFact(raw('echo not healthy; false'), 2, 0.01);
    expect(never.parse(runLocalSh(never.script()).stdout)).toEqual({ passed: false, tries: 2, output: 'not healthy' });
  });
});
