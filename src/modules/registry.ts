import { aptModule } from './apt.js';
import { aptSourceModule } from './apt-source.js';
import { checkModule } from './check.js';
import { commandModule } from './command.js';
import { copyModule } from './copy.js';
import { fileModule } from './file.js';
import { groupModule } from './group.js';
import { lineModule } from './line.js';
import { backupStatusModule } from './backup-status.js';
import { healthModule } from './health.js';
import { mariadbReplicaModule } from './mariadb-replica.js';
import { mysqlDbModule, mysqlUserModule } from './mysql.js';
import type { AnyModule } from './module.js';
import { serviceModule } from './service.js';
import { templateModule } from './template.js';
import { userModule } from './user.js';

/** Every module, by the key a task uses for it. */
export const modules: ReadonlyMap<string, AnyModule> = new Map(
  [
    fileModule,
    copyModule,
    templateModule,
    commandModule,
    aptModule,
    aptSourceModule,
    serviceModule,
    lineModule,
    userModule,
    groupModule,
    mysqlDbModule,
    mysqlUserModule,
    mariadbReplicaModule,
    backupStatusModule,
    healthModule,
    checkModule,
  ].map((m) => [m.name, m]),
);
