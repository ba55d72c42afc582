// Where the bundled example lives: resolved from this file, so any working directory works.
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));
export const BUNDLED_ASSETS_DIR = fileURLToPath(new URL('../../examples/assets/', import.meta.url));
