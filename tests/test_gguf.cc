// GGUF reader and writer: round trips of every value type, and hostile bytes that must end in one
// gemma::Error (never a crash or an out-of-bounds read; the sanitizer build checks the latter).
#include <catch2/catch.hpp>

#include <cstring>
#include <limits>

#include "runtime/error.h"
#include "runtime/gguf.h"
#include "runtime/gguf_writer.h"
#include "test_util.h"

using namespace gemma;
using V = GgufWriteValue;

namespace {

GgufWriter SmallWriter() {
  GgufWriter w;
  w.Set("u8", V::U8(200));
  w.Set("i8", V::I8(-100));
  w.Set("u16", V::U16(60000));
  w.Set("i16", V::I16(-30000));
  w.Set("u32", V::U32(4000000000u));
  w.Set("i32", V::I32(-2000000000));
  w.Set("u64", V::U64(0xfedcba9876543210ull));
  w.Set("i64", V::I64(std::numeric_limits<int64_t>::min()));
  w.Set("f32", V::F32(1.5f));
  w.Set("f64", V::F64(-2.25));
  w.Set("bool", V::Bool(true));
  w.Set("str", V::String("h\xc3\xa9llo"));
  w.Set("arr_i32", V::ArrayI32({1, -2, 3}));
  w.Set("arr_bool", V::ArrayBool({true, false, true}));
  w.Set("arr_str", V::ArrayString({"a", "", "ccc"}));
  w.Set("nested", V::Array(GgufType::ARRAY, {V::ArrayI32({1, 2}), V::ArrayI32({}),
                                             V::ArrayString({"x"})}));
  std::vector<uint8_t> t0(4 * 8);
  for (int i = 0; i < 8; ++i) {
    const float f = static_cast<float>(i) * 0.5f;
    std::memcpy(t0.data() + 4 * i, &f, 4);
  }
  w.AddTensorData("t0", GgmlType::F32, {4, 2}, t0);
  w.AddTensorData("t1", GgmlType::Q8_0, {32}, std::vector<uint8_t>(34, 7));
  return w;
}

std::vector<uint8_t> SmallFile() { return SmallWriter().WriteToBytes(); }

template <typename T>
void Poke(std::vector<uint8_t>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof(T));
}

// Offset of the first occurrence of `needle` in the bytes.
size_t Find(const std::vector<uint8_t>& b, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= b.size(); ++i) {
    if (std::memcmp(b.data() + i, needle.data(), needle.size()) == 0) return i;
  }
  FAIL("needle not found");
  return 0;
}

