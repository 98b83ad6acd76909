import { describe, expect, it } from 'vitest';
import { factReader, type Fact } from '../../../src/facts/fact.js';
import { healthModule } from '../../../src/modules/health.js';
import type { PlanResult } from '../../../src/modules/change.js';
import type { TaskContext } from '../../../src/modules/module.js';

const ctx: TaskContext = {
  host: 'frontend1',
  roleDir: '/nowhere',
  vars: { env: 'prod' },
  readRoleFile: () => Buffer.alloc(0),
  planning: true,
};

/** Plans a check over the text its probe snippet printed (parsed by the fact itself). */
function plan(args: unknown, output: string): PlanResult {
  const a = healthModule.args.parse(args);
  const [fact] = healthModule.facts(a, ctx) as [Fact<unknown>];
  return healthModule.plan(a, factReader(new Map([[fact.id, fact.parse(output)]])), ctx);
}

const HAPROXY_CSV = [
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight',
  'https,FRONTEND,,,0,1,4000,3,0,0,0,0,0,,,,,OPEN,',
  'varnish,local,0,0,0,1,1000,3,0,0,,0,,0,0,0,0,UP,1',
  'varnish,frontend2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1',
  'varnish,BACKEND,0,0,0,1,400,3,0,0,0,0,,0,0,0,0,UP,1',
].join('\n');

const VARNISH_LIST = [
  'Backend name   Admin    Probe    Health     Last change',
  'boot.be0       probe    3/3      healthy    Tue, 01 Dec 2026 21:02:02 GMT',
  'boot.be1       probe    0/3      sick       Tue, 01 Dec 2026 21:04:02 GMT',
  'boot.app       probe    1/2      healthy    Tue, 01 Dec 2026 21:02:02 GMT',
].join('\n');

