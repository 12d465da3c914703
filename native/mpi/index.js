// Loads mpi_transport.node when it was built (node build.mjs); null otherwise.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Directory holding mpi_transport.node once built. */
export const buildDir = join(here, 'build', 'Release');
/** Path of the addon (it exists only once built). */
export const addonPath = join(buildDir, 'mpi_transport.node');

let cached;
let loadError = null;

/** The addon, or null when it is not built or cannot load here (no libmpi, ...). */
export function loadMpiAddon() {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.platform !== 'linux') {
    loadError = `platform ${process.platform} is not supported`;
    return cached;
  }
  try {
    cached = require(addonPath);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    loadError =
      e && typeof e === 'object' && e.code === 'MODULE_NOT_FOUND'
        ? 'native/mpi is not built (no MPI compiler when it was set up?)'
        : msg.split('\n')[0];
  }
  return cached;
}

/** Why loadMpiAddon() returned null (null when it loaded or was not tried). */
export function mpiAddonError() {
  return loadError;
}
