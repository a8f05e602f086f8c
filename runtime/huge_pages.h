// Anonymous memory backed by transparent huge pages, for the weights every decode step streams.
// Streaming 1.2 GB per token from the 4 KiB pages of a file mapping costs a TLB miss per page and
// a hardware-prefetcher restart at every page boundary; the same bytes copied into 2 MiB pages
// decode 10-15% faster (E2B Q4_0, one thread: README, "Performance").
#pragma once

#include <cstddef>
#include <cstdint>

namespace gemma {

// The size of a transparent huge page when a process may ask for them with madvise (THP mode
// "always" or "madvise"), else 0.
size_t TransparentHugePageSize();

// MemAvailable from /proc/meminfo in bytes, or 0 when it cannot be read.
uint64_t AvailableMemoryBytes();

// Drops this process's pages of [p, p + n) of a read-only file mapping (whole pages inside the
// range only). The bytes stay in the page cache; the mapping still reads them back if touched.
void ReleaseMappedPages(const uint8_t* p, size_t n);

// At least `bytes` of zeroed anonymous memory, aligned to `page` and advised to use huge pages.
class HugePageBuffer {
 public:
  HugePageBuffer(size_t bytes, size_t page);  // throws std::bad_alloc
  ~HugePageBuffer();
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;

  uint8_t* data() const { return data_; }

 private:
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  uint8_t* data_ = nullptr;
};

}  // namespace gemma
