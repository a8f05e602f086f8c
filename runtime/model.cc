#include "runtime/model.h"

#include <fmt/format.h>

#include <iterator>
#include <map>

namespace gemma {

Model Model::Load(const std::string& path, const LoadOptions& options) {
  GgufFile file = GgufFile::Open(path);
  ModelConfig config = ReadModelConfig(file);
  uint64_t huge_page_bytes = 0;
  if (options.huge_pages) {
    // Embedding tables are read a row per token and stay mapped; token_embd is also the LM head
    // (streamed whole every token) unless the file has an output.weight.
    const bool tied = file.FindTensor("output.weight") == nullptr;
    huge_page_bytes = file.CopyTensorsToHugePages([tied](const GgufTensor& t) {
      if (t.name == "per_layer_token_embd.weight") return false;
      if (t.name == "token_embd.weight") return tied;
      return t.n_dims >= 2;
    });
  }
  ModelWeights weights = BindWeights(file, config);
  return Model{std::move(file), std::move(config), std::move(weights), huge_page_bytes};
}

namespace {

std::string HumanBytes(uint64_t b) {
  if (b >= (1ull << 30)) return fmt::format("{:.2f} GiB", static_cast<double>(b) / (1ull << 30));
  if (b >= (1ull << 20)) return fmt::format("{:.2f} MiB", static_cast<double>(b) / (1ull << 20));
  if (b >= (1ull << 10)) return fmt::format("{:.2f} KiB", static_cast<double>(b) / (1ull << 10));
  return fmt::format("{} B", b);
}

}  // namespace

std::string DescribeModel(const Model& m) {
  const ModelConfig& c = m.config;
  std::string s;
  auto out = std::back_inserter(s);

  uint64_t n_params = 0;
  std::map<std::string_view, std::pair<uint64_t, uint64_t>> by_type;  // count, bytes
  for (const GgufTensor& t : m.file.Tensors()) {
    n_params += t.n_elements;
    auto& e = by_type[TypeName(t.type)];
    e.first += 1;
    e.second += t.n_bytes;
  }

  fmt::format_to(out, "file:            {}\n", m.file.Path());
  fmt::format_to(out, "format:          GGUF v{}, {} ({})\n", m.file.Version(), HumanBytes(m.file.FileSize()),
       m.file.FileSize());
  fmt::format_to(out, "name:            {}\n", c.name.empty() ? "(none)" : c.name);
  fmt::format_to(out, "variant:         Gemma 4 {}\n", c.Variant());
  fmt::format_to(out, "layers:          {}\n", c.n_layer);
  fmt::format_to(out, "hidden size:     {}\n", c.n_embd);
  fmt::format_to(out, "vocab:           {}\n", c.n_vocab);
  fmt::format_to(out, "context (train): {}\n", c.n_ctx_train);
  fmt::format_to(out, "head dim:        {} sliding, {} global\n", c.head_dim_swa, c.head_dim_full);
  fmt::format_to(out, "sliding window:  {}\n", c.sliding_window);
  fmt::format_to(out, "shared KV:       last {} layers\n", c.shared_kv_layers);
  fmt::format_to(out, "PLE width:       {}\n", c.n_embd_per_layer);
  if (c.n_expert > 0) {
    fmt::format_to(out, "experts:         {} (top {}), expert FFN {}\n", c.n_expert, c.n_expert_used,
         c.expert_ffn_dim);
  } else {
    fmt::format_to(out, "experts:         none\n");
  }
  fmt::format_to(out, "RoPE base:       {:g} global, {:g} sliding\n", c.rope_base_full, c.rope_base_swa);
  fmt::format_to(out, "logit softcap:   {:g}\n", c.final_softcap);
  fmt::format_to(out, "RMSNorm eps:     {:g}\n", c.norm_eps);
  fmt::format_to(out, "LM head:         {}\n", c.tied_lm_head ? "tied to token_embd" : "output.weight");
  fmt::format_to(out, "parameters:      {} ({:.3f} B)\n", n_params, n_params / 1e9);
  fmt::format_to(out, "tensors:         {}\n", m.file.Tensors().size());
  for (const auto& [type, e] : by_type) {
    fmt::format_to(out, "  {:<6} {:>5} tensors  {}\n", type, e.first, HumanBytes(e.second));
  }
  fmt::format_to(out, "\n");
  fmt::format_to(out, "layer  type     head_dim  heads  kv_heads  ffn     kv_source   v     ffn_block\n");
  for (const LayerConfig& l : c.layers) {
    const std::string src = l.OwnsKv() ? "own" : fmt::format("layer {}", l.kv_source);
    fmt::format_to(out, "{:>5}  {:<7}  {:>8}  {:>5}  {:>8}  {:>6}  {:<10}  {:<4}  {}\n", l.index,
         l.sliding ? "sliding" : "global", l.head_dim, l.n_head, l.n_kv_head, l.ffn_dim, src,
         l.has_v ? "V" : "V=K", l.moe ? "dense+moe" : "dense");
  }
  return s;
}

}  // namespace gemma
