import { aptModule } from './apt.js';
import { commandModule } from './command.js';
import { copyModule } from './copy.js';
import { fileModule } from './file.js';
import type { AnyModule } from './module.js';
import { serviceModule } from './service.js';
import { templateModule } from './template.js';

/** Every module, by the key a task uses for it. */
export const modules: ReadonlyMap<string, AnyModule> = new Map(
  [fileModule, copyModule, templateModule, commandModule, aptModule, serviceModule].map((m) => [m.name, m]),
);
