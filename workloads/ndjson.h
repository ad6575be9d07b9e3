#pragma once
// Incremental newline-delimited JSON splitter, for Ollama's streaming
// /api/generate and /api/chat (one JSON object per line, "\n"-terminated).
//
// Fed the body in arbitrary chunks, it calls back with each complete line,
// exactly as when fed the whole body at once. A '\r' before the '\n' is
// dropped; lines holding only spaces/tabs/'\r' are skipped (counted). It does
// not parse JSON: engine_stream.h interprets each line.
//
// A line longer than max_line_bytes sets the sticky overflowed() flag; from
// then on all input is ignored and the buffer is released. finish() at end of
// input hands over an unterminated last line (Ollama always ends its lines;
// a missing '\n' usually means the stream was cut) and sets
// ended_mid_line().
//
// Hot path: complete lines inside a chunk are handed over in place; only a
// line split across chunks is copied (into a buffer that keeps its capacity).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "workloads/callback.h"
#include "workloads/sse.h"  // kDefaultMaxEventBytes

namespace tierscope::workloads {

// The view is valid only during the callback.
using LineCallback = CallbackRef<std::string_view>;

class NdjsonSplitter {
 public:
  explicit NdjsonSplitter(std::size_t max_line_bytes = kDefaultMaxEventBytes);

  // Returns the number of lines handed over.
  std::size_t feed(std::string_view chunk, LineCallback on_line);
  // End of input: hands over an unterminated, non-blank last line.
  // Further feed() calls after finish() start a new stream.
  std::size_t finish(LineCallback on_line);
  void reset();

  bool overflowed() const { return overflowed_; }
  bool ended_mid_line() const { return ended_mid_line_; }
  std::uint64_t lines() const { return lines_; }
  std::uint64_t blank_lines() const { return blank_lines_; }
  std::uint64_t bytes() const { return bytes_; }
  std::size_t max_line_bytes() const { return max_line_bytes_; }

 private:
  void emit(std::string_view line, LineCallback& on_line);
  void overflow();

  std::size_t max_line_bytes_;
  std::string partial_;
  bool overflowed_ = false;
  bool ended_mid_line_ = false;
  std::uint64_t lines_ = 0;
  std::uint64_t blank_lines_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace tierscope::workloads
