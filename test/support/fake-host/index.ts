export { FakeHost, type FakeCommand, type FakeCommandOutput, type FakeEntry, type FakeUnit } from './host.js';
export { FakeMysql } from './mysql.js';
