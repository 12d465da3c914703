// Loads launch.node when it was built (node build.mjs); null otherwise.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export * from './wire.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Directory holding launch.node and pegasus-ts-spawner once built. */
export const buildDir = join(here, 'build', 'Release');
/** Path of the spawner executable (it exists only once built). */
export const spawnerPath = join(buildDir, 'pegasus-ts-spawner');

let cached;
let loadError = null;

/** The addon ({ Spawner, spawnerPath }) or null when it is not built or cannot load here. */
export function loadLaunchAddon() {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.platform !== 'linux') {
    loadError = `platform ${process.platform} is not supported`;
    return cached;
  }
  try {
    accessSync(spawnerPath, constants.X_OK);
    const addon = require(join(buildDir, 'launch.node'));
    cached = { Spawner: addon.Spawner, spawnerPath };
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
  }
  return cached;
}

/** Why loadLaunchAddon() returned null (null when it loaded or was not tried). */
export function launchAddonError() {
  return loadError;
}
