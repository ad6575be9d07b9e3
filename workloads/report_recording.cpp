#include "workloads/report_recording.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/file_cache.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxSegmentBytes = std::size_t{1} << 30;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double value_of(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "+Inf") return std::numeric_limits<double>::infinity();
    if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  }
  return kNaN;
}

std::string key_of(const std::string& name, const std::map<std::string, std::string>& labels) {
  std::string k = name;
  if (labels.empty()) return k;
  k += '{';
  bool first = true;
  for (const auto& [n, v] : labels) {
    if (!first) k += ',';
    first = false;
    k += n + "=\"" + v + "\"";
  }
  k += '}';
  return k;
}

// The end of a JSON number at the start of `s` (RFC 8259 grammar); 0 when there is none.
std::size_t json_number_length(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return 0;
  if (s[i] == '0') ++i;
  else if (digits() == 0) return 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return 0;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return 0;
  }
  return i;
}

// A JSON number at the start of `s` as a finite double; advances `s` past it.
bool take_number(std::string_view& s, double& out) {
  const std::size_t n = json_number_length(s);
  if (n == 0) return false;
  auto r = std::from_chars(s.data(), s.data() + n, out);
  if (r.ec != std::errc() || r.ptr != s.data() + n || !std::isfinite(out)) return false;
  s.remove_prefix(n);
  return true;
}

bool take_u64(std::string_view& s, std::uint64_t& out) {
  if (s.empty() || s[0] < '0' || s[0] > '9' || (s[0] == '0' && s.size() > 1 && s[1] >= '0' && s[1] <= '9')) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  if (r.ec != std::errc()) return false;
  s.remove_prefix(static_cast<std::size_t>(r.ptr - s.data()));
  // A fraction or exponent makes it a JSON float: not this shape.
  return s.empty() || (s[0] != '.' && s[0] != 'e' && s[0] != 'E');
}

bool take(std::string_view& s, std::string_view literal) {
  if (s.substr(0, literal.size()) != literal) return false;
  s.remove_prefix(literal.size());
  return true;
}

}  // namespace

bool parse_sample_line(std::string_view s, double& wall, std::uint64_t& schema, std::vector<double>& values,
                       const std::function<const std::vector<bool>*(std::uint64_t schema)>& keep) {
  values.clear();
  std::uint64_t seq = 0;
  double mono = 0;
  if (!take(s, R"({"type":"sample","seq":)") || !take_u64(s, seq) || !take(s, R"(,"wall":)") || !take_number(s, wall) ||
      !take(s, R"(,"mono":)") || !take_number(s, mono) || !take(s, R"(,"schema":)") || !take_u64(s, schema) ||
      !take(s, R"(,"values":[)"))
    return false;
  if (take(s, "]}")) return s.empty();
  const std::vector<bool>* mask = keep ? keep(schema) : nullptr;
  for (;;) {
    double v = 0;
    if (mask && (values.size() >= mask->size() || !(*mask)[values.size()]) && s.size() && s[0] != '"') {
      const std::size_t n = json_number_length(s);
      if (n == 0) return false;
      s.remove_prefix(n);
      v = kNaN;
    } else if (take(s, R"("NaN")")) v = kNaN;
    else if (take(s, R"("+Inf")")) v = std::numeric_limits<double>::infinity();
    else if (take(s, R"("-Inf")")) v = -std::numeric_limits<double>::infinity();
    else if (!take_number(s, v)) return false;
    values.push_back(v);
    if (take(s, ",")) continue;
    return take(s, "]}") && s.empty();
  }
}

