import { ConfigError } from '../diagnostics/diagnostic.js';
import type { Play } from './model.js';
import { playbookSchema } from './schema/playbook.js';
import { loadYamlFile } from './yaml-file.js';
import { validateWith } from './zod-diagnostics.js';

export function loadPlaybook(file: string): Play[] {
  const yaml = loadYamlFile(file, 'playbook');
  const checked = validateWith(playbookSchema, yaml.data ?? [], yaml);
  if (!checked.ok) throw new ConfigError(checked.diagnostics);
  return checked.value.map((p, i) => {
    const pos = yaml.locate([i]);
    return {
      name: p.name ?? `${p.roles.join(', ')} on ${p.hosts}`,
      hosts: p.hosts,
      roles: p.roles,
      ...(p.serial !== undefined ? { serial: p.serial } : {}),
      tags: p.tags,
      vars: p.vars,
      source: { file, path: [i], ...(pos ? { line: pos.line } : {}) },
    };
  });
}
