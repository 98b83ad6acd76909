import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, parse, parseDocument, type YAMLMap, type Node } from 'yaml';
import { ConfigError } from '../diagnostics/diagnostic.js';
import { readKnownHosts } from '../transport/known-hosts.js';
import { writeAtomic } from '../local/write-atomic.js';

export interface NewHost {
  address: string;
  port?: number;
  groups: string[];
}

/**
 * The inventory text with a host added, or undefined if it is already there. Only the new host's
 * lines are added; every other byte stays as written. The new entry copies the style of the last
 * host entry: flow (`{ address: ..., groups: [...] }`) or block, the column its value starts at
 * (aligned files stay aligned), the inner indentation, the quoting of the address and the style of
 * the groups list (`[a]`, `[ a ]` or `- a`).
 */
export function inventoryWithHost(file: string, text: string, name: string, host: NewHost): string | undefined {
  const doc = parseDocument(text);
  const hosts = doc.get('hosts', true);
  if (!isMap(hosts))
    throw new ConfigError([{ file, path: ['hosts'], message: 'the inventory has no hosts: mapping to add to' }]);
  if (hosts.has(name)) return undefined;
  const last = hosts.items.at(-1);
  if (!last || hosts.flow || !isScalar(last.key) || !last.key.range || !isMap(last.value) || !last.value.range) {
    // No entry to copy the style from (an empty or one-line hosts map): add it the yaml package's way.
    return reserialized(doc, hosts, name, host);
  }
  const entry = renderEntry(text, last.key.range[0], last.value, name, host);
  // After the last entry's last line (its trailing comment included), before anything that follows.
  const eol = text.indexOf('\n', contentEnd(text, last.value.range[1]));
  return eol === -1 ? `${text}\n${entry}\n` : `${text.slice(0, eol + 1)}${entry}\n${text.slice(eol + 1)}`;
}

/** Where a node's content ends: a block node's range runs on to the start of the next line. */
function contentEnd(text: string, end: number): number {
  let i = end;
  while (i > 0 && /\s/.test(text[i - 1] ?? '')) i--;
  return i;
}

function column(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

function renderEntry(text: string, keyStart: number, value: YAMLMap, name: string, host: NewHost): string {
  const indent = ' '.repeat(column(text, keyStart));
  const valueStart = value.range?.[0] ?? 0;
  const fields = entryFields(text, value, host);
  if (value.flow) {
    // Keep the column the `{` starts at when the file aligns them; else one space, as written.
    const valueCol = column(text, valueStart);
    const pad = Math.max(1, valueCol - column(text, keyStart) - name.length - 1);
    const inner = text.slice(valueStart, value.range?.[1] ?? valueStart);
    const open = inner.startsWith('{ ') ? '{ ' : '{';
    const close = /\s}$/.test(inner) ? ' }' : '}';
    return `${indent}${name}:${' '.repeat(pad)}${open}${fields.map(([k, v]) => `${k}: ${v}`).join(', ')}${close}`;
  }
  // Block: the inner keys at the column of the last entry's first key; values aligned if its were.
  const firstInner = value.items[0];
  const innerCol =
    isScalar(firstInner?.key) && firstInner.key.range ? column(text, firstInner.key.range[0]) : indent.length + 2;
  const valueCols = value.items.flatMap((p) =>
    isScalar(p.value) && p.value.range && isScalar(p.key) ? [column(text, p.value.range[0])] : [],
  );
  const aligned = valueCols.length > 1 && valueCols.every((c) => c === valueCols[0]) ? valueCols[0] : undefined;
  const lines = [`${indent}${name}:`];
  for (const [k, v] of fields) {
    const sep = aligned !== undefined ? ' '.repeat(Math.max(1, aligned - innerCol - k.length - 1)) : ' ';
    if (v.startsWith('\n')) lines.push(`${' '.repeat(innerCol)}${k}:${v}`);
    else lines.push(`${' '.repeat(innerCol)}${k}:${sep}${v}`);
  }
  return lines.join('\n');
}

