// embed.mjs TOOLS WIT WORLD IN OUT: embeds the component type of WORLD,
// from the single WIT file WIT, in the core module IN, written to OUT. It
// calls jco's API with the WIT as source: jco's own `embed` command reads
// WIT through a path that its bundled wasm-tools cannot open.
import { readFile, writeFile } from "node:fs/promises";

const [, , tools, witFile, world, input, output] = process.argv;
const { componentEmbed } = await import(tools + "/node_modules/@bytecodealliance/jco/dist/api.js");
const bytes = await componentEmbed({
  binary: await readFile(input),
  witSource: await readFile(witFile, "utf8"),
  world,
});
await writeFile(output, bytes);
