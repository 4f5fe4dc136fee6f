// Bundles the CLI (src/cli) into dist/cli after tsc has built dist/: one file per lazily loaded command instead of
// the ~230 modules (yaml, protobuf, connect…) that Node would otherwise resolve and compile one by one at every
// start. That was ~90 ms of CPU on each `protodepot push`. The server is not bundled: `serve` imports it from the
// tsc output (dist/server.js and friends), so the registry runs exactly the modules its tests ran.
import { rm } from "node:fs/promises";
import { build } from "esbuild";

// The only imports of server code in the CLI, all in commands/serve.ts; they stay imports of dist/.
const serverSide = /^\.\.\/\.\.\/(server|cluster\/serve-workers|config\/load)\.js$/;

await rm("dist/cli", { recursive: true, force: true });
await build({
  entryPoints: { run: "src/cli/run.ts" },
  outdir: "dist/cli",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
  // Bundled CommonJS dependencies (commander, yaml) call require() for Node's built-ins.
  banner: {
    js: 'import { createRequire as bundleRequire } from "node:module"; const require = bundleRequire(import.meta.url);',
  },
  plugins: [
    {
      name: "server-stays-in-dist",
      setup(b) {
        b.onResolve({ filter: serverSide }, (args) => {
          if (!args.importer.endsWith("commands/serve.ts")) {
            throw new Error(
              `${args.importer} imports server code (${args.path}); only commands/serve.ts may`,
            );
          }
          return { path: args.path.replace("../../", "../"), external: true };
        });
      },
    },
  ],
});
