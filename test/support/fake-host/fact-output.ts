import type { Fact } from '../../../src/facts/fact.js';
import { MAX_DIFF_BYTES, sha256 } from '../../../src/facts/file.js';
import type { FakeHost } from './host.js';

/**
 * The text the real probe snippet of a fact would print on a host in this state, so that the real
 * parsers run. The fact's params (the values its snippet was built from) say what to read.
 */
export function factOutput(host: FakeHost, f: Fact<unknown>): string {
  switch (f.kind) {
    case 'host-facts': {
      const h = host.facts;
      return `hostname\t${h.hostname}\ncpus\t${h.cpus}\nmemory_kb\t${h.memory_mb * 1024}\nos_id\t${h.os_id}\nos_version\t${h.os_version}\nos_codename\t${h.os_codename}\nkernel\t${h.kernel}\nuid\t${h.uid}\n`;
    }
    case 'command-status':
      return host.run(f.params['command'] ?? '') === 0 ? 'yes\n' : 'no\n';
    case 'file': {
      const path = f.params['path'] ?? '';
      const e = host.files.get(path);
      if (!e) return 'absent\n';
      if (e.type === 'link') return `link\troot\troot\t${e.target}\n`;
      if (e.type === 'directory') return `directory\t${e.mode.replace(/^0/, '')}\t${e.owner}\t${e.group}\t4096\n`;
      const sha = sha256(e.content);
      const kind = e.content.length === 0 ? 'regular empty file' : 'regular file';
      let text = `${kind}\t${e.mode.replace(/^0/, '')}\t${e.owner}\t${e.group}\t${e.content.length}\nsha256\t${sha}\n`;
      const want = f.params['wantSha256'];
      if (want !== undefined && want !== sha && e.content.length <= MAX_DIFF_BYTES)
        text += `content\t${e.content.toString('base64')}\n`;
      return text;
    }
    case 'systemd-unit': {
      const u = host.units.get(f.params['unit'] ?? '');
      if (!u) return 'LoadState=not-found\nActiveState=inactive\nUnitFileState=\nNeedDaemonReload=no\n';
      const cond = u.conditionFailed
        ? 'ConditionResult=no\nConditionTimestampMonotonic=123\n'
        : 'ConditionResult=yes\nConditionTimestampMonotonic=0\n';
      return `LoadState=loaded\nActiveState=${u.active}\nUnitFileState=${u.unitFile}\nNeedDaemonReload=${u.needDaemonReload ? 'yes' : 'no'}\n${cond}`;
    }
    case 'apt-packages': {
      const names = (f.params['names'] ?? '').split(' ').filter(Boolean);
      const all = f.params['candidates'] === 'all';
      let text = '';
      const need: string[] = [];
      // As dpkg-query prints them: a line per package dpkg knows, none for the others.
      for (const n of names) {
        const p = host.packages.get(n);
        if (p?.installed) text += `pkg\t${n}\tamd64\tii \t${p.installed}\n`;
        if (all || !p?.installed) need.push(n);
      }
      if (need.length === 0) return text;
      const now = 1_800_000_000;
      text += `cache\t${Number.isFinite(host.aptCacheAge) ? now - host.aptCacheAge : 0}\t${now}\npolicy\n`;
      for (const n of need) {
        const p = host.packages.get(n);
        if (p) text += `${n}:\n  Installed: ${p.installed ?? '(none)'}\n  Candidate: ${p.candidate ?? '(none)'}\n`;
      }
      return text;
    }
    case 'user': {
      const u = host.users.get(f.params['name'] ?? '');
      if (!u) return 'absent\n';
      return `passwd\t${f.params['name']}:x:${u.uid}:${host.groups.get(u.group)?.gid ?? 0}::${u.home}:${u.shell}\ngroup\t${u.group}\ngroups\t${[u.group, ...u.groups].join(' ')}\n`;
    }
    case 'group': {
      const g = host.groups.get(f.params['name'] ?? '');
      return g ? `${f.params['name']}:x:${g.gid}:${g.members.join(',')}\n` : 'absent\n';
    }
    case 'check': {
      const tries = Number(f.params['tries'] ?? '1');
      for (let i = 1; i <= tries; i++) if (host.run(f.params['command'] ?? '') === 0) return `passed ${i}\n`;
      return `failed ${tries}\ncheck output\n`;
    }
    case 'mysql-database':
      return host.mysql.databaseOutput(f.params['name'] ?? '');
    case 'mysql-user':
      return host.mysql.userOutput(f.params['name'] ?? '');
    default:
      throw new Error(`the fake host cannot answer ${f.kind} facts yet`);
  }
}
