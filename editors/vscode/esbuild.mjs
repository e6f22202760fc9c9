// Bundles the extension (dist/extension.js) and the view's script (dist/webview.js) or, with
// --tests, the unit tests (dist-test/).
import { readdirSync } from "node:fs";
import * as esbuild from "esbuild";

const watch = process.argv.includes("--watch");
const tests = process.argv.includes("--tests");

const common = { bundle: true, platform: "node", target: "node20", format: "cjs", sourcemap: false, logLevel: "info" };

const builds = tests
  ? [
      {
        ...common,
        entryPoints: readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`),
        outdir: "dist-test",
      },
    ]
  : [
      { ...common, entryPoints: ["src/extension.ts"], outfile: "dist/extension.js", external: ["vscode"], minify: !watch },
      // The webview runs in the browser: no node modules, one IIFE.
      { ...common, platform: "browser", target: "es2022", format: "iife", entryPoints: ["src/webview/main.ts"], outfile: "dist/webview.js", minify: !watch },
    ];

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