std::string ErrorOf(std::vector<uint8_t> bytes) {
  try {
    GgufFile::FromBytes(std::move(bytes), "bad.gguf");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("GGUF round trip of every metadata type", "[gguf]") {
  const GgufFile f = GgufFile::FromBytes(SmallFile(), "mem.gguf");
  CHECK(f.Version() == 3);
  CHECK(f.Find("u8")->AsUInt() == 200);
  CHECK(f.Find("i8")->AsInt() == -100);
  CHECK(f.Find("u16")->AsUInt() == 60000);
  CHECK(f.Find("i16")->AsInt() == -30000);
  CHECK(f.Find("u32")->AsUInt() == 4000000000u);
  CHECK(f.Find("i32")->AsInt() == -2000000000);
  CHECK(f.Find("u64")->AsUInt() == 0xfedcba9876543210ull);
  CHECK(f.Find("i64")->AsInt() == std::numeric_limits<int64_t>::min());
  CHECK(f.Find("f32")->AsDouble() == 1.5);
  CHECK(f.Find("f64")->AsDouble() == -2.25);
  CHECK(f.Find("bool")->AsBool());
  CHECK(f.Find("str")->AsString() == "h\xc3\xa9llo");
  const GgufValue* a = f.Find("arr_i32");
  REQUIRE(a->IsArray());
  CHECK(a->ElemType() == GgufType::I32);
  CHECK(a->Size() == 3);
  CHECK(a->Element(1).AsInt() == -2);
  CHECK(f.Find("arr_bool")->Element(2).AsBool());
  CHECK(f.Find("arr_str")->StringAt(2) == "ccc");
  CHECK(f.Find("arr_str")->StringAt(1).empty());
  const GgufValue* n = f.Find("nested");
  REQUIRE(n->Size() == 3);
  CHECK(n->ArrayAt(0).Element(1).AsInt() == 2);
  CHECK(n->ArrayAt(1).Size() == 0);
  CHECK(n->ArrayAt(2).StringAt(0) == "x");
  CHECK(f.Find("missing") == nullptr);

  REQUIRE(f.Tensors().size() == 2);
  const GgufTensor* t0 = f.FindTensor("t0");
  REQUIRE(t0);
  CHECK(t0->ne[0] == 4);
  CHECK(t0->ne[1] == 2);
  CHECK(t0->n_bytes == 32);
  CHECK(t0->Rows() == 2);
  CHECK((t0->data - f.Tensors()[0].data) == 0);
  CHECK(t0->data == f.DataOffset() + f.Tensors()[0].data - f.DataOffset());
  float v;
  std::memcpy(&v, t0->data + 4 * 7, 4);
  CHECK(v == 3.5f);
  const GgufTensor* t1 = f.FindTensor("t1");
  CHECK(t1->type == GgmlType::Q8_0);
  CHECK(t1->offset % 32 == 0);
  CHECK(t1->data[33] == 7);
  CHECK(f.DataOffset() % 32 == 0);
}

TEST_CASE("GGUF copy of values reproduces the same bytes", "[gguf]") {
  const std::vector<uint8_t> bytes = SmallFile();
  const GgufFile f = GgufFile::FromBytes(bytes, "mem.gguf");
  GgufWriter w;
  for (const auto& [k, v] : f.Metadata()) w.Set(k, V::Copy(v));
  for (const GgufTensor& t : f.Tensors()) {
    w.AddTensorData(std::string(t.name), t.type, {t.ne.begin(), t.ne.begin() + t.n_dims},
                    std::vector<uint8_t>(t.data, t.data + t.n_bytes));
  }
  CHECK(w.WriteToBytes() == bytes);
}

TEST_CASE("GGUF v2 files read the same", "[gguf]") {
  GgufWriter w = SmallWriter();
  w.SetVersion(2);
  const GgufFile f = GgufFile::FromBytes(w.WriteToBytes(), "v2.gguf");
  CHECK(f.Version() == 2);
  CHECK(f.Find("i32")->AsInt() == -2000000000);
}

TEST_CASE("GGUF alignment other than 32 is honoured", "[gguf]") {
  GgufWriter w = SmallWriter();
  w.SetAlignment(64);
  const GgufFile f = GgufFile::FromBytes(w.WriteToBytes(), "a64.gguf");
  CHECK(f.Alignment() == 64);
  CHECK(f.DataOffset() % 64 == 0);
  CHECK(f.FindTensor("t1")->offset == 64);
}

TEST_CASE("GGUF file written to disk is mapped and read back", "[gguf]") {
  const std::string path = test::ScratchPath("small.gguf");
  SmallWriter().Write(path);
  const GgufFile f = GgufFile::Open(path);
  CHECK(f.FileSize() == SmallFile().size());
  CHECK(f.FindTensor("t1")->data[0] == 7);
}

TEST_CASE("GGUF truncated at every offset fails cleanly", "[gguf][bad]") {
  const std::vector<uint8_t> bytes = SmallFile();
  // Cutting only the zero padding after the last tensor leaves a complete file.
  const GgufFile whole = GgufFile::FromBytes(bytes, "whole.gguf");
  const GgufTensor& last = whole.Tensors().back();
  const size_t data_end = whole.DataOffset() + last.offset + last.n_bytes;
  REQUIRE(data_end < bytes.size());
  CHECK_NOTHROW(GgufFile::FromBytes(std::vector<uint8_t>(bytes.begin(), bytes.begin() + data_end), "cut.gguf"));
  for (size_t n = 0; n < data_end; ++n) {
    const std::string err = ErrorOf(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n));
    INFO("truncated to " << n << " bytes");
    REQUIRE(!err.empty());
    REQUIRE(err.find("bad.gguf") == 0);
  }
}

TEST_CASE("GGUF hostile headers give one clear error", "[gguf][bad]") {
  const std::vector<uint8_t> good = SmallFile();
  SECTION("wrong magic") {
    auto b = good;
    b[0] = 'X';
    CHECK_THAT(ErrorOf(b), Catch::Contains("not a GGUF file"));
  }
  SECTION("unsupported version") {
    auto b = good;
    Poke<uint32_t>(b, 4, 1);
    CHECK_THAT(ErrorOf(b), Catch::Contains("version 1 is not supported"));
    Poke<uint32_t>(b, 4, 99);
    CHECK_THAT(ErrorOf(b), Catch::Contains("version 99"));
  }
  SECTION("huge tensor count") {
    auto b = good;
    Poke<uint64_t>(b, 8, ~0ull);
    CHECK_THAT(ErrorOf(b), Catch::Contains("tensor count"));
  }
  SECTION("huge metadata count") {
    auto b = good;
    Poke<uint64_t>(b, 16, 1ull << 62);
    CHECK_THAT(ErrorOf(b), Catch::Contains("metadata count"));
  }
  SECTION("string length past the end") {
    auto b = good;
    Poke<uint64_t>(b, 24, 1ull << 40);  // length of the first key
    CHECK_THAT(ErrorOf(b), Catch::Contains("truncated"));
  }
  SECTION("unknown value type") {
    auto b = good;
    const size_t key = Find(b, "u8");
    Poke<uint32_t>(b, key + 2, 77);
    CHECK_THAT(ErrorOf(b), Catch::Contains("unknown value type 77"));
  }
  SECTION("array count overflowing the file") {
    auto b = good;
    const size_t key = Find(b, "arr_i32");
    Poke<uint64_t>(b, key + 7 + 4 + 4, 1ull << 61);  // count * 4 overflows 64 bits
    CHECK_THAT(ErrorOf(b), Catch::Contains("runs past the end"));
  }
  SECTION("string array count past the end") {
    auto b = good;
    const size_t key = Find(b, "arr_str");
    Poke<uint64_t>(b, key + 7 + 4 + 4, 1ull << 40);
    CHECK_THAT(ErrorOf(b), Catch::Contains("runs past the end"));
  }
  SECTION("boolean byte that is not 0 or 1") {
    auto b = good;
    const size_t key = Find(b, "bool");
    b[key + 4 + 4] = 2;
    CHECK_THAT(ErrorOf(b), Catch::Contains("boolean byte 2"));
  }
  SECTION("tensor with an unknown type") {
    auto b = good;
    const size_t name = Find(b, "t1");
    // name, n_dims u32, ne[0] u64, type u32
    Poke<uint32_t>(b, name + 2 + 4 + 8, 1234);
    CHECK_THAT(ErrorOf(b), Catch::Contains("tensor 't1': unknown weight type 1234"));
  }
  SECTION("tensor with too many dimensions") {
    auto b = good;
    const size_t name = Find(b, "t0");
    Poke<uint32_t>(b, name + 2, 5);
    CHECK_THAT(ErrorOf(b), Catch::Contains("5 dimensions"));
  }
  SECTION("tensor dims whose product overflows") {
    auto b = good;
    const size_t name = Find(b, "t0");
    Poke<uint64_t>(b, name + 2 + 4, 1ull << 40);
    Poke<uint64_t>(b, name + 2 + 4 + 8, 1ull << 40);
    CHECK_THAT(ErrorOf(b), Catch::Contains("element count overflows"));
  }
  SECTION("row length not a multiple of the block") {
    auto b = good;
    const size_t name = Find(b, "t1");
    Poke<uint64_t>(b, name + 2 + 4, 31);
    CHECK_THAT(ErrorOf(b), Catch::Contains("not a multiple of the Q8_0 block size"));
  }
  SECTION("tensor offset past the end") {
    auto b = good;
    const size_t name = Find(b, "t1");
    Poke<uint64_t>(b, name + 2 + 4 + 8 + 4, 1ull << 20);
    CHECK_THAT(ErrorOf(b), Catch::Contains("runs past the end of the file"));
  }
  SECTION("tensor offset near 2^64 does not wrap") {
    auto b = good;
    const size_t name = Find(b, "t1");
    Poke<uint64_t>(b, name + 2 + 4 + 8 + 4, ~0ull - 31);
    CHECK_THAT(ErrorOf(b), Catch::Contains("runs past the end of the file"));
  }
  SECTION("misaligned tensor offset") {
    auto b = good;
    const size_t name = Find(b, "t1");
    Poke<uint64_t>(b, name + 2 + 4 + 8 + 4, 33);
    CHECK_THAT(ErrorOf(b), Catch::Contains("not a multiple of the alignment"));
  }
  SECTION("duplicate tensor names") {
    auto b = good;
    const size_t name = Find(b, "t1");
    b[name + 1] = '0';
    CHECK_THAT(ErrorOf(b), Catch::Contains("tensor 't0' appears twice"));
  }
  SECTION("duplicate keys") {
    auto b = good;
    const size_t key = Find(b, "i8");
    b[key] = 'u';
    CHECK_THAT(ErrorOf(b), Catch::Contains("'u8' appears twice"));
  }
}

TEST_CASE("GGUF bad alignment values are refused", "[gguf][bad]") {
  GgufWriter w = SmallWriter();
  w.Set("general.alignment", V::U32(48));
  CHECK_THAT(ErrorOf(w.WriteToBytes()), Catch::Contains("power of two"));
  w.Set("general.alignment", V::U32(4));  // the GGUF spec requires a multiple of 8
  CHECK_THAT(ErrorOf(w.WriteToBytes()), Catch::Contains("is 4, expected a power of two from 8"));
  w.Set("general.alignment", V::String("32"));
  CHECK_THAT(ErrorOf(w.WriteToBytes()), Catch::Contains("expected UINT32"));
}

TEST_CASE("GGUF nested arrays too deep are refused", "[gguf][bad]") {
  V v = V::ArrayI32({1});
  for (int i = 0; i < 12; ++i) v = V::Array(GgufType::ARRAY, {v});
  GgufWriter w;
  w.Set("deep", v);
  CHECK_THAT(ErrorOf(w.WriteToBytes()), Catch::Contains("nested too deeply"));
}

TEST_CASE("GGUF open reports missing files and directories", "[gguf][bad]") {
  try {
    GgufFile::Open("/nonexistent/model.gguf");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("/nonexistent/model.gguf: cannot open"));
  }
  try {
    GgufFile::Open(test::ScratchDir().string());
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("not a regular file"));
  }
  const std::string empty = test::ScratchPath("empty.gguf");
  std::fclose(std::fopen(empty.c_str(), "wb"));
  try {
    GgufFile::Open(empty);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("truncated"));
  }
}
