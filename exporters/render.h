#pragma once
// Turns a Snapshot into metric families: each probe's reading, how each probe
// ran, the peaks from the history ring, and the sampler's counters.

#include <prometheus/metric_family.h>

#include <vector>

#include "core/metric_writer.h"
#include "probes/snapshot.h"

namespace tierscope {

void render_snapshot(const Snapshot& snap, MetricWriter& w);
// tierscope_build_info{version,revision,compiler} 1
void render_build_info(MetricWriter& w);

}  // namespace tierscope
