#!/usr/bin/env node
// llama.cpp's tokenizer as a reference (measuring instrument, not product code).
//
// Loads a Gemma 4 GGUF with node-llama-cpp (vocabulary only, no weights) and tokenizes every
// string of a JSON array twice: with special-token parsing off and on. No BOS is added
// (llama_tokenize with add_special = false); callers prepend it where they compare with BOS.
//
//   node llama_tokenize.mjs --model M.gguf --input strings.json [--out FILE] [--peer-dir DIR]
//
// node-llama-cpp is looked up in --peer-dir, $GEMMA4_PEER_DIR or $HOME/.cache/gemma-llama-ref
// (see ../shared/tools/llama-ref/README.md for its installation). The GGUF must be a loadable
// model, e.g. `gemma-quantize synth --preset tiny --vocab VOCAB.gguf -o m.gguf`.
// Output: {tool, peer, model, results: [{index, ids, ids_special, decoded}]}; `decoded` is
// llama.cpp's own detokenization of `ids` (specials rendered), kept for inspection only.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

function args(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (!k.startsWith("--") || i + 1 >= argv.length) throw new Error(`bad argument ${k}`);
    a[k.slice(2)] = argv[++i];
  }
  if (!a.model || !a.input) throw new Error("usage: llama_tokenize.mjs --model M.gguf --input strings.json [--out FILE]");
  return a;
}

async function loadPeer(explicit) {
  const dirs = [explicit, process.env.GEMMA4_PEER_DIR,
    process.env.HOME && path.join(process.env.HOME, ".cache", "gemma-llama-ref")].filter(Boolean);
  for (const d of dirs) {
    try {
      const req = createRequire(path.join(path.resolve(d), "noop.js"));
      const entry = req.resolve("node-llama-cpp");
      const version = JSON.parse(fs.readFileSync(path.join(path.dirname(entry), "..", "package.json"), "utf8")).version;
      return { mod: await import(pathToFileURL(entry).href), version };
    } catch (e) {
      if (e.code !== "MODULE_NOT_FOUND" && e.code !== "ERR_MODULE_NOT_FOUND") throw e;
    }
  }
  throw new Error(`node-llama-cpp not found in ${dirs.join(", ")}`);
}

const a = args(process.argv.slice(2));
const items = JSON.parse(fs.readFileSync(a.input, "utf8"));
const { mod, version } = await loadPeer(a["peer-dir"]);
// build "never": never compile or download; CPU only.
const llama = await mod.getLlama({ gpu: false, build: "never", usePrebuiltBinaries: true, progressLogs: false,
  logLevel: mod.LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: a.model, gpuLayers: 0, vocabOnly: true });
const results = items.map((item, index) => {
  const text = typeof item === "string" ? item : item.text;
  const ids = Array.from(model.tokenize(text, false));
  const ids_special = Array.from(model.tokenize(text, true));
  return { index, ids, ids_special, decoded: model.detokenize(ids, true) };
});
const out = JSON.stringify({ tool: "llama_tokenize.mjs", peer: { node_llama_cpp: version,
  llama_cpp_release: llama.llamaCppRelease?.release ?? null }, model: path.basename(a.model), results }) + "\n";
if (a.out) fs.writeFileSync(a.out, out); else process.stdout.write(out);
await model.dispose();
await llama.dispose();
