import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** A fresh private key made by the machine's ssh-keygen, the way operators make theirs. Returns its path. */
export function sshKeygen(
  dir: string,
  name: string,
  opts: { type: 'ed25519' | 'rsa' | 'ecdsa'; passphrase?: string; pem?: boolean },
): string {
  const file = join(dir, name);
  const args = ['-q', '-t', opts.type, '-N', opts.passphrase ?? '', '-C', 'kanka-test', '-f', file];
  if (opts.type === 'rsa') args.push('-b', '2048');
  if (opts.pem) args.push('-m', 'PEM');
  execFileSync('ssh-keygen', args, { stdio: 'ignore', timeout: 30_000 });
  return file;
}
