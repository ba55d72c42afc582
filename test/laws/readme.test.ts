// The README's "Testing your own compositions" example, through the package's own export names.
import { join } from 'node:path';
import { compileFile } from 'adaptc';
import { checkLaw, LAWS, lawCaseArb, lawProperty } from 'adaptc/testing';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { EXAMPLES_DIR } from '../../src/bundled/paths.ts';

it('the laws hold on generated compositions (README)', () => {
  for (const law of LAWS) fc.assert(lawProperty(law, lawCaseArb), { numRuns: 3, seed: 42 });
});

it('the laws hold on my setup (README, on examples/sst2.adapt)', () => {
  const subject = compileFile(join(EXAMPLES_DIR, 'sst2.adapt'));
  for (const law of LAWS) expect(checkLaw(law, subject, { runs: 2, seed: 1 }).status).not.toBe('broken');
}, 60_000);
