export { makeNamespace, makeVolumeDirs, sh, testVif, volumeFixtures } from './host-fixtures.js';
