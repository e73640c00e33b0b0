// Points a package's @nova-common/* dependencies at packed tarballs, so `npm install` outside
// the workspace installs the current packages instead of released ones:
//
//   node scripts/ci/lib/pin-tarballs.mjs <package-dir> <tarball>...
import { pinTarballs } from './tarballs.mjs';

const [dir, ...tarballs] = process.argv.slice(2);
if (dir === undefined || tarballs.length === 0) {
  console.error('usage: pin-tarballs.mjs <package-dir> <tarball>...');
  process.exit(2);
}
pinTarballs(dir, tarballs);
