#include "tokenizer/bpe.h"

#include <algorithm>

#include "runtime/error.h"
#include "tokenizer/utf8.h"

namespace gemma {

// The std heap functions keep the "largest" element on top, so "less" means "merges later":
// the top is the lowest rank, and the leftmost pair among equal ranks.
bool BpeEncoder::Later(const Candidate& a, const Candidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
}

void BpeEncoder::PushPair(int32_t left) {
  if (left < 0) return;
  const Symbol& l = symbols_[left];
  if (l.next < 0) return;
  const Symbol& r = symbols_[l.next];
  if (l.id == Vocab::kNone || r.id == Vocab::kNone) return;
  const Vocab::Merge* m = vocab_.FindMerge(l.id, r.id);
  if (!m) return;
  heap_.push_back({m->rank, left});
  std::push_heap(heap_.begin(), heap_.end(), Later);
}

void BpeEncoder::EmitBytes(std::string_view bytes, std::vector<int32_t>& out) const {
  bool all = true;
  for (char c : bytes) all = all && vocab_.ByteId(static_cast<uint8_t>(c)) != Vocab::kNone;
  if (all) {
    for (char c : bytes) out.push_back(vocab_.ByteId(static_cast<uint8_t>(c)));
    return;
  }
  // A vocabulary without byte pieces: one <unk> per character, consecutive ones fused, as
  // Hugging Face's BPE does with fuse_unk (Gemma's real vocabulary has all 256 byte pieces).
  if (vocab_.unk_id == Vocab::kNone) {
    Fail("cannot encode the byte 0x{:02X}: the vocabulary has neither <0x{:02X}> nor <unk>",
         static_cast<uint8_t>(bytes[0]), static_cast<uint8_t>(bytes[0]));
  }
  if (out.empty() || out.back() != vocab_.unk_id) out.push_back(vocab_.unk_id);
}

void BpeEncoder::Encode(std::string_view run, std::vector<int32_t>& out) {
  if (run.empty()) return;
  symbols_.clear();
  heap_.clear();
  for (size_t pos = 0; pos < run.size();) {
    const utf8::Char c = utf8::Next(run, pos);
    // Ill-formed bytes become one-byte symbols with no piece: they can take part in no merge
    // (every merge joins pieces, which are well-formed) and fall back to their byte pieces.
    const uint32_t len = c.status == utf8::Status::kOk ? c.len : 1;
    const int32_t id = c.status == utf8::Status::kOk ? vocab_.CharId(c.cp) : Vocab::kNone;
    const int32_t index = static_cast<int32_t>(symbols_.size());
    symbols_.push_back({id, static_cast<uint32_t>(pos), len, index - 1, index + 1});
    pos += len;
  }
  symbols_.back().next = -1;
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols_.size()); ++i) PushPair(i);

  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), Later);
    const Candidate top = heap_.back();
    heap_.pop_back();
    Symbol& l = symbols_[top.left];
    // Stale if the left symbol was merged away, or its right neighbour changed since the pair
    // was queued: a rank names exactly one pair, so an equal rank means the same pair.
    if (l.len == 0 || l.next < 0) continue;
    Symbol& r = symbols_[l.next];
    const Vocab::Merge* m = vocab_.FindMerge(l.id, r.id);
    if (!m || m->rank != top.rank) continue;
    l.id = m->result;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols_[r.next].prev = top.left;
    PushPair(l.prev);
    PushPair(top.left);
  }

  for (int32_t i = 0; i >= 0; i = symbols_[i].next) {
    const Symbol& s = symbols_[i];
    if (s.id != Vocab::kNone) {
      out.push_back(s.id);
    } else {
      EmitBytes(run.substr(s.start, s.len), out);
    }
  }
}

}  // namespace gemma
