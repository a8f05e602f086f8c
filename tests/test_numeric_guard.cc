// The numerical guard: inf/nan in the residual stream or the logits stops evaluation with an
// error naming the file and the layer where it first appeared, and leaves the session as it was.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>

#include "runtime/error.h"
#include "runtime/model.h"
#include "runtime/numeric_guard.h"
#include "runtime/session.h"
#include "tests/fuzz/seeds.h"
#include "test_util.h"

using namespace gemma;

TEST_CASE("AllFinite finds inf and nan anywhere", "[guard]") {
  for (size_t n : {1, 7, 16, 33, 1000}) {
    std::vector<float> x(n, 1.5f);
    CHECK(AllFinite(x.data(), n));
    x[n / 2] = -std::numeric_limits<float>::max();
    CHECK(AllFinite(x.data(), n));
    for (float bad : {INFINITY, -INFINITY, std::nanf(""), -std::nanf("")}) {
      for (size_t at : {size_t{0}, n / 3, n - 1}) {
        std::vector<float> y = x;
        y[at] = bad;
        INFO(n << " " << at << " " << bad);
        CHECK_FALSE(AllFinite(y.data(), n));
      }
    }
  }
}

TEST_CASE("CheckFinite names the file, the layer, the value and the position", "[guard]") {
  std::vector<float> x(3 * 4, 0.0f);
  const int64_t pos[3] = {10, 11, 12};
  CHECK_NOTHROW(CheckFinite(x.data(), 3, 4, pos, "m.gguf", "", 5));
  x[2 * 4 + 1] = -INFINITY;
  try {
    CheckFinite(x.data(), 3, 4, pos, "m.gguf", "", 5);
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("m.gguf: non-finite activations (-inf) after layer 5 at position 12"));
  }
  x[0] = std::nanf("");
  CHECK_THROWS_WITH(CheckFinite(x.data(), 3, 4, pos, "m.gguf", "the token embedding"),
                    Catch::StartsWith("m.gguf: non-finite activations (nan) after the token embedding at position 10"));
}

namespace {

// A small Q8_0 model with `edit` applied to its bytes, written to a scratch file.
std::string BrokenModel(const std::string& preset, const std::string& name,
                        const std::function<void(GgufFile&, std::vector<uint8_t>&)>& edit) {
  SynthOptions opt;
  opt.type = "Q8_0";
  std::vector<uint8_t> b = BuildSynthWriter(fuzz::SmallSpec(preset), opt).WriteToBytes();
  GgufFile f = GgufFile::FromBytes(b, "x");
  edit(f, b);
  const std::string path = test::ScratchPath(name);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return path;
}

// Sets the f16 scale of the first block of `row` of `tensor` to +inf.
void InfScale(const GgufFile& f, std::vector<uint8_t>& b, const char* tensor, uint64_t row) {
  const GgufTensor* t = f.FindTensor(tensor);
  const size_t pos = f.DataOffset() + t->offset + row * t->RowBytes();
  b[pos] = 0x00;
  b[pos + 1] = 0x7c;
}

}  // namespace

TEST_CASE("an overflowing layer is reported instead of sampled", "[guard]") {
  const std::string path = BrokenModel("tiny", "inf-ffn-up.gguf", [](GgufFile& f, std::vector<uint8_t>& b) {
    InfScale(f, b, "blk.1.ffn_up.weight", 0);
  });
  const Model model = Model::Load(path);
  Session session(model);
  const std::vector<int32_t> ids = {2, 40, 41};
  CHECK_THROWS_WITH(session.Evaluate(ids, LogitsMode::kLast),
                    Catch::StartsWith(path + ": non-finite activations") && Catch::Contains("after layer 1 at position 0"));
  CHECK(session.Position() == 0);
}

TEST_CASE("a failing later chunk leaves the session unchanged", "[guard]") {
  // Token 7's per-layer embedding row is inf (the main embedding cannot be used for this: it
  // is also the LM head, so every token's logits would be broken).
  const std::string path = BrokenModel("tiny-e", "inf-ple.gguf", [](GgufFile& f, std::vector<uint8_t>& b) {
    InfScale(f, b, "per_layer_token_embd.weight", 7);
  });
  const Model model = Model::Load(path);
  SessionOptions opt;
  opt.batch = 2;
  Session session(model, opt);
  const std::vector<int32_t> good = {2, 40};
  REQUIRE_NOTHROW(session.Evaluate(good, LogitsMode::kNone));
  const std::vector<int32_t> ids = {41, 42, 43, 7};
  CHECK_THROWS_WITH(session.Evaluate(ids, LogitsMode::kLast),
                    Catch::Contains("after layer 0 at position 5"));
  CHECK(session.Position() == 2);
  CHECK(session.Tokens() == good);
  // The session still works for good tokens.
  const std::vector<float> logits = session.Evaluate(std::vector<int32_t>{41}, LogitsMode::kLast);
  CHECK(AllFinite(logits.data(), logits.size()));
}
