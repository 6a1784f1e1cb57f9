// Build the widget: the versioned bundle (content-hashed name, served immutable), the loader
// that names it (served at /widget.js, short-cached) and the fallback stylesheet.
// Usage: node scripts/build.mjs [--out <dir>]   (default: ../../bot/static)

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const outIndex = process.argv.indexOf("--out");
const out = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : resolve(root, "../../bot/static");
const bundleDir = join(out, "widget");
const target = ["chrome100", "firefox100", "safari15.4", "edge100"];

async function build() {
  const bundle = await esbuild.build({
    entryPoints: [join(root, "src/main.js")],
    bundle: true,
    minify: true,
    format: "iife",
    target,
    loader: { ".css": "text" },
    legalComments: "none",
    write: false,
    logLevel: "warning"
  });
  const code = bundle.outputFiles[0].contents;
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 12);
  const integrity = "sha384-" + createHash("sha384").update(code).digest("base64");
  const name = `concierge.${hash}.js`;

  mkdirSync(bundleDir, { recursive: true });
  for (const old of readdirSync(bundleDir)) {
    if (/^concierge\.[0-9a-f]+\.js$/.test(old) && old !== name) {
      rmSync(join(bundleDir, old));
    }
  }
  writeFileSync(join(bundleDir, name), code);

  const loader = await esbuild.build({
    entryPoints: [join(root, "src/loader.js")],
    bundle: false,
    minify: false, // a few hundred bytes: kept readable for the sites that embed it
    target,
    define: {
      __CONCIERGE_BUNDLE__: JSON.stringify(name),
      __CONCIERGE_INTEGRITY__: JSON.stringify(integrity)
    },
    legalComments: "inline",
    write: false,
    logLevel: "warning"
  });
  writeFileSync(join(out, "widget.js"), loader.outputFiles[0].contents);

  const css = await esbuild.build({
    entryPoints: [join(root, "src/styles.css")],
    minify: true,
    target,
    write: false,
    logLevel: "warning"
  });
  writeFileSync(join(out, "widget.css"), css.outputFiles[0].contents);
  console.log(`widget: ${name} (${code.length} bytes), widget.js, widget.css -> ${out}`);
}

build().catch((error) => {
  console.error(error);
  process.exit(1);
});
