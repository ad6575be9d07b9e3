// The prices file of a bench run's cost (workloads/cost.h): parse_prices
// either returns prices within the documented bounds or throws PricesError;
// nothing else may escape it.
#include <cmath>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_common.h"
#include "workloads/cost.h"

using namespace tierscope::workloads;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = tierscope::fuzz::as_text(data, size);
  Prices p;
  try {
    p = parse_prices(text, "fuzz.yaml");
  } catch (const PricesError&) {
    return 0;
  }
  auto positive = [](double v) { return std::isfinite(v) && v > 0; };
  for (const auto& c : p.cloud_gpu) {
    FUZZ_CHECK(!c.name.empty() && !c.source.empty() && !c.date.empty(), c.name);
    FUZZ_CHECK(positive(c.usd_per_hour) && c.gpus >= 1 && positive(c.memory_gib), c.name);
  }
  for (const auto& a : p.api) FUZZ_CHECK(positive(a.usd_per_1m_input) && positive(a.usd_per_1m_output), a.name);
  for (const auto& l : p.local) {
    FUZZ_CHECK(positive(l.purchase_usd) && positive(l.amortization_years), l.name);
    FUZZ_CHECK(positive(l.hours_per_day) && l.hours_per_day <= 24, l.name);
    FUZZ_CHECK(std::isfinite(l.electricity_usd_per_kwh) && l.electricity_usd_per_kwh >= 0, l.name);
    // The hourly figure of a parsed entry is a finite, positive number.
    FUZZ_CHECK(positive(hardware_usd_per_hour(l)), l.name);
  }
  for (const auto& s : p.ssd) {
    FUZZ_CHECK(positive(s.rated_tbw) && (!s.purchase_usd || positive(*s.purchase_usd)), s.name);
    FUZZ_CHECK(!s.purchase_usd || std::isfinite(*ssd_wear_usd(s, 1e12)), s.name);
  }
  return 0;
}
