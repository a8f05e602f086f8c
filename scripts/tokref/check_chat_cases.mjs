#!/usr/bin/env node
// Checks tests/data/tokenizer/chat_cases.json against Google's Gemma 4 chat templates, rendered
// with @huggingface/jinja (as spec/tokenizer.md §4 did). The templates are not in this repository
// (the model's chat_template.jinja, or the GGUF key tokenizer.chat_template): pass them.
//
//   node check_chat_cases.mjs --small E2B_OR_E4B.jinja --large 26B_OR_31B.jinja --cases FILE
// Exit 0 if every case renders exactly to its "expected" string, 1 otherwise.
import fs from "node:fs";
import { Template } from "@huggingface/jinja";

const arg = (k) => { const i = process.argv.indexOf(k); return i >= 0 ? process.argv[i + 1] : null; };
const paths = { small: arg("--small"), large: arg("--large") };
const casesPath = arg("--cases");
if (!paths.small || !paths.large || !casesPath) {
  process.stderr.write("usage: check_chat_cases.mjs --small FILE --large FILE --cases chat_cases.json\n");
  process.exit(2);
}
const tpl = { small: new Template(fs.readFileSync(paths.small, "utf8")),
              large: new Template(fs.readFileSync(paths.large, "utf8")) };
let bad = 0;
for (const c of JSON.parse(fs.readFileSync(casesPath, "utf8"))) {
  const messages = c.messages.map((m) => ({ role: m.role, content: m.content,
    ...(m.reasoning ? { reasoning_content: m.reasoning } : {}) }));
  const got = tpl[c.flavor].render({ messages, bos_token: "<bos>",
    add_generation_prompt: c.add_generation_prompt ?? true, enable_thinking: c.thinking });
  if (got !== c.expected) {
    bad++;
    process.stdout.write(`MISMATCH ${c.name}\n  expected ${JSON.stringify(c.expected)}\n  rendered ${JSON.stringify(got)}\n`);
  }
}
process.stdout.write(`${bad ? "FAIL" : "ok"}: ${bad} of the cases differ\n`);
process.exit(bad ? 1 : 0);
