#!/usr/bin/env node
// The `zlh` command. Node >= 24 runs the TypeScript sources directly (type stripping).
//
// The project brings its own Node 24 (the `node` package pinned in package.json): `npx zlh` and
// `npm start` put node_modules/.bin first on PATH, so this file runs on it whatever the system
// Node is. That is also why package.json declares no `engines`: npm would check it against the
// Node that runs npm, not the one that runs zlh, and warn on every older system Node. The real
// requirement is checked here instead, before any TypeScript is loaded, with a message that says
// what to do.
const [major] = process.versions.node.split('.').map(Number)
if (major < 24) {
  process.stderr.write(
    `zlh needs Node.js 24 or newer; this is ${process.version} (${process.execPath}).\n` +
      'Run it through npm, which uses the Node 24 that `npm install` put in node_modules/.bin: ' +
      '`npx zlh …` or `npm start`.\n' +
      'If node_modules/.bin/node is missing, run `npm install` again (without --ignore-scripts: ' +
      'the pinned `node` package installs its binary in a script).\n',
  )
  process.exit(1)
}
await import('../src/cli/main.ts')
