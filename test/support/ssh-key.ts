import ssh2 from 'ssh2';

/**
 * An unencrypted ed25519 private key (OpenSSH format) made once per test process: inventories in
 * tests name a real key file, since every command that connects, and validate, reads and parses it.
 */
export const TEST_PRIVATE_KEY: string = ssh2.utils.generateKeyPairSync('ed25519').private;