describe('health checks', () => {
  it('disk: a filesystem over the space or inode limit is a problem naming the mount', () => {
    const df = (rows: string[]) => ['Mounted on           Use% IUse%', ...rows].join('\n');
    expect(plan({ check: 'disk' }, df(['/                     26%    3%', '/boot/efi              1%     -']))).toEqual(
      { status: 'ok', reason: 'disk space and inodes below the limits' },
    );
    const r = plan(
      { check: 'disk', max_percent: 90 },
      df(['/                     95%    3%', '/var                  40%   97%', '/srv/my data          10%    1%']),
    );
    expect(r.status === 'problem' ? r.problem : '').toBe(
      '/ is 95% full (limit 90%); /var uses 97% of its inodes (limit 90%)',
    );
    const spaced = plan({ check: 'disk', max_percent: 5 }, df(['/srv/my data          10%    1%']));
    expect(spaced.status === 'problem' ? spaced.problem : '').toBe('/srv/my data is 10% full (limit 5%)');
  });

  it('failed units: named, except those expected', () => {
    const r = plan(
      { check: 'failed_units' },
      'kanka-mariadb-backup.service loaded failed failed Kanka MariaDB backup\nfoo.service loaded failed failed Foo\n',
    );
    expect(r.status === 'problem' ? r.problem : '').toBe(
      'failed systemd units: kanka-mariadb-backup.service, foo.service',
    );
    expect(r.status === 'problem' ? r.fix : '').toBe(
      'see why: journalctl -u kanka-mariadb-backup.service on frontend1; once fixed: systemctl reset-failed',
    );
    expect(
      plan({ check: 'failed_units', ignore: ['foo.service'] }, 'foo.service loaded failed failed Foo\n').status,
    ).toBe('ok');
  });

  it("time: unsynchronised is a problem; a container has its host's clock", () => {
    expect(plan({ check: 'time_sync' }, 'no\n').status).toBe('problem');
    expect(plan({ check: 'time_sync' }, 'yes\n').status).toBe('ok');
    expect(plan({ check: 'time_sync' }, 'container\n')).toEqual({
      status: 'ok',
      reason: "a container: its clock is its host's",
    });
  });

  it("certificate: fewer days left than the limit, expired, or missing (days counted on the host's clock)", () => {
    const now = Date.parse('2026-12-01T10:00:00Z') / 1000;
    const cert = (end: string) => `${now}\nnotAfter=${end}\nsubject=CN = kanka.test\n`;
    const soon = plan(
      { check: 'certificate', path: '/etc/haproxy/certs/kanka.pem', min_days: 14 },
      cert('2026-12-11 10:00:30Z'),
    );
    expect(soon.status === 'problem' ? soon.problem : '').toBe(
      'the certificate in /etc/haproxy/certs/kanka.pem (CN = kanka.test) expires in 10 days (2026-12-11 10:00:30Z; limit 14 days)',
    );
    const gone = plan({ check: 'certificate', path: '/c.pem' }, cert('2026-11-30 00:00:00Z'));
    expect(gone.status === 'problem' ? gone.problem : '').toMatch(/has expired/);
    expect(plan({ check: 'certificate', path: '/c.pem' }, cert('2027-03-01 10:00:00Z'))).toEqual({
      status: 'ok',
      reason: 'certificate valid for 90 more days (2027-03-01 10:00:00Z)',
    });
    expect(plan({ check: 'certificate', path: '/c.pem' }, 'absent\n').status).toBe('problem');
    expect(() => plan({ check: 'certificate', path: '/c.pem' }, `${now}\nunable to load certificate\n`)).toThrow(
      /cannot read the certificate in \/c\.pem/,
    );
  });

  it('haproxy: a server its check marks DOWN is a problem; frontends and backends rows are not servers', () => {
    const r = plan({ check: 'haproxy_backends', url: 'http://127.0.0.1:8404/stats;csv' }, HAPROXY_CSV);
    expect(r.status === 'problem' ? r.problem : '').toBe('haproxy marks 1 backend down: varnish/frontend2 (DOWN)');
    expect(
      plan(
        { check: 'haproxy_backends', url: 'http://127.0.0.1:8404/stats;csv' },
        HAPROXY_CSV.replace(',DOWN,', ',UP,'),
      ),
    ).toEqual({ status: 'ok', reason: 'haproxy: 2 backend(s) up' });
    const off = plan(
      { check: 'haproxy_backends', url: 'http://127.0.0.1:8404/stats;csv' },
      'curl: (7) Failed to connect to 127.0.0.1 port 8404\nunavailable\n',
    );
    expect(off.status === 'problem' ? off.problem : '').toBe(
      "haproxy did not answer for its backends' state: curl: (7) Failed to connect to 127.0.0.1 port 8404",
    );
  });

  it("haproxy: the stats URL must be this host's", () => {
    expect(() => healthModule.args.parse({ check: 'haproxy_backends', url: 'http://10.0.0.1:8404/stats;csv' })).toThrow(
      /a stats URL on this host/,
    );
  });

  it('varnish: a sick backend is a problem, named by the host its VCL comment gives', () => {
    const r = plan({ check: 'varnish_backends' }, VARNISH_LIST);
    expect(r.status === 'problem' ? r.problem : '').toBe('varnish marks 1 backend down: boot.be1: probe sick');
    const named = plan(
      { check: 'varnish_backends', vcl: '/etc/varnish/default.vcl' },
      `${VARNISH_LIST}\n--vcl\nbackend be0 { # backend1\nbackend be1 { # backend2\n`,
    );
    expect(named.status === 'problem' ? named.problem : '').toBe(
      'varnish marks 1 backend down: backend2 (boot.be1): probe sick',
    );
    expect(plan({ check: 'varnish_backends' }, VARNISH_LIST.replace('0/3      sick', '3/3      healthy')).status).toBe(
      'ok',
    );
  });

  it('in apply (at its turn) the backends and the clock get time to settle; plan and drift look once', () => {
    const a = healthModule.args.parse({ check: 'varnish_backends' });
    const [planning] = healthModule.facts(a, ctx) as [Fact<unknown>];
    const [applying] = healthModule.facts(a, { ...ctx, planning: false }) as [Fact<unknown>];
    expect(planning.script().text).toContain('[ "$i" -lt 0 ]');
    expect(applying.script().text).toContain('[ "$i" -lt 20 ]');
    expect(healthModule.atItsTurn).toBe(true);
  });
});
