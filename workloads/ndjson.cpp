#include "workloads/ndjson.h"

#include <cstring>

namespace tierscope::workloads {

NdjsonSplitter::NdjsonSplitter(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

void NdjsonSplitter::reset() {
  partial_.clear();
  overflowed_ = ended_mid_line_ = false;
  lines_ = blank_lines_ = bytes_ = 0;
}

void NdjsonSplitter::overflow() {
  overflowed_ = true;
  std::string().swap(partial_);
}

void NdjsonSplitter::emit(std::string_view line, LineCallback& on_line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
    ++blank_lines_;
    return;
  }
  ++lines_;
  on_line(line);
}

std::size_t NdjsonSplitter::feed(std::string_view chunk, LineCallback on_line) {
  const std::uint64_t before = lines_;
  bytes_ += chunk.size();
  const char* p = chunk.data();
  std::size_t pos = 0;
  const std::size_t n = chunk.size();
  while (pos < n && !overflowed_) {
    const char* start = p + pos;
    const std::size_t rest = n - pos;
    const auto* lf = static_cast<const char*>(std::memchr(start, '\n', rest));
    if (!lf) {
      if (partial_.size() + rest > max_line_bytes_) {
        overflow();
        break;
      }
      partial_.append(start, rest);
      break;
    }
    const auto length = static_cast<std::size_t>(lf - start);
    pos += length + 1;
    if (partial_.empty()) {
      if (length > max_line_bytes_) {
        overflow();
        break;
      }
      emit({start, length}, on_line);
    } else {
      if (partial_.size() + length > max_line_bytes_) {
        overflow();
        break;
      }
      partial_.append(start, length);
      emit(partial_, on_line);
      partial_.clear();
    }
  }
  return static_cast<std::size_t>(lines_ - before);
}

std::size_t NdjsonSplitter::finish(LineCallback on_line) {
  const std::uint64_t before = lines_;
  if (!overflowed_ && !partial_.empty()) {
    std::string line;
    line.swap(partial_);
    if (line.find_first_not_of(" \t\r") != std::string::npos) ended_mid_line_ = true;
    emit(line, on_line);
  }
  return static_cast<std::size_t>(lines_ - before);
}

}  // namespace tierscope::workloads
