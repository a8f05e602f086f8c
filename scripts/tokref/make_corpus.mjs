#!/usr/bin/env node
// Writes tests/data/tokenizer/corpus.json: the strings the tokenizer tests compare with the two
// references (Hugging Face tokenizers and llama.cpp). Deterministic: hand-written entries plus
// seeded pseudo-random and long ones; rerunning gives the same bytes.
//
//   node make_corpus.mjs --out corpus.json
//
// Entry: {name, text, decide?, why?}. The references per mode ("special": control tokens
// parsed; "plain": not) are: special -> hf, llama; plain -> hf, hf_user_markers, llama (see
// merge_expected.mjs). Where they disagree, `decide` names the one the C++ tokenizer follows:
//   hf               pieces SentencePiece matches whole (HTML tags, <unusedN>, [multimodal]) stay
//                    whole, as in Hugging Face; llama.cpp splits them (its GGUF calls them NORMAL).
//   hf_user_markers  the 7 USER_DEFINED markers (<|channel> ...) are matched in plain text too,
//                    as SentencePiece matches user-defined pieces. llama.cpp does so for 6 of
//                    them (it retypes the stop token <|tool_response> CONTROL at load); HF's
//                    split_special_tokens mode splits all 7.
//   llama            literal U+2581 next to spaces: pieces are matched on the normalised text
//                    (spaces already "▁"), like SentencePiece and llama.cpp; HF matches its "▁▁"
//                    added tokens in the raw text before normalisation.
// The test fails on any disagreement without a decision, and on a decision where the references
// agree, so this list stays exact.

import fs from "node:fs";

const entries = [];
const add = (name, text, decide, why) => {
  if (entries.some((e) => e.name === name)) throw new Error("duplicate name " + name);
  const e = { name, text };
  if (decide) { e.decide = decide; e.why = why; }
  entries.push(e);
};
const HTML = "HTML-like piece: matched whole (SentencePiece user-defined, as HF)";
const MARK = "USER_DEFINED marker: matched in plain text too (SentencePiece user-defined piece)";
const RAW = "literal U+2581 beside a space: matched on normalised text (llama.cpp, SentencePiece)";

// ---- basics ----
add("empty", "");
add("space", " ");
add("hello", "Hello");
add("hello-space", " Hello");
add("hello-world", "Hello, world!");
add("sentence", "The quick brown fox jumps over the lazy dog.");
add("llama-issue-23252", "Hello world! Café déjà vu — 123 😊");
add("contractions", "I'm sure you'll see they're right; it's what we'd've done, isn't it? Y'all can't.");
add("caps", "HELLO WORLD. Hello World. hello world. hElLo WoRlD.");
add("trailing-space", "ends with a space ");
add("leading-spaces", "   three leading spaces");
add("single-chars", "a b c d e f g h i j k l m n o p q r s t u v w x y z");
add("ascii-printable", Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join(""));

// ---- Latin scripts, accents, normalisation forms ----
add("french", "L'élève a reçu où déjà « ça » – naïve façade, cœur, Noël.");
add("german", "Größenwahn: Straße, Fußgängerübergänge, ÄÖÜ äöü ẞ.");
add("polish-czech", "Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.");
add("vietnamese", "Tiếng Việt có dấu: Hà Nội, Đà Nẵng, người, được, những.");
add("turkish-icelandic", "İstanbul ılık şğ; Þórður Ægir Ðóra.");
add("nfd-vs-nfc", "e\u0301 é | A\u030A Å | n\u0303 ñ");
add("combining-stack", "Z\u0351\u036B\u0343\u036A\u0302\u036B\u033D\u034F\u0334\u0319alg\u0307\u0308o\u0353\u031E");
add("ligatures-fullwidth", "ﬁ ﬂ ﬀ Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ｶﾀｶﾅ");
add("greek", "Ελληνικά: Η γρήγορη καφέ αλεπού πηδά πάνω από τον τεμπέλη σκύλο. ΑΒΓΔ αβγδ ς");
add("cyrillic", "Съешь же ещё этих мягких французских булок, да выпей чаю. Ґ ї є Ђ ђ");
add("armenian-georgian", "Հայերեն լեզու. ქართული ენა მშვენიერია.");

