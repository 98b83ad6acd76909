import { z } from 'zod';
import { ipNetwork } from '../../values/values.js';

/** Host, group and role names: safe in file names, shell words and YAML keys. */
export const nameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_.-]*$/i,
    'must start with a letter or digit and contain only letters, digits, ".", "_" or "-"',
  );

/**
 * Variables whose value lands somewhere a wrong one is dangerous (a firewall rule): typed wherever
 * they are set (role defaults, play, inventory, group and host vars), so a bad value is refused
 * with its file and key path before any host is contacted.
 */
export const typedVars = {
  ssh_allowed_networks: z
    .array(ipNetwork)
    .describe('networks (CIDR) SSH is reachable from; empty: from anywhere (role base)'),
  production: z
    .boolean()
    .describe(
      'this inventory is production: validate warns about what production should not have (SSH open to anywhere)',
    ),
} as const;

/** Variables; values are YAML scalars, lists or mappings (a few names are typed: typedVars). */
export const varsSchema = z
  .looseObject(
    Object.fromEntries(Object.entries(typedVars).map(([k, v]) => [k, v.optional()])) as {
      [K in keyof typeof typedVars]: z.ZodOptional<(typeof typedVars)[K]>;
    },
  )
  .describe('variables (merged: role defaults < env vars < group vars < host vars)');

export const tagsSchema = z.array(nameSchema).describe('tags, selected with --tags');

/** A TCP port. */
export const portSchema = z
  .number()
  .int('must be a whole number: a port from 1 to 65535')
  .min(1, 'must be a port from 1 to 65535')
  .max(65535, 'must be a port from 1 to 65535');
