import { TEST_PRIVATE_KEY } from './ssh-key.js';
import { tempTree } from './tmp.js';

/** A minimal valid project; tests override single files to break it in one way at a time. */
export function projectFiles(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string> = {
    'inventory/test.yml': [
      'ssh:',
      '  user: root',
      '  key_file: id_test',
      'vars:',
      '  greeting: hello',
      'groups:',
      '  web: {}',
      '  db:',
      '    vars: { port: 3306 }',
      'hosts:',
      '  web1:',
      '    address: 10.9.9.1',
      '    groups: [web]',
      '  db1:',
      '    address: 10.9.9.2',
      '    groups: [db]',
      '    vars: { greeting: hi }',
      '',
    ].join('\n'),
    'inventory/id_test': TEST_PRIVATE_KEY,
    'playbooks/site.yml': ['- name: all hosts', '  hosts: all', '  roles: [base]', ''].join('\n'),
    'roles/base/tasks.yml': [
      '- name: motd',
      '  copy: { dest: /etc/motd, content: "{{ greeting }} {{ host.name }}\\n" }',
      '- name: app dir',
      '  file: { path: /srv/app, state: directory, mode: "0755" }',
      '',
    ].join('\n'),
  };
  const merged: Record<string, string> = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

export function projectDir(overrides: Record<string, string | undefined> = {}): string {
  return tempTree(projectFiles(overrides));
}
