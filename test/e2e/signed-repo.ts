/**
 * A small signed apt repository for the apt_source e2e: one package, a Release file clear-signed
 * (InRelease) with a fresh OpenPGP key, served over HTTP on the fleet's bridge address. The fleet's
 * own mirror is unsigned ([trusted=yes]); this one is checked by apt against the key apt_source installs.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

export const SIGNED_PACKAGE = 'kanka-e2e-signed';

export interface SignedRepo {
  /** http://<bridge address>:<port>/ */
  uri: string;
  /** ASCII-armored public key that signed the repository. */
  key: string;
  /** The public key of another, unrelated signer. */
  strangerKey: string;
  close(): Promise<void>;
}

function gpg(home: string, args: string[], input?: string): string {
  return execFileSync(
    'gpg',
    ['--homedir', home, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
    { input, encoding: 'utf8' },
  );
}

function newKey(home: string, uid: string): string {
  mkdirSync(home, { recursive: true });
  chmodSync(home, 0o700);
  gpg(home, ['--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
  return gpg(home, ['--armor', '--export', uid]);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Builds the repository under `dir` and serves it on `bindAddress` (a random port). */
export async function startSignedRepo(dir: string, bindAddress: string): Promise<SignedRepo> {
  const uid = 'kanka-infra e2e repository <e2e-repo@kanka.invalid>';
  const key = newKey(join(dir, 'gnupg'), uid);
  const strangerKey = newKey(join(dir, 'gnupg-stranger'), 'someone else <stranger@kanka.invalid>');

  // The package: one file, architecture all.
  const pkg = join(dir, 'build', SIGNED_PACKAGE);
  mkdirSync(join(pkg, 'DEBIAN'), { recursive: true });
  mkdirSync(join(pkg, 'usr', 'share', SIGNED_PACKAGE), { recursive: true });
  const control = [
    `Package: ${SIGNED_PACKAGE}`,
    'Version: 1.0',
    'Architecture: all',
    'Maintainer: kanka-infra e2e <e2e-repo@kanka.invalid>',
    'Description: a package from a signed repository (kanka-infra e2e)',
  ].join('\n');
  writeFileSync(join(pkg, 'DEBIAN', 'control'), `${control}\n`);
  writeFileSync(join(pkg, 'usr', 'share', SIGNED_PACKAGE, 'hello'), 'from the signed repository\n');
  const repo = join(dir, 'repo');
  const debRel = `pool/main/${SIGNED_PACKAGE}_1.0_all.deb`;
  mkdirSync(join(repo, 'pool', 'main'), { recursive: true });
  execFileSync('dpkg-deb', ['--root-owner-group', '--build', pkg, join(repo, debRel)], { stdio: 'ignore' });
  const deb = readFileSync(join(repo, debRel));

  // Indexes: Packages, then a Release listing its hash, clear-signed as InRelease.
  const packagesRel = 'main/binary-amd64/Packages';
  const packages = `${control}\nFilename: ${debRel}\nSize: ${deb.length}\nSHA256: ${sha256(deb)}\n\n`;
  mkdirSync(join(repo, 'dists', 'bookworm', 'main', 'binary-amd64'), { recursive: true });
  writeFileSync(join(repo, 'dists', 'bookworm', packagesRel), packages);
  const release = [
    'Origin: kanka-e2e',
    'Label: kanka-e2e',
    'Suite: bookworm',
    'Codename: bookworm',
    `Date: ${new Date().toUTCString()}`,
    'Architectures: amd64',
    'Components: main',
    'SHA256:',
    ` ${sha256(packages)} ${Buffer.byteLength(packages)} ${packagesRel}`,
  ].join('\n');
  writeFileSync(join(repo, 'dists', 'bookworm', 'Release'), `${release}\n`);
  gpg(join(dir, 'gnupg'), [
    '--local-user',
    uid,
    '--clearsign',
    '--output',
    join(repo, 'dists', 'bookworm', 'InRelease'),
    join(repo, 'dists', 'bookworm', 'Release'),
  ]);

  const server = await serve(repo, bindAddress);
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://${bindAddress}:${port}/`,
    key,
    strangerKey,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // gpg started an agent per home directory: stop them with the test.
      for (const home of ['gnupg', 'gnupg-stranger'])
        execFileSync('gpgconf', ['--homedir', join(dir, home), '--kill', 'gpg-agent'], { stdio: 'ignore' });
    },
  };
}

function serve(root: string, bindAddress: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://repo').pathname)));
    try {
      if (!path.startsWith(root + sep) || !statSync(path).isFile()) throw new Error('not a file');
      res.writeHead(200).end(req.method === 'HEAD' ? undefined : readFileSync(path));
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, bindAddress, () => resolve(server));
  });
}
