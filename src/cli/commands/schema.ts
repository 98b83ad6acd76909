import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jsonSchema, schemaKinds, type SchemaKind } from '../../config/json-schema.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { write, type Io } from '../io.js';
import { UsageError } from '../../diagnostics/usage-error.js';
import { writeAtomic } from '../../local/write-atomic.js';

/** Prints one JSON Schema, or writes all of them to a directory. */
export function schemaCommand(kind: string | undefined, opts: { out?: string }, io: Io): ExitCode {
  if (opts.out) {
    const dir = resolve(io.cwd, opts.out);
    mkdirSync(dir, { recursive: true });
    for (const k of schemaKinds)
      writeAtomic(join(dir, `${k}.schema.json`), `${JSON.stringify(jsonSchema(k), null, 2)}\n`);
    write(io.stdout, `wrote ${schemaKinds.map((k) => join(dir, `${k}.schema.json`)).join(', ')}`);
    return EXIT.OK;
  }
  const k = kind ?? 'inventory';
  if (!(schemaKinds as readonly string[]).includes(k))
    throw new UsageError(`unknown schema "${k}"; one of: ${schemaKinds.join(', ')}`);
  write(io.stdout, JSON.stringify(jsonSchema(k as SchemaKind), null, 2));
  return EXIT.OK;
}
