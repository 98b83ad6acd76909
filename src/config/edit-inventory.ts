import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isMap, parseDocument, YAMLMap } from 'yaml';
import { ConfigError } from './diagnostics.js';
import { readKnownHosts } from '../transport/known-hosts.js';

/** Writes a file atomically (temporary file, then rename): an interrupted edit never leaves half a file. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.kanka-tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Adds a host to an inventory file, keeping its comments, order and formatting (the `yaml`
 * package edits the document, not a re-dump of the data). Returns false if it is already there.
 */
export function addHostToInventory(file: string, name: string, host: { address: string; port?: number; groups: string[] }): boolean {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const hosts = doc.get('hosts');
  if (!isMap(hosts)) throw new ConfigError([{ file, path: ['hosts'], message: 'the inventory has no hosts: mapping to add to' }]);
  if (hosts.has(name)) return false;
  const entry = new YAMLMap();
  entry.set('address', host.address);
  if (host.port !== undefined && host.port !== 22) entry.set('port', host.port);
  const groups = doc.createNode(host.groups);
  groups.flow = true;
  entry.set('groups', groups);
  hosts.set(name, entry);
  writeAtomic(file, doc.toString());
  return true;
}

/** Removes a host from an inventory file, keeping everything else as written. */
export function removeHostFromInventory(file: string, name: string): boolean {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const hosts = doc.get('hosts');
  if (!isMap(hosts) || !hosts.has(name)) return false;
  hosts.delete(name);
  writeAtomic(file, doc.toString());
  return true;
}

/** Pins a host key: appends an OpenSSH known_hosts line (the file is created if missing). */
export function pinHostKey(knownHostsFile: string, line: string): void {
  const text = readKnownHosts(knownHostsFile);
  if (text.split('\n').includes(line)) return;
  writeAtomic(knownHostsFile, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`);
}

/** Drops every known_hosts line for this exact host name ("addr" or "[addr]:port"). */
export function unpinHost(knownHostsFile: string, knownName: string): void {
  const text = readKnownHosts(knownHostsFile);
  if (text === '') return;
  const kept = text.split('\n').filter((l) => l.split(/\s+/)[0] !== knownName);
  writeAtomic(knownHostsFile, kept.join('\n'));
}
