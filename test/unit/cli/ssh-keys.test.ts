import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Io } from '../../../src/cli/io.js';
import { runConnector } from '../../../src/cli/ssh-auth.js';
import { loadInventory } from '../../../src/config/load-inventory.js';
import { cli } from '../../support/cli.js';
import { fakeFleet } from '../../support/fake-fleet.js';
import { projectDir } from '../../support/project.js';
import { sshKeygen } from '../../support/ssh-keygen.js';
import { tempTree } from '../../support/tmp.js';

const PASSPHRASE = 'correct horse';
const ENV = 'KANKA_SSH_KEY_PASSPHRASE_FILE';
let keys = { ed25519: '', rsaPem: '' };

beforeAll(() => {
  const dir = tempTree({}, { until: 'file' });
  keys = {
    ed25519: sshKeygen(dir, 'ed25519', { type: 'ed25519', passphrase: PASSPHRASE }),
    rsaPem: sshKeygen(dir, 'rsa_pem', { type: 'rsa', pem: true, passphrase: PASSPHRASE }),
  };
}, 60_000);

afterEach(() => {
  vi.unstubAllEnvs();
});

/** The test project (two hosts) whose ssh.key_file (inventory/id_test) is a copy of `key`. */
function projectWithKey(key: string, inventory?: string): string {
  const cwd = projectDir(inventory ? { 'inventory/test.yml': inventory } : {});
  copyFileSync(key, join(cwd, 'inventory', 'id_test'));
  return cwd;
}

function passphraseFile(cwd: string, content: string): string {
  const file = join(cwd, 'passphrase.txt');
  writeFileSync(file, content);
  return file;
}

function noAgent(): void {
  vi.stubEnv('SSH_AUTH_SOCK', '');
  vi.stubEnv(ENV, '');
}

const PROTECTED =
  /inventory\/test\.yml: ssh\.key_file: the SSH key \S+\/inventory\/id_test is protected by a passphrase: set KANKA_SSH_KEY_PASSPHRASE_FILE or run on a terminal, or use ssh\.agent/;

