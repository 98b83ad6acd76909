import { z } from 'zod';
import { nameSchema, tagsSchema, varsSchema } from './common.js';

/** The keys every task may have besides its one module key. */
export const taskCommonShape = {
  name: z.string().min(1).describe('what this task does, shown in plans and logs'),
  notify: z.union([z.string(), z.array(z.string())]).optional().describe('handler(s) to run once after the role if this task changed something'),
  tags: tagsSchema.optional(),
} as const;

export const taskCommonKeys = Object.keys(taskCommonShape);

export const roleDefaultsSchema = varsSchema.describe('role defaults: the lowest-precedence variables');

export const roleMetaSchema = z
  .strictObject({
    name: nameSchema,
  })
  .describe('role');
