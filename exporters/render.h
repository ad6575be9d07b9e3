#pragma once
// Turns a Snapshot into metric families: each registered probe's and
// post-sample step's render function (probes/registry.h), how each probe ran,
// and the sampler's counters. Adding a probe needs no change here.

#include <prometheus/metric_family.h>

#include <vector>

#include "core/metric_writer.h"
#include "probes/snapshot.h"

namespace tierscope {

void render_snapshot(const Snapshot& snap, MetricWriter& w);
// tierscope_build_info{version,revision,compiler} 1
void render_build_info(MetricWriter& w);

}  // namespace tierscope