RecordingDigest digest_recording(const std::string& dir, const std::function<bool(std::string_view name)>& wanted) {
  RecordingDigest d;
  // schema id → for each position, the series it feeds (nullptr: not wanted).
  std::map<std::uint64_t, std::vector<RecordedSeries*>> schemas;
  std::vector<double> row_values;
  std::map<std::uint64_t, std::vector<bool>> masks;  // schema id → the positions kept
  auto mask_of = [&](std::uint64_t id) -> const std::vector<bool>* {
    auto it = masks.find(id);
    return it == masks.end() ? nullptr : &it->second;
  };
  auto on_sample = [&](double wall, std::uint64_t schema, const std::vector<double>& values) {
    auto it = schemas.find(schema);
    if (it == schemas.end() || it->second.size() != values.size()) return;
    const std::size_t row = d.wall.size();
    d.wall.push_back(wall);
    const auto& cols = it->second;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (!cols[i]) continue;
      auto& v = cols[i]->values;
      if (v.size() < row) v.resize(row, kNaN);
      v.push_back(values[i]);
    }
    d.stats.samples++;
  };
  auto on_record = [&](json&& r) {
    const auto type_it = r.find("type");
    if (type_it == r.end() || !type_it->is_string()) return;
    const auto& type = type_it->get_ref<const std::string&>();
    if (type == "sample") {
      auto schema = r.find("schema");
      auto values = r.find("values");
      auto wall = r.find("wall");
      if (schema == r.end() || values == r.end() || wall == r.end() || !schema->is_number_unsigned() ||
          !values->is_array() || !wall->is_number())
        return;
      row_values.clear();
      for (const auto& v : *values) row_values.push_back(value_of(v));
      on_sample(wall->get<double>(), schema->get<std::uint64_t>(), row_values);
    } else if (type == "series") {
      auto id = r.find("id");
      auto series = r.find("series");
      if (id == r.end() || !id->is_number_unsigned() || series == r.end() || !series->is_array()) return;
      std::vector<RecordedSeries*> cols;
      cols.reserve(series->size());
      for (const auto& s : *series) {
        const auto* name = s.is_object() && s.contains("name") && s["name"].is_string()
                               ? s["name"].get_ptr<const std::string*>()
                               : nullptr;
        if (!name || !wanted(*name)) {
          cols.push_back(nullptr);
          continue;
        }
        std::map<std::string, std::string> labels;
        if (auto l = s.find("labels"); l != s.end() && l->is_object())
          for (const auto& [k, v] : l->items())
            if (v.is_string()) labels[k] = v.get<std::string>();
        const std::string key = key_of(*name, labels);
        auto& entry = d.series[key];
        if (entry.name.empty()) {
          entry.name = *name;
          entry.labels = std::move(labels);
        }
        cols.push_back(&entry);
      }
      std::vector<bool> mask(cols.size());
      for (std::size_t i = 0; i < cols.size(); ++i) mask[i] = cols[i] != nullptr;
      masks[id->get<std::uint64_t>()] = std::move(mask);
      schemas[id->get<std::uint64_t>()] = std::move(cols);
    } else if (type == "soak_point") {
      auto t = r.find("t");
      auto values = r.find("values");
      if (t == r.end() || !t->is_number() || values == r.end() || !values->is_object()) return;
      for (const auto& [k, v] : values->items())
        if (v.is_number()) d.soak_points[k].push_back({t->get<double>(), v.get<double>()});
    } else if (type == "gap") {
      d.gaps++;
    } else if (type == "header") {
      schemas.clear();
      masks.clear();  // series ids are those of the writing process: a new segment declares its own
    }
  };
  for (const auto& seg : list_segments(dir)) {
    std::string bytes;
    if (read_uncached(seg.path, bytes, kMaxSegmentBytes) != 0) {
      d.stats.corrupt++;
      continue;
    }
    d.stats.segments++;
    if (seg.zstd) {
      parse_segment(bytes, true, d.stats, on_record);
      continue;
    }
    // Plain: as exporters/recording.h parse_lines reads it, with the fast path for sample lines.
    std::string_view text(bytes);
    double wall = 0;
    std::uint64_t schema = 0;
    while (!text.empty()) {
      const auto nl = text.find('\n');
      if (nl == std::string_view::npos) {
        d.stats.torn++;  // the recorder ends every line: a crash cut this one
        break;
      }
      const std::string_view line = text.substr(0, nl);
      text.remove_prefix(nl + 1);
      if (line.empty()) continue;
      if (parse_sample_line(line, wall, schema, row_values, mask_of)) {
        d.stats.records++;
        on_sample(wall, schema, row_values);
        continue;
      }
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string()) {
        d.stats.corrupt++;
        continue;
      }
      d.stats.records++;
      on_record(std::move(j));
    }
  }
  for (auto& [key, s] : d.series) s.values.resize(d.wall.size(), kNaN);
  return d;
}

std::size_t block_size(std::size_t n, std::size_t max_points) {
  if (max_points == 0 || n <= max_points) return 1;
  return (n + max_points - 1) / max_points;
}

std::vector<XY> block_minmax(const std::vector<XY>& points, std::size_t max_points) {
  std::vector<XY> finite;
  finite.reserve(points.size());
  for (const auto& p : points)
    if (std::isfinite(p.x) && std::isfinite(p.y)) finite.push_back(p);
  if (finite.size() <= max_points) return finite;
  const std::size_t b = block_size(finite.size(), std::max<std::size_t>(1, max_points / 2));
  std::vector<XY> out;
  out.reserve(2 * (finite.size() / b + 1));
  for (std::size_t i = 0; i < finite.size(); i += b) {
    const std::size_t end = std::min(finite.size(), i + b);
    std::size_t lo = i, hi = i;
    for (std::size_t j = i; j < end; ++j) {
      if (finite[j].y < finite[lo].y) lo = j;
      if (finite[j].y > finite[hi].y) hi = j;
    }
    out.push_back(finite[std::min(lo, hi)]);
    if (lo != hi) out.push_back(finite[std::max(lo, hi)]);
  }
  return out;
}

}  // namespace tierscope::workloads
