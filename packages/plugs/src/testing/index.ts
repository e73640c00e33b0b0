export { makeNamespace, makeVolumeDirs, sh, testVif, volumeFixtures } from './host-fixtures.js';
export { startOvs } from './ovs-fixtures.js';
export { startIscsiTarget } from './iscsi-fixtures.js';