// ---- RTL, Indic, SE Asian, others ----
add("hebrew", "שלום עולם! עִבְרִית עם ניקוד.");
add("arabic", "مرحبا بالعالم! اللغة العربية جميلة.");
add("arabic-diacritics", "بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ");
add("arabic-digits", "٠١٢٣٤٥٦٧٨٩ و ۰۱۲۳۴۵۶۷۸۹");
add("persian-zwnj", "می‌خواهم کتاب‌ها را بخوانم.");
add("devanagari", "नमस्ते दुनिया! हिन्दी भाषा में क्षत्रिय, ज्ञान, श्री।");
add("bengali-tamil", "বাংলা ভাষা। தமிழ் மொழி அழகானது.");
add("telugu-kannada-malayalam", "తెలుగు ಕನ್ನಡ മലയാളം ગુજરાતી ਪੰਜਾਬੀ");
add("thai", "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ สวัสดีครับ");
add("lao-khmer-myanmar", "ພາສາລາວ ភាសាខ្មែរ မြန်မာဘာသာ");
add("ethiopic-tibetan", "ሰላም ለዓለም። བོད་ཡིག");
add("mongolian-cherokee", "ᠮᠣᠩᠭᠣᠯ ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ");
add("bidi-mixed", "English then עברית then العربية then 123 end.");
add("bidi-controls", "a\u202Eb\u202Cc \u200Fd\u200E \u2067e\u2069");

// ---- CJK and Hangul ----
add("chinese-simplified", "我爱自然语言处理。今天天气很好，我们去公园散步吧！");
add("chinese-traditional", "這是繁體中文的句子，包含「引號」與『書名號』。");
add("japanese", "日本語の文章です。ひらがな、カタカナ、漢字が混ざっています。ｶﾞｷﾞ");
add("korean", "안녕하세요, 세계! 한국어 문장입니다. 한글은 아름답습니다.");
add("hangul-jamo", "\u1112\u1161\u11AB\u1100\u1173\u11AF vs 한글 ㄱㄴㄷㅏㅑ");
add("cjk-ext-b", "𠀀𠀁𠀂 𪚥 𩸽 𠮷野家");
add("cjk-punct", "「こんにちは」、『世界』。【注意】〈括弧〉《書名》・ー〜");
add("cjk-spaces", "中文　全角空格　和 half 空格");

// ---- emoji ----
add("emoji-basic", "😀😃😄😁😆😅🤣😂🙂🙃😉😊");
add("emoji-skin", "👍🏻👍🏼👍🏽👍🏾👍🏿 👋🏽");
add("emoji-zwj", "👨‍👩‍👧‍👦 👩‍💻 🏳️‍🌈 🧑🏽‍🚀 👁️‍🗨️");
add("emoji-flags", "🇺🇸🇬🇧🇫🇷🇩🇪🇯🇵🇰🇷🇧🇷🇮🇳 🏴󠁧󠁢󠁳󠁣󠁴󠁿");
add("emoji-keycap-vs", "1️⃣ #️⃣ *️⃣ ❤️ ❤︎ ☺️ ✔️");
add("emoji-rare", "🫠🫨🪿🫎🪼 🯰🯱");
add("emoji-in-text", "Great job 🎉! See you at 3pm ☕ — bring 🍕 & 🍺?");

