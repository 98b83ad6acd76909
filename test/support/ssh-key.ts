import ssh2 from 'ssh2';

/**
 * An ed25519 key pair ssh2 can read back. ssh2's generator now and then (about 1 in 250 here)
 * makes a pair whose public key is 31 bytes and whose private key ssh2 itself then refuses as
 * "Malformed OpenSSH private key": such a pair is made again, so no test fails at random.
 */
export function ed25519KeyPair(): { private: string; public: string } {
  for (let tries = 0; tries < 20; tries++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
  throw new Error('ssh2 made 20 ed25519 key pairs it cannot read');
}

/**
 * An unencrypted ed25519 private key (OpenSSH format) made once per test process: inventories in
 * tests name a real key file, since every command that connects, and validate, reads and parses it.
 */
export const TEST_PRIVATE_KEY: string = ed25519KeyPair().private;
