#include "exporters/recording.h"

#include <zstd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <system_error>

#include "core/file_cache.h"
#include "core/text.h"
#include "exporters/recorder.h"

namespace tierscope {

namespace fs = std::filesystem;

namespace {

// The most one segment may hold when read back (segments rotate at 64 MiB by
// default; a zstd segment decompresses to more).
constexpr std::size_t kMaxSegmentBytes = std::size_t{1} << 32;
// The most one zstd frame may decompress to: the recorder writes one period's
// records per frame, at most 64 MiB; more is not ours (and no bomb is
// decompressed without bound).
constexpr std::size_t kMaxFrameBytes = std::size_t{128} << 20;

void parse_lines(std::string_view text, bool last_chunk, RecordingStats& stats,
                 const std::function<void(nlohmann::json&&)>& fn) {
  std::size_t at = 0;
  while (at < text.size()) {
    auto nl = text.find('\n', at);
    if (nl == std::string_view::npos) {
      // No newline: a line cut short by a crash (the recorder ends each line
      // with one). Only the end of a segment can be torn.
      if (last_chunk) stats.torn++;
      else stats.corrupt++;
      return;
    }
    auto line = text.substr(at, nl - at);
    at = nl + 1;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string()) {
      stats.corrupt++;
      continue;
    }
    stats.records++;
    fn(std::move(j));
  }
}

std::optional<double> number_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

}  // namespace

void parse_segment(std::string_view bytes, bool zstd, RecordingStats& stats,
                   const std::function<void(nlohmann::json&&)>& fn) {
  if (!zstd) {
    parse_lines(bytes, true, stats, fn);
    return;
  }
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) {
    stats.corrupt++;
    return;
  }
  std::string out;
  std::string buf(ZSTD_DStreamOutSize(), '\0');
  while (!bytes.empty()) {
    const std::size_t size = ZSTD_findFrameCompressedSize(bytes.data(), bytes.size());
    if (ZSTD_isError(size)) {
      // A frame cut short by a crash (or garbage): nothing after it can be
      // trusted. Only the last frame can be torn.
      stats.torn++;
      return;
    }
    ZSTD_DCtx_reset(ctx.get(), ZSTD_reset_session_only);
    out.clear();
    ZSTD_inBuffer in{bytes.data(), size, 0};
    bool bad = false;
    for (;;) {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      auto r = ZSTD_decompressStream(ctx.get(), &o, &in);
      if (ZSTD_isError(r)) {
        bad = true;
        break;
      }
      out.append(buf.data(), o.pos);
      if (out.size() > kMaxFrameBytes) {
        bad = true;
        break;
      }
      if (r == 0) break;  // the frame is complete
      if (in.pos == in.size && o.pos < o.size) {
        bad = true;  // it wants more than the frame holds
        break;
      }
    }
    bytes.remove_prefix(size);
    if (bad) {
      stats.corrupt++;
      continue;
    }
    // Each frame holds whole lines: a line without its newline in a frame
    // that decoded whole is corrupt, not torn.
    parse_lines(out, false, stats, fn);
  }
}

std::vector<SegmentFile> list_segments(const std::string& dir) {
  std::vector<SegmentFile> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().native();
    constexpr std::string_view prefix = "samples-";
    if (name.rfind(prefix, 0) != 0) continue;
    std::string_view rest = std::string_view(name).substr(prefix.size());
    bool zstd = false;
    if (rest.ends_with(".jsonl.zst")) {
      zstd = true;
      rest.remove_suffix(10);
    } else if (rest.ends_with(".jsonl")) {
      rest.remove_suffix(6);
    } else {
      continue;
    }
    auto seq = text::parse_u64(rest);
    if (!seq) continue;
    std::error_code size_ec;
    auto bytes = it->file_size(size_ec);
    if (size_ec || !it->is_regular_file(size_ec)) continue;
    out.push_back({it->path().native(), *seq, zstd, bytes});
  }
  std::sort(out.begin(), out.end(), [](const SegmentFile& a, const SegmentFile& b) {
    return a.seq != b.seq ? a.seq < b.seq : a.path < b.path;
  });
  return out;
}