// ---- code ----
add("cpp", "#include <vector>\n\ntemplate <typename T>\nint sum(const std::vector<T>& v) {\n  int s = 0;\n  for (auto x : v) s += x;  // add\n  return s;\n}\n");
add("python-indent", "def f(x):\n    if x > 0:\n        return x ** 2\n    else:\n\treturn -x  # tab\n\nprint(f(3))\n");
add("json", '{"name": "gemma", "ids": [2, 9259, 106], "nested": {"ok": true, "v": null}, "s": "a\\"b"}');
add("html-doc", "<!DOCTYPE html>\n<html>\n<head><title>T</title></head>\n<body>\n  <div class=\"x\"><p>Hi</p></div>\n</body>\n</html>\n", { plain: "hf", special: "hf" }, HTML);
add("markdown", "# Title\n\n## Section\n\n- item *one*\n- item **two**\n\n```js\nconst x = 1;\n```\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
add("shell", "for f in *.txt; do echo \"$f\" | sed -e 's/a/b/g' >> out.log 2>&1; done && ls -la ~/ | grep '^d'");
add("regex", "^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*)@\\w+\\.[a-z]{2,}$");
add("latex", "\\begin{equation} E = mc^2, \\quad \\int_0^\\infty e^{-x^2} dx = \\frac{\\sqrt{\\pi}}{2} \\end{equation}");
add("rust", "fn main() -> Result<(), Box<dyn std::error::Error>> {\n    let v: Vec<u8> = vec![0xFF; 4];\n    println!(\"{:?}\", v);\n    Ok(())\n}\n");
add("sql", "SELECT u.id, COUNT(*) AS n FROM users u LEFT JOIN orders o ON o.uid = u.id WHERE u.age >= 18 GROUP BY u.id HAVING n > 2;");
add("url-email", "Visit https://example.com/path/to/page?query=1&b=%20x#frag or mail someone+tag@example.co.uk.");
add("base64", "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");
add("hex-dump", "00000000: 7f45 4c46 0201 0100 0000 0000 0000 0000  .ELF............");

// ---- whitespace ----
add("spaces-2-5", "a  b   c    d     e");
add("spaces-31-32-33", "x" + " ".repeat(31) + "y" + " ".repeat(32) + "z" + " ".repeat(33) + "w");
add("spaces-100", "[" + " ".repeat(100) + "]");
add("spaces-only-40", " ".repeat(40));
add("tabs", "a\tb\t\tc\t\t\td");
add("tabs-31-40", "\t".repeat(31) + "x" + "\t".repeat(40));
add("tab-space-mix", " \t \t\t  \t   x \t");
add("newline-1", "\n");
add("newlines-2-3", "a\n\nb\n\n\nc");
add("newlines-31", "p" + "\n".repeat(31) + "q");
add("newlines-32", "p" + "\n".repeat(32) + "q");
add("newlines-63-64", "\n".repeat(63) + "|" + "\n".repeat(64));
add("newlines-70", "\n".repeat(70));
add("newlines-100", "start" + "\n".repeat(100) + "end");
add("crlf", "line1\r\nline2\r\n\r\nline4\r\n");
add("cr-only", "a\rb\r\rc\r");
add("lf-cr-mix", "\n\r\n\r\r\n\n\n\r");
add("space-newline-mix", "a \n b  \n\n  c \n");
add("indent-spaces-newlines", "x\n    y\n        z\n\n    w\n");
add("exotic-spaces", "a\u00A0b\u2002c\u2003d\u2009e\u200Af\u202Fg\u205Fh\u3000i\u1680j");
add("zero-width", "a\u200Bb\u200Cc\u200Dd\u2060e\uFEFFf");
add("vt-ff-nel", "a\u000Bb\u000Cc\u0085d\u2028e\u2029f");

// ---- numbers ----
add("digits", "0 1 2 3 4 5 6 7 8 9 10 11 12 99 100 1000 65536");
add("long-number", "3.14159265358979323846264338327950288419716939937510582097494459");
add("numbers-mixed", "1,234,567.89 -0.5 +3e-10 6.02E23 0x1F 0b1010 1_000_000 12:34:56 2024-01-31");
add("currency", "$5.99 €10,50 £3 ¥1000 ₹250 ₩5000 ₿0.001 ¢99");
add("roman-fractions", "Ⅰ Ⅱ Ⅻ ½ ¾ ⅓ ² ³ ¹ ₀ ₁ ₂ ∞ ≈ ≠ ≤ ≥ ± × ÷");
add("phone", "+1 (555) 123-4567, +44 20 7946 0958");
add("fullwidth-digits", "０１２３４５６７８９ 一二三 壹贰叁");

// ---- punctuation ----
add("punct-runs", "!!! ??? ... --- *** ___ ,,, ;;; ::: ((( ))) [[[ ]]] {{{ }}} <<< >>> ||| /// \\\\\\");
add("punct-space", "a ? b ! c . d , e ; f : g");
add("quotes-dashes", "“Curly” ‘single’ „German“ «French» ‹one› — – ‐ … •");
add("spanish-punct", "¿Qué tal? ¡Muy bien! Año, niño.");
add("math-symbols", "∀x∈ℝ: ∃y∉∅ ⇒ x≤y ∧ ¬(x=y) ∑∏∫∂∇√∛");
add("box-drawing", "┌──┬──┐\n│a │b │\n└──┴──┘ ░▒▓█");
add("arrows-misc", "← → ↑ ↓ ↔ ⇐ ⇒ ☐ ☑ ★ ☆ ♠ ♣ ♥ ♦ ♪ ♫ ©®™ §¶†‡");

// ---- control characters, odd code points ----
add("nul", "a\u0000b\u0000\u0000c");
add("c0-controls", "\u0001\u0002\u0003\u0007\u0008\u001B[31mred\u001B[0m\u007F");
add("c1-controls", "\u0080\u0081\u009F");
add("replacement-char", "\uFFFD bad \uFFFD\uFFFD");
add("private-use", "\uE000\uF8FF \u{F0000}\u{10FFFD}");
add("noncharacters", "\uFDD0\uFFFE\uFFFF \u{1FFFF}\u{10FFFF}");
add("tags-variation", "a\u{E0061}\u{E0062} b\uFE0F c\u{E0100}");
add("supplementary-misc", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐁𝐨𝐥𝐝 𝟙𝟚𝟛 𓀀𓁐 𐍈 𝄞");

// ---- special-token look-alikes (plain mode keeps CONTROL ones as text) ----
add("bos-literal", "<bos>");
add("bos-in-text", "say <bos> and <eos> and <pad> and <unk> and <mask>");
add("turn-literal", "<|turn>user\nHi<turn|>\n<|turn>model\n");
add("think-literal", "<|think|> please");
add("tool-decl-literal", "<|tool>declaration:f{}<tool|>");
add("image-audio-video", "<|image>x<image|> <|audio>y<audio|> <|image|><|audio|><|video|>");
add("almost-special", "< bos > <bos <bos >bos> <<bos>> <|turn|> <turn> <|turn <BOS> </bos>");
add("byte-piece-literal", "<0x41><0xFF><0x0A> <0x4>");
add("chat-rendered", "<bos><|turn>system\n<|think|>\nYou are helpful.<turn|>\n<|turn>user\nHow are you?<turn|>\n<|turn>model\n");
add("start-of-turn-g3", "<start_of_turn>user\nHi<end_of_turn>");

// The 7 USER_DEFINED markers: matched whole in plain mode too.
add("marker-channel", "<|channel>thought\nreasoning here<channel|>The answer.", { plain: "hf_user_markers" }, MARK);
add("marker-tool-call", "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}<tool_call|>", { plain: "hf_user_markers" }, MARK);
add("marker-tool-response", "<|tool_response>response:get_weather{value:<|\"|>21C<|\"|>}<tool_response|>", { plain: "hf_user_markers" }, MARK);
add("marker-quote", "say <|\"|>hi<|\"|>", { plain: "hf_user_markers" }, MARK);
add("chat-with-tools", "<bos><|turn>user\nWeather?<turn|>\n<|turn>model\n<|tool_call>call:w{c:<|\"|>P<|\"|>}<tool_call|><|tool_response>", { plain: "hf_user_markers" }, MARK);

// HTML-like pieces and <unusedN>: matched whole in both modes (HF / SentencePiece).
add("html-table", "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>", { plain: "hf", special: "hf" }, HTML);
add("html-inline", "This is <b>bold</b>, <i>italic</i>, <u>u</u>, <s>strike</s>, <code>x</code>, <sub>2</sub><sup>3</sup>.", { plain: "hf", special: "hf" }, HTML);
add("html-headings", "<h1>A</h1><h2>B</h2><h6>C</h6><blockquote>q</blockquote><strong>s</strong><em>e</em>", { plain: "hf", special: "hf" }, HTML);
add("html-misc", "<a>l</a> <html></html> <body></body> <img></img> <span></span> <bbox></bbox> <ul><li>x</li></ul> <div></div> <iframe></iframe> <footer></footer> <caption></caption> <tfoot></tfoot>", { plain: "hf", special: "hf" }, HTML);
add("html-table-literal", "<table>", { plain: "hf", special: "hf" }, HTML);
add("strike-end", "</s>", { plain: "hf", special: "hf" }, HTML);
add("unused-pieces", "<unused0> <unused39> <unused99> <unused6241>", { plain: "hf", special: "hf" }, HTML);
add("multimodal-piece", "[multimodal]", { plain: "hf", special: "hf" }, HTML);
// ">▁</" is the one piece with a "▁" after another character: BPE may merge across a word start.
add("piece-across-word-start", "a> </b x > </ y>  </z <i>k</i> </p>", { plain: "hf", special: "hf" }, HTML);
add("piece-across-word-start-plain", "if (a> </b) then x > </ y and 1> </2");
add("html-lookalikes", "<TABLE> < table> <table > <tablex> <tab le> <td/> <br>");

// Literal "▁" (U+2581) in the input.
add("literal-u2581", "▁already▁escaped▁spaces");
add("literal-u2581-run", "▁▁▁▁ x ▁ y", { plain: "llama", special: "llama" }, RAW);
add("literal-u2581-then-space", "▁▁ x", { plain: "llama", special: "llama" }, RAW);

// ---- long inputs ----
let seed = 0x9E3779B9;
const rand = () => { // mulberry32
  seed = (seed + 0x6D2B79F5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rand() * a.length)];

add("a-257", "a".repeat(257));
add("ab-1000", "ab ".repeat(1000));
add("digits-3000", Array.from({ length: 3000 }, (_, i) => String(i % 10)).join(""));
add("emoji-500", Array.from({ length: 500 }, () => pick(["😀", "👍🏽", "🇯🇵", "👨‍👩‍👧", "🎉", "❤️"])).join(""));
const words = ["the", "model", "token", "runs", "on", "your", "own", "computer", "Gemma", "CPU",
  "memory", "weights", "fast", "quantized", "naïve", "café", "日本", "한국어", "русский", "العربية",
  "नमस्ते", "😀", "3.14", "42", "x_y", "foo()", "a+b", "—", "“quoted”", "don't", "e\u0301"];
const seps = [" ", " ", " ", " ", ", ", ". ", "\n", "\n\n", "  ", "\t", " - ", ": ", "; "];
let para = "";
while (para.length < 12000) para += pick(words) + pick(seps);
add("mixed-12k", para);
let code = "";
for (let i = 0; code.length < 6000; i++) {
  code += `${"    ".repeat(i % 4)}if (value_${i} >= ${i * 7} && ptr->next != nullptr) { total += arr[${i % 13}]; }\n`;
}
add("code-6k", code);

// ---- seeded random strings (no HTML/marker pieces: those have their own entries) ----
const pools = [
  () => String.fromCharCode(0x20 + Math.floor(rand() * 95)),      // printable ASCII
  () => pick([" ", "  ", "\t", "\n", "\r\n", "\n\n\n", "   "]),     // whitespace
  () => String.fromCodePoint(0xA0 + Math.floor(rand() * 0x250)),  // Latin-1..Latin Ext
  () => String.fromCodePoint(0x4E00 + Math.floor(rand() * 0x5000)), // CJK
  () => String.fromCodePoint(0xAC00 + Math.floor(rand() * 0x2BA4)), // Hangul syllables
  () => String.fromCodePoint(0x0600 + Math.floor(rand() * 0x100)),  // Arabic block
  () => String.fromCodePoint(0x0900 + Math.floor(rand() * 0x80)),   // Devanagari
  () => String.fromCodePoint(0x1F300 + Math.floor(rand() * 0x300)), // emoji & pictographs
  () => String.fromCodePoint(0x0300 + Math.floor(rand() * 0x70)),   // combining marks
  () => String.fromCodePoint(0x10000 + Math.floor(rand() * 0x20000)), // astral (mostly byte fallback)
  () => String.fromCharCode(Math.floor(rand() * 0x20)),            // C0 controls incl. NUL
  () => pick(["<", ">", "|", "<|", "|>", "</", "<0x", "▁"]),       // look-alike fragments
];
const isSurrogateFree = (s) => !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""));
for (let k = 0; k < 60; k++) {
  const len = 1 + Math.floor(rand() * (k < 40 ? 40 : 400));
  let s = "";
  for (let i = 0; i < len; i++) s += pick(pools)();
  if (!isSurrogateFree(s)) throw new Error("surrogate in random string");
  add(`random-${String(k).padStart(2, "0")}`, s);
}

const i = process.argv.indexOf("--out");
const json = "[\n" + entries.map((e) => JSON.stringify(e)).join(",\n") + "\n]\n";
if (i >= 0) fs.writeFileSync(process.argv[i + 1], json); else process.stdout.write(json);
