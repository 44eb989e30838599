// `npm run build`: web/dist, the files to deploy (S3 behind CloudFront). One minified bundle, the
// stylesheet, and index.html pointing at them from the root (index.html is also the answer to
// deep links such as /invitations/{id}); config.json is written by whoever serves them.
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile, copyFile, stat } from "node:fs/promises";

await rm("dist", { recursive: true, force: true });
await mkdir("dist", { recursive: true });
await build({
  entryPoints: ["src/app.js"],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  outfile: "dist/app.js",
  legalComments: "none",
});
await copyFile("src/style.css", "dist/style.css");
const html = (await readFile("index.html", "utf8"))
  .replace("./src/style.css", "/style.css")
  .replace("./src/app.js", "/app.js");
await writeFile("dist/index.html", html);
const size = (await stat("dist/app.js")).size;
console.log(`web/dist: app.js ${size} bytes minified`);
