#pragma once
// The daemon's own footprint as the standard process_* metrics. Always read
// from the live /proc/self, whatever roots the probes are pointed at.

#include "core/metric_writer.h"

namespace tierscope {

void render_process_metrics(MetricWriter& w);

}  // namespace tierscope
