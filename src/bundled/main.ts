// `npm run assets`: regenerates examples/assets (or the folder given) from the seed.
import { resolve } from 'node:path';
import { BUNDLED_ASSETS_DIR } from './paths.ts';
import { writeBundledAssets } from './write.ts';

const target = resolve(process.argv[2] ?? BUNDLED_ASSETS_DIR);
writeBundledAssets(target);
process.stdout.write(`wrote the bundled model and adapter store to ${target}\n`);
