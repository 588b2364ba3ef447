// The mini-program bundle stays within its size budget (scripts/sizes.mjs):
// every kilobyte counts against the 2 MB package limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUDGET, TARGET, kb, measureBundle } from '../../scripts/sizes.mjs';
import { bundleDir } from './support.mjs';

const sizes = measureBundle(bundleDir);

for (const [name, limit] of Object.entries(BUDGET)) {
  test(`${name} is within its budget of ${kb(limit)}`, (t) => {
    const size = sizes[/** @type {keyof typeof sizes} */ (name)];
    const target = TARGET[/** @type {keyof typeof TARGET} */ (name)];
    t.diagnostic(`${name}: ${kb(size)} (budget ${kb(limit)}${target === undefined ? '' : `, target ${kb(target)}`})`);
    assert.ok(size <= limit, `${name} is ${kb(size)}, over its budget of ${kb(limit)}: find what grew (twiggy top) before raising it`);
  });
}
