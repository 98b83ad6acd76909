import { z } from 'zod';
import { nameSchema, tagsSchema, varsSchema } from './common.js';

export const playSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    hosts: z
      .string()
      .min(1)
      .describe(
        'host pattern: "all", a group, a host, several joined by ":", "!name" to exclude, "&group" to intersect',
      ),
    roles: z.array(nameSchema).min(1).describe('roles applied in order'),
    serial: z.number().int().positive().optional().describe('run this play on this many hosts at a time'),
    tags: tagsSchema.default([]),
    vars: varsSchema.default({}),
  })
  .describe('one play: which hosts get which roles');

export const playbookSchema = z
  .array(playSchema)
  .min(1)
  .describe('kanka-infra playbook: a list of plays, run in order');

export type PlayData = z.infer<typeof playSchema>;
