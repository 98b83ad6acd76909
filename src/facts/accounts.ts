import { lines, sh } from '../shell/command.js';
import type { Fact } from './fact.js';

export type UserState =
  { exists: false } | { exists: true; uid: number; group: string; groups: string[]; home: string; shell: string };

export type GroupState = { exists: false } | { exists: true; gid: number; members: string[] };

export function userFact(name: string): Fact<UserState> {
  return {
    id: `user:${name}`,
    kind: 'user',
    params: { name },
    // Names are validated (never an option); `--` ends the options all the same.
    script: () =>
      lines([
        sh`if e=$(getent passwd -- ${name}); then printf 'passwd\\t%s\\n' "$e"; printf 'group\\t%s\\n' "$(id -gn -- ${name})"; printf 'groups\\t%s\\n' "$(id -Gn -- ${name})";`,
        sh`else echo absent; fi`,
      ]),
    parse: (output) => {
      if (output.trim() === 'absent') return { exists: false };
      const map = new Map(
        output
          .split('\n')
          .filter((l) => l.includes('\t'))
          .map((l) => [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1)] as const),
      );
      const passwd = (map.get('passwd') ?? '').split(':');
      if (passwd.length < 7)
        throw new Error(`unexpected getent passwd output: ${JSON.stringify(output.slice(0, 200))}`);
      const primary = map.get('group') ?? '';
      return {
        exists: true,
        uid: Number(passwd[2]),
        group: primary,
        groups: (map.get('groups') ?? '').split(' ').filter((g) => g && g !== primary),
        home: passwd[5] ?? '',
        shell: passwd[6] ?? '',
      };
    },
  };
}

export function groupFact(name: string): Fact<GroupState> {
  return {
    id: `group:${name}`,
    kind: 'group',
    params: { name },
    script: () => sh`getent group -- ${name} || echo absent`,
    parse: (output) => {
      const line = output.trim();
      if (line === 'absent') return { exists: false };
      const parts = line.split(':');
      if (parts.length < 4) throw new Error(`unexpected getent group output: ${JSON.stringify(line.slice(0, 200))}`);
      return { exists: true, gid: Number(parts[2]), members: (parts[3] ?? '').split(',').filter(Boolean) };
    },
  };
}
