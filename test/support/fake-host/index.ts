export { FakeHost, type FakeCommand, type FakeEntry, type FakeUnit } from './host.js';
export { FakeMysql } from './mysql.js';