describe('passphrase-protected SSH keys', { timeout: 30_000 }, () => {
  it('off a terminal with no passphrase source: exit 1 with what to do, before any connection', async () => {
    noAgent();
    const cwd = projectWithKey(keys.ed25519);
    const fleet = fakeFleet();
    for (const args of [
      ['plan', 'test'],
      ['apply', 'test', '--yes'],
      ['drift', 'test'],
    ]) {
      const r = await cli(args, { cwd, connect: fleet.connect });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(PROTECTED);
      expect(r.stderr).toContain('no host was contacted');
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
      expect(r.connected).toEqual([]);
    }
  });

  for (const [name, key] of [
    ['OpenSSH ed25519', () => keys.ed25519],
    ['PEM RSA', () => keys.rsaPem],
  ] as const) {
    it(`${name}: the passphrase from ${ENV} (trimmed) opens the key, every host is reached, the passphrase is never printed`, async () => {
      noAgent();
      const cwd = projectWithKey(key());
      vi.stubEnv(ENV, passphraseFile(cwd, `  ${PASSPHRASE}\n\n`));
      const fleet = fakeFleet();
      const r = await cli(['plan', 'test'], { cwd, connect: fleet.connect });
      expect(r.code).toBe(2);
      expect(r.connected.sort()).toEqual(['db1', 'web1']);
      expect(r.stdout + r.stderr).not.toContain(PASSPHRASE);
    });
  }

  it(`a wrong passphrase in ${ENV}: exit 1 naming the key and where the passphrase came from, nothing printed of it, no connection`, async () => {
    noAgent();
    const cwd = projectWithKey(keys.rsaPem);
    vi.stubEnv(ENV, passphraseFile(cwd, 'battery staple\n'));
    const r = await cli(['plan', 'test'], { cwd, connect: fakeFleet().connect });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /inventory\/test\.yml: ssh\.key_file: the SSH key \S+id_test: wrong passphrase \(passphrase from KANKA_SSH_KEY_PASSPHRASE_FILE=/,
    );
    expect(r.stderr).not.toContain('battery staple');
    expect(r.connected).toEqual([]);
  });

  it(`an unreadable ${ENV} file is an error, not a prompt`, async () => {
    noAgent();
    const cwd = projectWithKey(keys.ed25519);
    vi.stubEnv(ENV, join(cwd, 'missing.txt'));
    const r = await cli(['plan', 'test'], { cwd, tty: true, connect: fakeFleet().connect });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /missing\.txt: cannot read the SSH key passphrase file \(from KANKA_SSH_KEY_PASSPHRASE_FILE\): file not found/,
    );
    expect(r.stderr).not.toContain('Passphrase for');
    expect(r.connected).toEqual([]);
  });

  it('on a terminal: asked once for the key (not per host), without echo, before connecting', async () => {
    noAgent();
    const cwd = projectWithKey(keys.ed25519);
    const fleet = fakeFleet();
    const r = await cli(['plan', 'test'], { cwd, tty: true, stdin: `${PASSPHRASE}\n`, connect: fleet.connect });
    expect(r.code).toBe(2);
    expect(r.stderr.match(/Passphrase for the SSH key \S+id_test: /g)).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toContain(PASSPHRASE);
    expect(r.connected.sort()).toEqual(['db1', 'web1']);
  });

  it('on a terminal: a wrong passphrase or end of input is exit 1, no connection', async () => {
    noAgent();
    const cwd = projectWithKey(keys.ed25519);
    const wrong = await cli(['plan', 'test'], {
      cwd,
      tty: true,
      stdin: 'battery staple\n',
      connect: fakeFleet().connect,
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /ssh\.key_file: the SSH key \S+id_test: wrong passphrase \(passphrase typed at the prompt\)\n {2}hint: check it: `ssh-keygen -y -f \S+id_test`/,
    );
    expect(wrong.stderr).not.toContain('battery staple');
    expect(wrong.connected).toEqual([]);
    const eof = await cli(['plan', 'test'], { cwd, tty: true, stdin: '', connect: fakeFleet().connect });
    expect(eof.code).toBe(1);
    expect(eof.stderr).toMatch(/no passphrase entered for the SSH key \S+id_test: cancelled/);
    expect(eof.connected).toEqual([]);
  });

  it('the key is loaded once per run: a second connector for the same run does not ask again', async () => {
    noAgent();
    const cwd = projectWithKey(keys.ed25519);
    const stdin = new PassThrough();
    stdin.end(`${PASSPHRASE}\n`);
    let asked = '';
    const stderr = new PassThrough();
    stderr.on('data', (d: Buffer) => (asked += d.toString()));
    const fleet = fakeFleet();
    const io: Io = {
      stdout: new PassThrough(),
      stderr,
      stdin,
      stdoutIsTTY: true,
      stderrIsTTY: true,
      stdinIsTTY: true,
      cwd,
      connect: fleet.connect,
    };
    const inventory = loadInventory(join(cwd, 'inventory', 'test.yml'));
    await runConnector(inventory, io);
    // stdin has ended: asking again would get no passphrase and fail.
    await expect(runConnector(inventory, io)).resolves.toBe(fleet.connect);
    expect(asked.match(/Passphrase for/g)).toHaveLength(1);
  });
});

