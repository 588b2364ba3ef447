// WeChat's own build of a mini-program project, offline, with miniprogram-ci (the devtools' compiler as an
// npm package): 构建 npm (`packNpm`), then the local compile that an upload would send (`getCompiledResult`;
// nothing is uploaded). Writes the compiled code package to <outDir> and prints a JSON summary.
//   node wechat-build.cjs <projectDir> <outDir>
// Offline: miniprogram-ci signs requests with the upload key and asks WeChat for the project's attributes;
// here the attributes are supplied (its own defaults) and the key is a placeholder file. Its one other request,
// the list of file extensions a package may hold (getwhiteextlist), goes to a loopback proxy that refuses it,
// so it uses its built-in list and nothing leaves the machine; the summary counts those attempts.
const { mkdirSync, writeFileSync, readFileSync } = require('node:fs');
const net = require('node:net');
const { dirname, join } = require('node:path');
const ci = require('miniprogram-ci');

async function main() {
  const [projectPath, outDir] = process.argv.slice(2);
  const network = [];
  const proxy = net.createServer((socket) => {
    socket.once('data', (chunk) => {
      network.push(String(chunk).split('\r\n')[0]);
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  ci.proxy(`http://127.0.0.1:${proxy.address().port}`);

  const keyPath = join(outDir, '..', 'placeholder-upload-key');
  writeFileSync(keyPath, 'not a key: nothing is uploaded\n');
  const { appid } = JSON.parse(readFileSync(join(projectPath, 'project.config.json'), 'utf8'));
  const project = new ci.Project({
    appid,
    type: 'miniProgram',
    projectPath,
    privateKeyPath: keyPath,
    ignores: ['node_modules/**/*'],
    attr: async () => ci.DefaultProjectAttr,
  });

  const started = Date.now();
  const warnings = await ci.packNpm(project, { reporter: () => {} });
  const packNpmMs = Date.now() - started;
  const compiled = await ci.getCompiledResult({ project, setting: { useProjectConfig: true }, onProgressUpdate: () => {} });
  const compileMs = Date.now() - started - packNpmMs;
  const files = {};
  for (const [path, content] of Object.entries(compiled)) {
    mkdirSync(dirname(join(outDir, path)), { recursive: true });
    writeFileSync(join(outDir, path), content);
    files[path] = content.length;
  }
  proxy.close();
  process.stdout.write(`${JSON.stringify({ packNpmMs, compileMs, warnings, files, network })}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error && error.stack ? error.stack : error);
    process.exit(1);
  },
);
