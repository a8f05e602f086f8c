// A growable, 64-byte aligned scratch array that keeps its memory when shrunk, so per-call
// buffers of the matmul front end cost no allocation after the first call of a given size.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace gemma {

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(data_); }

  // Contents are not preserved when the buffer grows.
  void Resize(size_t n) {
    if (n > capacity_) {
      std::free(data_);
      const size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
      data_ = static_cast<T*>(std::aligned_alloc(64, bytes));
      if (!data_) throw std::bad_alloc();
      capacity_ = n;
    }
    size_ = n;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace gemma