describe('ssh.agent', { timeout: 30_000 }, () => {
  const agentInventory = (keyFile: boolean) =>
    `ssh:\n  agent: true\n${keyFile ? '  key_file: id_test\n' : ''}vars: { greeting: hello }\ngroups: { web: {}, db: {} }\nhosts:\n  web1: { address: 10.9.9.1, groups: [web] }\n  db1: { address: 10.9.9.2, groups: [db] }\n`;

  it('requested without SSH_AUTH_SOCK: exit 1 naming ssh.agent, before any connection', async () => {
    noAgent();
    const cwd = projectWithKey(keys.ed25519, agentInventory(false));
    const r = await cli(['plan', 'test'], { cwd, connect: fakeFleet().connect });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/inventory\/test\.yml: ssh\.agent: ssh\.agent is true but SSH_AUTH_SOCK is not set/);
    expect(r.stderr).toMatch(/hint: start an agent/);
    expect(r.connected).toEqual([]);
    // validate is offline (CI has no agent): valid, with a note.
    const v = await cli(['validate', 'test'], { cwd });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(
      /note: ssh\.agent: ssh\.agent is true but SSH_AUTH_SOCK is not set .*; plan and apply will need a running agent/,
    );
  });

  it('with a passphrase-protected key_file and no passphrase file: the agent is used, nothing is asked', async () => {
    noAgent();
    const cwd = projectWithKey(keys.ed25519, agentInventory(true));
    const socket = join(tempTree(), 'agent.sock');
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      vi.stubEnv('SSH_AUTH_SOCK', socket);
      const r = await cli(['plan', 'test'], { cwd, tty: true, stdin: '', connect: fakeFleet().connect });
      expect(r.code).toBe(2);
      expect(r.stderr).not.toContain('Passphrase for');
      expect(r.connected.sort()).toEqual(['db1', 'web1']);
    } finally {
      server.close();
    }
  });
});

describe('validate checks the SSH key offline', { timeout: 30_000 }, () => {
  it('a key file missing on this machine: validate notes it (CI has no key) and passes; plan stops on it, naming the inventory, ssh.key_file and the fix', async () => {
    noAgent();
    const cwd = projectDir({ 'inventory/id_test': undefined });
    const r = await cli(['validate', 'test'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /note: ssh\.key_file: \S+\/inventory\/id_test does not exist on this machine, so it was not checked; plan and apply need it/,
    );
    const plan = await cli(['plan', 'test'], { cwd });
    expect(plan.code).toBe(1);
    expect(plan.connected).toEqual([]);
    expect(plan.stderr).toMatch(
      /inventory\/test\.yml: ssh\.key_file: the SSH key \S+\/inventory\/id_test: cannot read it: file not found\n {2}hint: point ssh\.key_file at your private key/,
    );
  });

  it('a key file that cannot be read (a directory here: the tests may run as root) or is not a key: exit 1', async () => {
    noAgent();
    const dirKey = projectDir({ 'inventory/id_test': undefined, 'inventory/id_test/x': '' });
    expect((await cli(['validate', 'test'], { cwd: dirKey })).stderr).toMatch(
      /ssh\.key_file: the SSH key \S+id_test: cannot read it: is a directory/,
    );
    const notKey = await cli(['validate', 'test'], { cwd: projectDir({ 'inventory/id_test': 'hello\n' }) });
    expect(notKey.code).toBe(1);
    expect(notKey.stderr).toMatch(/ssh\.key_file: the SSH key \S+id_test: not a private key/);
  });

  it('a protected key: valid, saying the passphrase was not checked; checked when a passphrase file is set', async () => {
    noAgent();
    const cwd = projectWithKey(keys.ed25519);
    const unchecked = await cli(['validate', 'test'], { cwd });
    expect(unchecked.code).toBe(0);
    expect(unchecked.stdout).toMatch(
      /note: ssh\.key_file: \S+id_test is protected by a passphrase, which was not checked \(set KANKA_SSH_KEY_PASSPHRASE_FILE to check it\)/,
    );
    const json = await cli(['validate', 'test', '--json'], { cwd });
    expect((JSON.parse(json.stdout) as { notes: string[] }).notes).toHaveLength(1);

    vi.stubEnv(ENV, passphraseFile(cwd, PASSPHRASE));
    const checked = await cli(['validate', 'test'], { cwd });
    expect(checked.code).toBe(0);
    expect(checked.stdout).not.toContain('note:');
    vi.stubEnv(ENV, passphraseFile(cwd, 'battery staple'));
    const wrong = await cli(['validate', 'test'], { cwd });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    expect(wrong.stderr).not.toContain('battery staple');
  });
});