/** address, port (when not 22), groups: each rendered as the last entry wrote its own. */
function entryFields(text: string, value: YAMLMap, host: NewHost): [string, string][] {
  const address = value.get('address', true);
  const quote =
    isScalar(address) && address.type === 'QUOTE_DOUBLE'
      ? '"'
      : isScalar(address) && address.type === 'QUOTE_SINGLE'
        ? "'"
        : '';
  const fields: [string, string][] = [
    ['address', quote ? `${quote}${host.address}${quote}` : plainOrQuoted(host.address)],
  ];
  if (host.port !== undefined && host.port !== 22) fields.push(['port', String(host.port)]);
  const groups = value.get('groups', true);
  if (isSeq(groups) && !groups.flow && groups.items[0] && (groups.items[0] as Node).range) {
    const itemStart = (groups.items[0] as Node).range?.[0] ?? 0;
    const dashCol = text.lastIndexOf('-', itemStart) - (text.lastIndexOf('\n', itemStart) + 1);
    fields.push(['groups', host.groups.map((g) => `\n${' '.repeat(dashCol)}- ${plainOrQuoted(g)}`).join('')]);
  } else {
    const src = isSeq(groups) && groups.range ? text.slice(groups.range[0], groups.range[1]) : '[]';
    const padded = src.startsWith('[ ');
    const list = host.groups.map(plainOrQuoted).join(', ');
    fields.push(['groups', padded ? `[ ${list} ]` : `[${list}]`]);
  }
  return fields;
}

/** A name or address as a plain YAML scalar when that reads back as the same string, else quoted. */
function plainOrQuoted(s: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/.test(s) && parse(s) === s ? s : JSON.stringify(s);
}

function reserialized(doc: ReturnType<typeof parseDocument>, hosts: YAMLMap, name: string, host: NewHost): string {
  const entry = doc.createNode({
    address: host.address,
    ...(host.port !== undefined && host.port !== 22 ? { port: host.port } : {}),
    groups: host.groups,
  }) as YAMLMap;
  const groups = entry.get('groups', true);
  if (isSeq(groups)) groups.flow = true;
  hosts.set(name, entry);
  return doc.toString();
}

/**
 * The inventory text without a host, or undefined if it is not there. Only that host's lines go
 * (from its name to the end of its entry); comments and everything else stay as written.
 */
export function inventoryWithoutHost(text: string, name: string): string | undefined {
  const doc = parseDocument(text);
  const hosts = doc.get('hosts', true);
  if (!isMap(hosts) || !hosts.has(name)) return undefined;
  const pair = hosts.items.find((p) => isScalar(p.key) && p.key.value === name);
  const keyRange = pair && isScalar(pair.key) ? pair.key.range : undefined;
  const valueRange =
    pair && isMap(pair.value) ? pair.value.range : pair && isScalar(pair.value) ? pair.value.range : undefined;
  if (hosts.flow || !keyRange || !valueRange) {
    hosts.delete(name);
    return doc.toString();
  }
  const start = text.lastIndexOf('\n', keyRange[0] - 1) + 1;
  const eol = text.indexOf('\n', contentEnd(text, valueRange[1]));
  return text.slice(0, start) + (eol === -1 ? '' : text.slice(eol + 1));
}

/** Adds a host to an inventory file (see inventoryWithHost). Returns false if it is already there. */
export function addHostToInventory(file: string, name: string, host: NewHost): boolean {
  const next = inventoryWithHost(file, readFileSync(file, 'utf8'), name, host);
  if (next === undefined) return false;
  writeAtomic(file, next);
  return true;
}

/** Removes a host from an inventory file, keeping everything else as written. */
export function removeHostFromInventory(file: string, name: string): boolean {
  const next = inventoryWithoutHost(readFileSync(file, 'utf8'), name);
  if (next === undefined) return false;
  writeAtomic(file, next);
  return true;
}

/** known_hosts text with a line added (unchanged if it is there). */
export function knownHostsWith(text: string, line: string): string {
  if (text.split('\n').includes(line)) return text;
  return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;
}

/** Pins a host key: appends an OpenSSH known_hosts line (the file is created, 0600, if missing). */
export function pinHostKey(knownHostsFile: string, line: string): void {
  const text = readKnownHosts(knownHostsFile);
  const next = knownHostsWith(text, line);
  if (next !== text) writeAtomic(knownHostsFile, next, { mode: 0o600 });
}

/** Drops every known_hosts line for this exact host name ("addr" or "[addr]:port"). */
export function unpinHost(knownHostsFile: string, knownName: string): void {
  const text = readKnownHosts(knownHostsFile);
  if (text === '') return;
  const kept = text.split('\n').filter((l) => l.split(/\s+/)[0] !== knownName);
  if (kept.length !== text.split('\n').length) writeAtomic(knownHostsFile, kept.join('\n'));
}
