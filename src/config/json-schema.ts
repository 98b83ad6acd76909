import { z } from 'zod';
import { modules } from '../modules/registry.js';
import { inventorySchema } from './schema/inventory.js';
import { playbookSchema } from './schema/playbook.js';
import { roleDefaultsSchema, taskCommonShape } from './schema/role.js';

/** The task list schema: one object form per module. */
export function taskListSchema(): z.ZodType {
  const forms = [...modules.values()].map((m) =>
    z.strictObject({ ...taskCommonShape, [m.name]: m.args }).describe(m.description),
  );
  const [first, second, ...rest] = forms;
  if (!first || !second) throw new Error('internal error: fewer than two modules registered');
  return z
    .array(z.union([first, second, ...rest]))
    .describe('kanka-infra task list (roles/<role>/tasks.yml and handlers.yml)');
}

export const schemaKinds = ['inventory', 'playbook', 'tasks', 'defaults'] as const;
export type SchemaKind = (typeof schemaKinds)[number];

/** JSON Schema for editors (yaml-language-server), derived from the zod schemas: one source of truth. */
export function jsonSchema(kind: SchemaKind): Record<string, unknown> {
  const schema =
    kind === 'inventory'
      ? inventorySchema
      : kind === 'playbook'
        ? playbookSchema
        : kind === 'tasks'
          ? taskListSchema()
          : roleDefaultsSchema;
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
}
