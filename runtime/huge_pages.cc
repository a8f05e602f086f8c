#include "runtime/huge_pages.h"

#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <new>
#include <sstream>
#include <string>

namespace gemma {

size_t TransparentHugePageSize() {
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(mode, line) || line.find("[never]") != std::string::npos) return 0;
  if (line.find("[always]") == std::string::npos && line.find("[madvise]") == std::string::npos) {
    return 0;
  }
  std::ifstream size("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
  size_t bytes = 0;
  if (!(size >> bytes) || bytes == 0 || (bytes & (bytes - 1)) != 0) return 0;
  return bytes;
}

uint64_t AvailableMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    uint64_t kib = 0;
    if (fields >> kib) return kib * 1024;
  }
  return 0;
}

void ReleaseMappedPages(const uint8_t* p, size_t n) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
  // Advisory: a failure only leaves the pages resident.
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

HugePageBuffer::HugePageBuffer(size_t bytes, size_t page) {
  const size_t rounded = (bytes + page - 1) / page * page;
  map_bytes_ = rounded + page;  // room to align the start to a huge page
  map_ = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw std::bad_alloc();
  }
  const uintptr_t start = (reinterpret_cast<uintptr_t>(map_) + page - 1) / page * page;
  data_ = reinterpret_cast<uint8_t*>(start);
  madvise(data_, rounded, MADV_HUGEPAGE);  // advisory, like ReleaseMappedPages
}

HugePageBuffer::~HugePageBuffer() {
  if (map_) munmap(map_, map_bytes_);
}

}  // namespace gemma
