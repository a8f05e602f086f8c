#include "runtime/text_codec.h"

namespace gemma {

std::string TextCodec::Decode(int32_t id) const {
  std::string out;
  if (id >= 0 && id < Size()) tok_.AppendDecoded(id, {}, out);
  return out;
}

std::string TextCodec::Decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id >= 0 && id < Size()) tok_.AppendDecoded(id, {}, out);
  }
  return out;
}

}  // namespace gemma
