// Tokenizer::FromGguf: the tokenizer.* keys llama.cpp's converter writes for Gemma 4
// (spec/tokenizer.md §7): tokens, token_type, scores, merges ("left right" in rank order) and
// the special ids. Every key is checked for type and length before use.
#include "runtime/error.h"
#include "runtime/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace gemma {

namespace {

const GgufValue* FindArray(const GgufFile& f, std::string_view key, bool required) {
  const GgufValue* v = f.Find(key);
  if (!v) {
    if (required) Fail("{}: no key '{}' (expected the Gemma 4 tokenizer metadata)", f.Path(), key);
    return nullptr;
  }
  if (!v->IsArray()) {
    Fail("{}: key '{}' has type {}, expected an array", f.Path(), key, GgufTypeName(v->type));
  }
  return v;
}

int64_t OptionalId(const GgufFile& f, std::string_view key) {
  const GgufValue* v = f.Find(key);
  if (!v) return -1;
  if (!v->IsInteger()) {
    Fail("{}: key '{}' has type {}, expected an integer token id", f.Path(), key,
         GgufTypeName(v->type));
  }
  const int64_t id = v->AsInt();
  if (id < 0) Fail("{}: key '{}' is {}, expected a token id >= 0", f.Path(), key, id);
  return id;
}

bool IsIntegerType(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::U16:
    case GgufType::I16:
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::U64:
    case GgufType::I64:
      return true;
    default:
      return false;
  }
}

}  // namespace

Tokenizer Tokenizer::FromGguf(const GgufFile& f) {
  const std::string& path = f.Path();
  const GgufValue* model = f.Find("tokenizer.ggml.model");
  if (!model) Fail("{}: no key 'tokenizer.ggml.model' (expected \"gemma4\")", path);
  if (model->type != GgufType::STRING) {
    Fail("{}: key 'tokenizer.ggml.model' has type {}, expected STRING", path,
         GgufTypeName(model->type));
  }
  if (model->AsString() != "gemma4") {
    Fail("{}: tokenizer.ggml.model is \"{}\", expected \"gemma4\" (the Gemma 4 BPE tokenizer)",
         path, utf8::Escape(model->AsString()));
  }

  VocabSource src;
  src.name = path;
  const GgufValue* tokens = FindArray(f, "tokenizer.ggml.tokens", true);
  if (tokens->ElemType() != GgufType::STRING) {
    Fail("{}: tokenizer.ggml.tokens holds {}, expected STRING", path,
         GgufTypeName(tokens->ElemType()));
  }
  const uint64_t n = tokens->Size();
  src.tokens.assign(tokens->Strings().begin(), tokens->Strings().end());

  if (const GgufValue* types = FindArray(f, "tokenizer.ggml.token_type", false)) {
    if (!IsIntegerType(types->ElemType())) {
      Fail("{}: tokenizer.ggml.token_type holds {}, expected INT32", path,
           GgufTypeName(types->ElemType()));
    }
    if (types->Size() != n) {
      Fail("{}: tokenizer.ggml.token_type has {} entries, expected {} (one per token)", path,
           types->Size(), n);
    }
    src.types.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      const int64_t t = types->Element(i).AsInt();
      if (t < 0 || t > 6) Fail("{}: tokenizer.ggml.token_type[{}] is {}, expected 0..6", path, i, t);
      src.types[i] = static_cast<int32_t>(t);
    }
  }
  // Scores are not used by Gemma 4's BPE (all -1000 in real files), but a file whose scores do
  // not line up with its tokens is broken, so say so.
  if (const GgufValue* scores = FindArray(f, "tokenizer.ggml.scores", false)) {
    if (scores->ElemType() != GgufType::F32) {
      Fail("{}: tokenizer.ggml.scores holds {}, expected FLOAT32", path,
           GgufTypeName(scores->ElemType()));
    }
    if (scores->Size() != n) {
      Fail("{}: tokenizer.ggml.scores has {} entries, expected {} (one per token)", path,
           scores->Size(), n);
    }
  }

  const GgufValue* merges = FindArray(f, "tokenizer.ggml.merges", true);
  if (merges->ElemType() != GgufType::STRING) {
    Fail("{}: tokenizer.ggml.merges holds {}, expected STRING", path,
         GgufTypeName(merges->ElemType()));
  }
  src.merges.reserve(merges->Size());
  for (uint64_t i = 0; i < merges->Size(); ++i) {
    const std::string_view m = merges->StringAt(i);
    // Pieces never contain a space (spaces are "▁"), so the first space after the first byte
    // separates the two parts, as llama.cpp reads them.
    const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
    if (sp == std::string_view::npos) {
      Fail("{}: tokenizer.ggml.merges[{}] is '{}', expected two pieces separated by a space",
           path, i, utf8::Escape(m));
    }
    src.merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
  }

  src.bos_id = OptionalId(f, "tokenizer.ggml.bos_token_id");
  src.eos_id = OptionalId(f, "tokenizer.ggml.eos_token_id");
  src.unk_id = OptionalId(f, "tokenizer.ggml.unknown_token_id");
  src.pad_id = OptionalId(f, "tokenizer.ggml.padding_token_id");

  std::string chat_template;
  if (const GgufValue* t = f.Find("tokenizer.chat_template")) {
    if (t->type != GgufType::STRING) {
      Fail("{}: key 'tokenizer.chat_template' has type {}, expected STRING", path,
           GgufTypeName(t->type));
    }
    chat_template = std::string(t->AsString());
  }
  return FromSource(src, std::move(chat_template));
}

}  // namespace gemma
