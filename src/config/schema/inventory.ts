import { z } from 'zod';
import { nameSchema, portSchema, varsSchema } from './common.js';
import { accountName, hostAddress } from '../../values/values.js';

export const jumpHostSchema = z
  .strictObject({
    address: hostAddress.describe('IP address or DNS name of the jump (bastion) host'),
    port: portSchema.default(22),
    user: accountName.optional().describe('SSH user on the jump host (default: ssh.user)'),
  })
  .describe('connect through this host, like ssh -J');

export const sshSettingsSchema = z
  .strictObject({
    user: accountName.default('root').describe('SSH user; when not root, set sudo: true'),
    port: portSchema.default(22),
    key_file: z
      .string()
      .min(1)
      .optional()
      .describe(
        'private key file (absolute, ~/..., or relative to the inventory file); if it has a passphrase: $KANKA_SSH_KEY_PASSPHRASE_FILE, else asked once on a terminal',
      ),
    agent: z
      .boolean()
      .default(false)
      .describe(
        'use ssh-agent ($SSH_AUTH_SOCK); with key_file, that key is offered first, and a passphrase-protected key_file is left to the agent (not asked for) unless $KANKA_SSH_KEY_PASSPHRASE_FILE is set',
      ),
    known_hosts: z
      .string()
      .min(1)
      .default('known_hosts')
      .describe('pinned host keys, OpenSSH format, relative to the inventory file'),
    sudo: z
      .boolean()
      .default(false)
      .describe('run everything through `sudo -n` (for a non-root user with passwordless sudo)'),
    jump: jumpHostSchema.optional(),
    connect_timeout: z.number().positive().default(10).describe('seconds to wait for a connection'),
    keepalive: z.number().nonnegative().default(15).describe('seconds between keepalive packets; 0 disables'),
  })
  .describe('how to reach the hosts');

export const hostSchema = z
  .strictObject({
    address: hostAddress.describe('IP address or DNS name the tool connects to'),
    port: portSchema.optional(),
    user: accountName.optional().describe('SSH user for this host (default: ssh.user)'),
    groups: z.array(nameSchema).default([]).describe('groups this host belongs to'),
    vars: varsSchema.default({}),
  })
  .describe('one managed host');

export const groupSchema = z
  .strictObject({
    vars: varsSchema.default({}),
  })
  .describe('a group of hosts; membership is declared on the hosts');

export const inventorySchema = z
  .strictObject({
    name: nameSchema.optional().describe('environment name (default: the file name without .yml)'),
    playbook: z
      .string()
      .min(1)
      .optional()
      .describe('playbook to run (relative to this file; default: playbooks/site.yml in the project)'),
    secrets: z.string().min(1).optional().describe('encrypted secrets file (relative to this file)'),
    vault_password_file: z
      .string()
      .min(1)
      .optional()
      .describe(
        'file holding the secrets password (relative to this file; keep it out of the repository). --vault-password-file and KANKA_VAULT_PASSWORD* take precedence',
      ),
    ssh: sshSettingsSchema.prefault({}),
    vars: varsSchema.default({}),
    groups: z.record(nameSchema, groupSchema).default({}),
    hosts: z
      .record(nameSchema, hostSchema)
      .refine((h) => Object.keys(h).length > 0, 'an inventory needs at least one host'),
  })
  .describe('kanka-infra inventory: the hosts of one environment');

export type InventoryFileData = z.infer<typeof inventorySchema>;
export type SshSettings = z.infer<typeof sshSettingsSchema>;
export type HostData = z.infer<typeof hostSchema>;
