import { z } from 'zod';

/** Host, group and role names: safe in file names, shell words and YAML keys. */
export const nameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'must start with a letter or digit and contain only letters, digits, ".", "_" or "-"');

/** Free-form variables; values are YAML scalars, lists or mappings. */
export const varsSchema = z.record(z.string(), z.unknown()).describe('variables (merged: role defaults < env vars < group vars < host vars)');

export const tagsSchema = z.array(nameSchema).describe('tags, selected with --tags');

/** A TCP port. */
export const portSchema = z
  .number()
  .int('must be a whole number: a port from 1 to 65535')
  .min(1, 'must be a port from 1 to 65535')
  .max(65535, 'must be a port from 1 to 65535');