bool SampleResolver::learn(const nlohmann::json& rec) {
  auto id = rec.find("id");
  auto series = rec.find("series");
  if (id == rec.end() || !id->is_number_unsigned() || series == rec.end() || !series->is_array()) return false;
  std::vector<std::string> keys;
  keys.reserve(series->size());
  for (const auto& s : *series) {
    if (!s.is_object()) return false;
    auto name = s.find("name");
    if (name == s.end() || !name->is_string()) return false;
    Labels labels;
    if (auto l = s.find("labels"); l != s.end()) {
      if (!l->is_object()) return false;
      for (auto it = l->begin(); it != l->end(); ++it) {
        if (!it.value().is_string()) return false;
        labels.push_back({it.key(), it.value().get<std::string>()});
      }
    }
    keys.push_back(series_key(name->get<std::string>(), labels));
  }
  schemas_[id->get<std::uint64_t>()] = std::move(keys);
  return true;
}

std::optional<nlohmann::json> SampleResolver::resolve(const nlohmann::json& sample) const {
  auto schema = sample.find("schema");
  auto values = sample.find("values");
  if (schema == sample.end() || !schema->is_number_unsigned() || values == sample.end() || !values->is_array())
    return std::nullopt;
  auto it = schemas_.find(schema->get<std::uint64_t>());
  if (it == schemas_.end() || it->second.size() != values->size()) return std::nullopt;
  nlohmann::json out = nlohmann::json::object();
  out["type"] = "sample";
  for (const char* key : {"seq", "wall", "mono"})
    if (auto f = sample.find(key); f != sample.end()) out[key] = *f;
  nlohmann::json resolved = nlohmann::json::object();
  for (std::size_t i = 0; i < values->size(); ++i) {
    const auto& v = (*values)[i];
    if (v.is_number()) {
      resolved[it->second[i]] = v;
    } else if (v.is_string() && (v == "NaN" || v == "+Inf" || v == "-Inf")) {
      resolved[it->second[i]] = v;
    } else {
      return std::nullopt;
    }
  }
  out["values"] = std::move(resolved);
  return out;
}

RecordingStats read_recording(const std::string& dir, const std::function<void(const nlohmann::json&)>& fn) {
  RecordingStats stats;
  SampleResolver resolver;
  for (const auto& seg : list_segments(dir)) {
    std::string bytes;
    if (read_uncached(seg.path, bytes, kMaxSegmentBytes) != 0) {
      stats.corrupt++;
      continue;
    }
    stats.segments++;
    // Series ids are those of the process that wrote the segment: each
    // segment restates the series it uses.
    resolver.reset();
    parse_segment(bytes, seg.zstd, stats, [&](nlohmann::json&& rec) {
      const auto& type = rec["type"];
      if (type == "series") {
        if (!resolver.learn(rec)) stats.corrupt++;
        fn(rec);
      } else if (type == "sample") {
        auto resolved = resolver.resolve(rec);
        if (!resolved) {
          stats.corrupt++;
          return;
        }
        stats.samples++;
        fn(*resolved);
      } else {
        if (type == "gap") stats.gaps++;
        fn(rec);
      }
    });
  }
  return stats;
}

std::optional<LastRecord> last_record(const std::string& dir) {
  auto segs = list_segments(dir);
  for (auto s = segs.rbegin(); s != segs.rend(); ++s) {
    std::string bytes;
    if (read_uncached(s->path, bytes, kMaxSegmentBytes) != 0) continue;
    RecordingStats stats;
    std::optional<LastRecord> last;
    std::string boot;
    parse_segment(bytes, s->zstd, stats, [&](nlohmann::json&& rec) {
      if (rec["type"] == "header") {
        if (auto b = rec.find("boot_id"); b != rec.end() && b->is_string()) boot = b->get<std::string>();
        if (auto w = number_of(rec, "start_wall")) last = LastRecord{*w, number_of(rec, "start_mono"), boot};
        return;
      }
      auto w = number_of(rec, "wall");
      if (!w) w = number_of(rec, "to_wall");
      if (!w) return;
      auto m = number_of(rec, "mono");
      if (!m) m = number_of(rec, "to_mono");
      last = LastRecord{*w, m, boot};
    });
    if (last) return last;
  }
  return std::nullopt;
}

}  // namespace tierscope
