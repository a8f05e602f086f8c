#!/usr/bin/env node
// Joins the reference outputs for the corpus into tests/data/tokenizer/expected.json:
//   hf             Hugging Face tokenizers, all added tokens matched (its default)
//   hf_plain       the same with special added tokens not matched (--no-parse-special)
//   hf_user_markers  as hf_plain, but the 7 USER_DEFINED markers are non-special added tokens
//                  (derive_tokenizer_json.mjs --markers-user-defined), so they stay matched
//   llama          llama.cpp, parse_special = false
//   llama_special  llama.cpp, parse_special = true
// No BOS anywhere (the tests check BOS handling separately). Fails if the two Hugging Face
// engines (Rust and JS) disagree anywhere, or if an entry is missing or out of order.
//
//   node merge_expected.mjs --corpus C --hf A --hf-plain B --hf-user-markers M --llama L
//                           --vocab-sha S --out F
import fs from "node:fs";

const arg = (k) => {
  const i = process.argv.indexOf(k);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${k}`);
  return process.argv[i + 1];
};
const read = (k) => JSON.parse(fs.readFileSync(arg(k), "utf8"));
const corpus = read("--corpus"), hf = read("--hf"), hfPlain = read("--hf-plain"), llama = read("--llama");
const hfMarkers = read("--hf-user-markers");
for (const [what, r] of [["hf", hf], ["hf-plain", hfPlain], ["hf-user-markers", hfMarkers]]) {
  if (r.summary.errors || r.summary.js_disagreements) {
    throw new Error(`${what}: ${r.summary.errors} errors, ${r.summary.js_disagreements} Rust/JS disagreements`);
  }
}
const entries = corpus.map((c, i) => {
  for (const r of [hf.results[i], hfPlain.results[i], hfMarkers.results[i]]) {
    if (!r || r.text !== c.text) throw new Error(`entry ${i} (${c.name}) missing or out of order`);
  }
  if (!llama.results[i] || llama.results[i].index !== i) throw new Error(`llama entry ${i} missing`);
  return { name: c.name, hf: hf.results[i].ids, hf_plain: hfPlain.results[i].ids,
           hf_user_markers: hfMarkers.results[i].ids,
           llama: llama.results[i].ids, llama_special: llama.results[i].ids_special };
});
const out = {
  generated_by: "scripts/make-tokenizer-fixtures",
  vocab_gguf_sha256: arg("--vocab-sha"),
  references: {
    hf: { tokenizer: hf.tokenizer, engines: hf.engines },
    hf_user_markers: { tokenizer: hfMarkers.tokenizer },
    llama: llama.peer,
  },
  entries,
};
const text = JSON.stringify(out, null, 0).replace(/\{"name"/g, "\n{\"name\"") + "\n";
fs.writeFileSync(arg("--out"), text);
