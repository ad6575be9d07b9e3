#include "workloads/sse.h"

#include <cstring>

namespace tierscope::workloads {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// `retry` takes effect only when its value is all ASCII digits (spec); a value
// too large for 64 bits is ignored as well.
std::optional<std::uint64_t> parse_retry(std::string_view value) {
  if (value.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

}  // namespace

SseParser::SseParser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) { type_.reserve(16); }

void SseParser::reset() {
  partial_.clear();
  data_.clear();
  error_.clear();
  type_.clear();
  last_id_.clear();
  has_data_ = has_error_ = skip_lf_ = overflowed_ = ended_mid_event_ = false;
  first_line_ = true;
  retry_ms_.reset();
  comments_ = events_ = lines_ = bytes_ = 0;
}

void SseParser::overflow() {
  overflowed_ = true;
  // Release the memory: an overflowed stream is finished for us.
  std::string().swap(partial_);
  std::string().swap(data_);
  std::string().swap(error_);
  has_data_ = has_error_ = false;
}

std::size_t SseParser::feed(std::string_view chunk, SseCallback on_event) {
  const std::uint64_t events_before = events_;
  bytes_ += chunk.size();
  const char* p = chunk.data();
  std::size_t pos = 0;
  const std::size_t n = chunk.size();
  while (pos < n && !overflowed_) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (p[pos] == '\n') {
        ++pos;
        continue;
      }
    }
    const char* start = p + pos;
    const std::size_t rest = n - pos;
    const auto* lf = static_cast<const char*>(std::memchr(start, '\n', rest));
    const std::size_t segment = lf ? static_cast<std::size_t>(lf - start) : rest;
    const auto* cr = static_cast<const char*>(std::memchr(start, '\r', segment));
    std::size_t line_length;
    if (cr) {
      line_length = static_cast<std::size_t>(cr - start);
      skip_lf_ = true;  // CRLF: the LF right after is part of this terminator
    } else if (lf) {
      line_length = segment;
    } else {
      // No terminator in this chunk: keep the piece for the next one.
      if (partial_.size() + rest > max_event_bytes_) {
        overflow();
        break;
      }
      partial_.append(start, rest);
      pos = n;
      break;
    }
    pos += line_length + 1;
    if (partial_.empty()) {
      if (line_length > max_event_bytes_) {
        overflow();
        break;
      }
      process_line({start, line_length}, on_event);
    } else {
      if (partial_.size() + line_length > max_event_bytes_) {
        overflow();
        break;
      }
      partial_.append(start, line_length);
      process_line(partial_, on_event);
      partial_.clear();
    }
  }
  return static_cast<std::size_t>(events_ - events_before);
}

std::size_t SseParser::finish(SseCallback on_event) {
  const std::uint64_t events_before = events_;
  if (!overflowed_) {
    if (!partial_.empty()) {
      ended_mid_event_ = true;
      std::string line;
      line.swap(partial_);
      process_line(line, on_event);
    }
    if (has_data_ || has_error_) {
      ended_mid_event_ = true;
      dispatch(on_event, /*incomplete=*/true);
    }
  }
  // A new stream may follow; the counters and flags stay readable.
  data_.clear();
  error_.clear();
  type_.clear();
  has_data_ = has_error_ = skip_lf_ = false;
  first_line_ = true;
  return static_cast<std::size_t>(events_ - events_before);
}

void SseParser::process_line(std::string_view line, SseCallback& on_event) {
  ++lines_;
  if (first_line_) {
    first_line_ = false;
    if (line.starts_with(kBom)) line.remove_prefix(kBom.size());
  }
  if (line.empty()) {
    dispatch(on_event, /*incomplete=*/false);
    return;
  }
  if (line.front() == ':') {
    ++comments_;
    return;
  }
  std::string_view field = line;
  std::string_view value;
  if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (data_.size() + error_.size() + value.size() + 1 > max_event_bytes_) return overflow();
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    if (auto ms = parse_retry(value)) retry_ms_ = ms;
  } else if (field == "error") {
    if (data_.size() + error_.size() + value.size() + 1 > max_event_bytes_) return overflow();
    error_.append(value);
    error_.push_back('\n');
    has_error_ = true;
  }
  // Any other field is ignored (spec).
}

void SseParser::dispatch(SseCallback& on_event, bool incomplete) {
  if (has_data_ || has_error_) {
    SseEvent e;
    e.type = type_.empty() ? std::string_view("message") : std::string_view(type_);
    e.data = std::string_view(data_);
    if (!e.data.empty()) e.data.remove_suffix(1);
    e.error = std::string_view(error_);
    if (!e.error.empty()) e.error.remove_suffix(1);
    e.id = last_id_;
    e.has_data = has_data_;
    e.has_error = has_error_;
    e.incomplete = incomplete;
    ++events_;
    on_event(e);
  }
  data_.clear();
  error_.clear();
  type_.clear();
  has_data_ = has_error_ = false;
}

}  // namespace tierscope::workloads
