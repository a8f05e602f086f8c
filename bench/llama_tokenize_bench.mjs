#!/usr/bin/env node
// Times llama.cpp's tokenizer (node-llama-cpp 3.22.1, llama.cpp v0.5.0; vocabulary only) on a
// text file, for comparison with bench_tokenizer on the same text. The timing includes
// node-llama-cpp's JS -> C++ string transfer (UTF-16 to UTF-8), which llama.cpp's own C API
// would not pay; it is reported separately as the cost of tokenizing an empty-ish string.
//
//   node llama_tokenize_bench.mjs --model M.gguf --text T.txt [--ids OURS.json] [--reps 7]
//
// The GGUF must be loadable by llama.cpp (a vocab-only GGUF is not: use
// `gemma-quantize synth --preset tiny --vocab VOCAB.gguf -o m.gguf`). With --ids, also reports
// whether llama.cpp's ids equal ours. Prints one JSON object.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const arg = (k, d) => { const i = process.argv.indexOf(k); return i >= 0 ? process.argv[i + 1] : d; };
const modelPath = arg("--model"), textPath = arg("--text"), idsPath = arg("--ids"), reps = Number(arg("--reps", "7"));
if (!modelPath || !textPath) {
  process.stderr.write("usage: llama_tokenize_bench.mjs --model M.gguf --text T.txt [--ids F] [--reps N]\n");
  process.exit(2);
}
const dirs = [arg("--peer-dir"), process.env.GEMMA4_PEER_DIR,
  process.env.HOME && path.join(process.env.HOME, ".cache", "gemma-llama-ref")].filter(Boolean);
let mod = null, version = null;
for (const d of dirs) {
  try {
    const entry = createRequire(path.join(path.resolve(d), "noop.js")).resolve("node-llama-cpp");
    version = JSON.parse(fs.readFileSync(path.join(path.dirname(entry), "..", "package.json"), "utf8")).version;
    mod = await import(pathToFileURL(entry).href);
    break;
  } catch (e) {
    if (e.code !== "MODULE_NOT_FOUND" && e.code !== "ERR_MODULE_NOT_FOUND") throw e;
  }
}
if (!mod) { process.stderr.write(`node-llama-cpp not found in ${dirs.join(", ")}\n`); process.exit(1); }

const text = fs.readFileSync(textPath, "utf8");
const llama = await mod.getLlama({ gpu: false, build: "never", usePrebuiltBinaries: true, progressLogs: false,
  logLevel: mod.LlamaLogLevel.error });
const t0 = performance.now();
const model = await llama.loadModel({ modelPath, gpuLayers: 0, vocabOnly: true });
const loadS = (performance.now() - t0) / 1000;
const times = [];
let ids = null;
for (let r = 0; r < reps; r++) {
  const a = performance.now();
  ids = model.tokenize(text, false);
  times.push((performance.now() - a) / 1000);
}
times.sort((x, y) => x - y);
const bytes = Buffer.byteLength(text, "utf8");
const mib = bytes / (1024 * 1024);
const out = { tool: "llama_tokenize_bench.mjs", node_llama_cpp: version,
  llama_cpp_release: llama.llamaCppRelease?.release ?? null, load_s: +loadS.toFixed(3), text_bytes: bytes,
  tokens: ids.length, reps, encode_s_best: +times[0].toFixed(4), encode_s_median: +times[times.length >> 1].toFixed(4),
  encode_MiB_per_s: +(mib / times[0]).toFixed(2), encode_tokens_per_s: Math.round(ids.length / times[0]) };
if (idsPath) {
  const ours = JSON.parse(fs.readFileSync(idsPath, "utf8"));
  out.ids_equal_ours = ours.length === ids.length && ours.every((v, i) => v === ids[i]);
  if (!out.ids_equal_ours) {  // show where (expected: HTML-like pieces such as "</s>", see tokenizer.h)
    let i = 0;
    while (i < ids.length && ids[i] === ours[i]) i++;
    out.first_difference = { index: i, llama_tokens: ours.length === ids.length ? undefined : ids.length - ours.length,
      context: model.detokenize(Array.from(ids.slice(Math.max(0, i - 4), i + 4)), true) };
  }
}
process.stdout.write(JSON.stringify(out) + "\n");
await model.dispose();
await llama.dispose();
