import { z } from 'zod';
import { tagsSchema, varsSchema } from './common.js';

/** The keys every task may have besides its one module key. */
export const taskCommonShape = {
  name: z.string().min(1).describe('what this task does, shown in plans and logs'),
  notify: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('handler(s) to run once after the role if this task changed something'),
  tags: tagsSchema.optional(),
  when: z
    .string()
    .min(1)
    .optional()
    .describe(
      'run only where this is true: a variable or a helper expression without braces, e.g. "eq mariadb_role \'replica\'" or "not thumbor_wheels"; sees variables, not facts',
    ),
  sensitive: z
    .boolean()
    .optional()
    .describe(
      "never show this task's arguments, diff or output (like Ansible's no_log); values from the vault are hidden without it",
    ),
  loop: z
    .union([z.string().min(1), z.array(z.unknown())])
    .optional()
    .describe('run once per item of this list (or "{{ variable }}" naming one); each run sees it as {{ item }}'),
} as const;

export const taskCommonKeys = Object.keys(taskCommonShape);

export const roleDefaultsSchema = varsSchema.describe('role defaults: the lowest-precedence variables');
