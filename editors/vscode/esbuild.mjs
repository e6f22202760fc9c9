// Bundles the extension (dist/extension.js) or, with --tests, the unit tests (dist-test/).
import { readdirSync } from "node:fs";
import * as esbuild from "esbuild";

const watch = process.argv.includes("--watch");
const tests = process.argv.includes("--tests");

const common = { bundle: true, platform: "node", target: "node20", format: "cjs", sourcemap: false, logLevel: "info" };

const options = tests
  ? {
      ...common,
      entryPoints: readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`),
      outdir: "dist-test",
    }
  : { ...common, entryPoints: ["src/extension.ts"], outfile: "dist/extension.js", external: ["vscode"], minify: !watch };

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
