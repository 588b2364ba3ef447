// The README's demo runs the seed's cloud-test checks in the sandbox: every
// check must pass and print its route and latency.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repo } from './support.mjs';

test('the demo prints a ✅ line with route and latency for each of the seed\'s seven checks', () => {
  const out = execFileSync(process.execPath, [join(repo, 'demo/run-demo.mjs')], { encoding: 'utf8', timeout: 60_000 });
  const lines = out.split('\n').filter((l) => /^(✅|❌)/.test(l));
  assert.equal(lines.length, 7, out);
  for (const name of ['基本连接', '首页API', '订单API', '服务API', 'WebSocket', '错误处理', '云托管状态']) {
    const line = lines.find((l) => l.includes(name));
    assert.ok(line?.startsWith('✅'), `${name}: ${line}`);
    assert.match(line, /\bcloud\s+\d+ ms/, `${name} shows route and latency`);
  }
  assert.match(out, /^7 passed, 0 failed$/m);
});
