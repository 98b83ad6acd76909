import type { FakeHost } from './host.js';

// The fake reads the command text the modules build (the real host runs it in sh): only the
// forms the modules produce are understood; anything else goes to the test's own handler.

/** systemctl and apt-get as the modules call them; undefined for any other command. */
export function builtinCommand(host: FakeHost, command: string): number | undefined {
  const sc = /^systemctl (\S+)(?: (\S+))?$/.exec(command);
  if (sc) {
    const [, verb = '', unit = ''] = sc;
    if (verb === 'daemon-reload') {
      for (const u of host.units.values()) u.needDaemonReload = false;
      return 0;
    }
    const u = host.units.get(unit);
    if (!u) return 5;
    if (verb === 'start' || verb === 'restart') u.active = u.conditionFailed ? 'inactive' : 'active';
    else if (verb === 'stop') u.active = 'inactive';
    else if (verb === 'reload') return u.active === 'active' ? 0 : 1;
    else if (verb === 'enable') u.unitFile = 'enabled';
    else if (verb === 'disable') u.unitFile = 'disabled';
    else return 1;
    return 0;
  }
  // The verb is the last word before the package names (options come before it).
  const apt = /apt-get .* (update|install|remove|purge)((?: [^\s-]\S*)*)$/.exec(command);
  if (apt && command.includes('apt-get')) {
    const [, verb = '', rest = ''] = apt;
    if (verb === 'update') {
      host.aptCacheAge = 0;
      // Fresh lists know what the sources publish.
      for (const p of host.packages.values()) if (p.published) p.candidate = p.published;
      return 0;
    }
    for (const n of rest.split(' ').filter((w) => w && !w.startsWith('-'))) {
      const p = host.packages.get(n);
      if (verb === 'install') {
        if (!p?.candidate) return 100;
        host.packages.set(n, { ...p, installed: p.candidate });
      } else if (p) {
        const { installed: _gone, ...rest } = p;
        host.packages.set(n, rest);
      }
    }
    return 0;
  }
  return accountCommand(host, command);
}

/** useradd/usermod/userdel/groupadd/groupmod/groupdel with the options the modules use. */
function accountCommand(host: FakeHost, command: string): number | undefined {
  const words = command.split(' ').map((w) => w.replace(/^'(.*)'$/, '$1'));
  const [tool, ...rest] = words;
  const name = rest[rest.length - 1] ?? '';
  const opt = (flag: string) => {
    const i = rest.indexOf(flag);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  switch (tool) {
    case 'groupadd':
      if (host.groups.has(name)) return 9;
      host.groups.set(name, { gid: Number(opt('--gid') ?? 1000 + host.groups.size), members: [] });
      return 0;
    case 'groupmod': {
      const g = host.groups.get(name);
      if (!g) return 6;
      g.gid = Number(opt('--gid') ?? g.gid);
      return 0;
    }
    case 'groupdel':
      return host.groups.delete(name) ? 0 : 6;
    case 'useradd': {
      if (host.users.has(name)) return 9;
      const group = opt('--gid') ?? name;
      if (!host.groups.has(group)) host.groups.set(group, { gid: 1000 + host.groups.size, members: [] });
      const home = opt('--home-dir') ?? `/home/${name}`;
      host.users.set(name, {
        uid: Number(opt('--uid') ?? 1000 + host.users.size),
        group,
        groups: (opt('--groups') ?? '').split(',').filter(Boolean),
        home,
        shell: opt('--shell') ?? '/bin/sh',
      });
      if (rest.includes('--create-home')) host.put(home, { type: 'directory', owner: name });
      return 0;
    }
    case 'usermod': {
      const u = host.users.get(name);
      if (!u) return 6;
      if (opt('--uid')) u.uid = Number(opt('--uid'));
      if (opt('--gid')) u.group = opt('--gid') ?? u.group;
      if (opt('--groups') !== undefined) u.groups = (opt('--groups') ?? '').split(',').filter(Boolean);
      if (opt('--shell')) u.shell = opt('--shell') ?? u.shell;
      if (opt('--home')) u.home = opt('--home') ?? u.home;
      return 0;
    }
    case 'userdel':
      return host.users.delete(name) ? 0 : 6;
    default:
      return undefined;
  }
}
