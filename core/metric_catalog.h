#pragma once
// The metric contract (../shared/design/METRICS.md, docs/metrics.md): every
// fixed metric name with its HELP text, which names the source and the unit.
// Dashboards and alert rules depend on these names; rename one only with a
// changelog entry in docs/changelog.md.

#include "core/metric_writer.h"

namespace tierscope::metric {

using prometheus::MetricType;
inline constexpr MetricType kCounter = MetricType::Counter;
inline constexpr MetricType kGauge = MetricType::Gauge;

// ---- daemon health -------------------------------------------------------
inline constexpr MetricDef build_info{"tierscope_build_info",
    "Version, git revision and compiler of the running tierscope; value is always 1.", kGauge};
inline constexpr MetricDef probe_success{"tierscope_probe_success",
    "1 if the probe's last run succeeded or found no hardware to report, 0 if it failed (see the daemon log for why).", kGauge};
inline constexpr MetricDef probe_duration{"tierscope_probe_duration_seconds",
    "Wall-clock time of the probe's last run, seconds (steady clock).", kGauge};
inline constexpr MetricDef samples_total{"tierscope_samples_total",
    "Samples taken by the sampler since the daemon started.", kCounter};
inline constexpr MetricDef sample_overruns{"tierscope_sample_overruns_total",
    "Sampler ticks whose sampling took longer than the interval; the missed deadlines are skipped, not queued.", kCounter};
inline constexpr MetricDef sample_interval{"tierscope_sample_interval_seconds",
    "Configured sampling cadence (config key sample_interval), seconds.", kGauge};
inline constexpr MetricDef peak_window{"tierscope_peak_window_seconds",
    "Window over which the *_peak gauges take their maximum (config key peak_window), seconds.", kGauge};
inline constexpr MetricDef last_sample_time{"tierscope_last_sample_timestamp_seconds",
    "Wall-clock time at which the exported sample was taken, Unix seconds.", kGauge};
inline constexpr MetricDef config_reloads{"tierscope_config_reloads_total",
    "Configuration reloads requested with SIGHUP, by result (success: applied; failure: rejected, old config kept).", kCounter};
inline constexpr MetricDef config_last_reload_ok{"tierscope_config_last_reload_successful",
    "1 if the last configuration load (start or SIGHUP) was applied, 0 if it was rejected.", kGauge};

// ---- the recorder (exporters/recorder.h; present only when recording is configured)
inline constexpr MetricDef recorder_dropped_samples{"tierscope_recorder_dropped_samples_total",
    "Samples and events the recorder could not write (disk full, read-only or missing directory) and dropped; "
    "counted by the recorder at each failed write.", kCounter};
inline constexpr MetricDef recorder_written_bytes{"tierscope_recorder_written_bytes_total",
    "Bytes the recorder wrote to its segment files (after zstd compression when enabled), bytes.", kCounter};
inline constexpr MetricDef recorder_samples{"tierscope_recorder_samples_total",
    "Sample records the recorder wrote to its segment files and fsynced.", kCounter};
inline constexpr MetricDef recorder_segments{"tierscope_recorder_segments",
    "Segment files (samples-*.jsonl[.zst]) in the recording directory, after retention.", kGauge};

// ---- the daemon's own footprint (Prometheus client conventions) ----------
inline constexpr MetricDef process_rss{"process_resident_memory_bytes",
    "Resident memory of the tierscope process, bytes (/proc/self/statm resident pages x page size).", kGauge};
inline constexpr MetricDef process_vms{"process_virtual_memory_bytes",
    "Virtual memory of the tierscope process, bytes (/proc/self/statm size pages x page size).", kGauge};
inline constexpr MetricDef process_cpu{"process_cpu_seconds_total",
    "User and system CPU time of the tierscope process, seconds (getrusage RUSAGE_SELF).", kCounter};
inline constexpr MetricDef process_open_fds{"process_open_fds",
    "Open file descriptors of the tierscope process (entries of /proc/self/fd).", kGauge};
inline constexpr MetricDef process_max_fds{"process_max_fds",
    "Soft limit on open file descriptors of the tierscope process (RLIMIT_NOFILE).", kGauge};
inline constexpr MetricDef process_start{"process_start_time_seconds",
    "Start time of the tierscope process, Unix seconds (/proc/self/stat starttime + /proc/stat btime).", kGauge};

// ---- memory tiers --------------------------------------------------------
inline constexpr MetricDef memory_capacity{"tierscope_memory_capacity_bytes",
    "Capacity of each memory tier, bytes. tier=ram device=host: MemTotal of /proc/meminfo (kB x 1024); "
    "tier=swap: Size column of /proc/swaps for each swap device or file (KiB x 1024); tier=vram device=<gpu>: NVML "
    "memory total or amdgpu mem_info_vram_total (on an APU: the BIOS carve-out); tier=gtt device=<gpu>: amdgpu "
    "mem_info_gtt_total (system RAM mapped for the GPU).", kGauge};
inline constexpr MetricDef memory_used{"tierscope_memory_used_bytes",
    "Used bytes of each memory tier. tier=ram device=host: MemTotal - MemAvailable of /proc/meminfo (kB x 1024); "
    "tier=swap: Used column of /proc/swaps (KiB x 1024); tier=vram, gtt: NVML memory used or amdgpu "
    "mem_info_{vram,gtt}_used; tier=unified device=<gpu>: what a unified-memory NVIDIA GPU has allocated (sum of its "
    "process list) - a part of tier=ram, not to be added to it. VRAM and GTT are separate tiers: never add them.", kGauge};
inline constexpr MetricDef memory_available{"tierscope_memory_available_bytes",
    "MemAvailable of /proc/meminfo: the kernel's estimate of memory available for new work without swapping, bytes.", kGauge};
inline constexpr MetricDef memory_page_cache{"tierscope_memory_page_cache_bytes",
    "File-backed page cache, Active(file) + Inactive(file) of /proc/meminfo (kB x 1024), bytes; excludes shmem.", kGauge};
inline constexpr MetricDef memory_anon{"tierscope_memory_anon_bytes",
    "Anonymous memory mapped into user page tables, AnonPages of /proc/meminfo (kB x 1024), bytes.", kGauge};
inline constexpr MetricDef memory_shmem{"tierscope_memory_shmem_bytes",
    "Shared memory and tmpfs, Shmem of /proc/meminfo (kB x 1024), bytes.", kGauge};
inline constexpr MetricDef swap_in_pages{"tierscope_swap_in_pages_total",
    "Pages swapped in from swap devices, pswpin of /proc/vmstat.", kCounter};
inline constexpr MetricDef swap_out_pages{"tierscope_swap_out_pages_total",
    "Pages swapped out to swap devices, pswpout of /proc/vmstat.", kCounter};
inline constexpr MetricDef major_faults{"tierscope_page_major_faults_total",
    "Major page faults (pages read from storage: file pages re-read and swap-ins), pgmajfault of /proc/vmstat.", kCounter};
inline constexpr MetricDef page_in_bytes{"tierscope_page_in_bytes_total",
    "Bytes paged in from block devices, pgpgin of /proc/vmstat (KiB x 1024).", kCounter};
inline constexpr MetricDef page_out_bytes{"tierscope_page_out_bytes_total",
    "Bytes paged out to block devices, pgpgout of /proc/vmstat (KiB x 1024).", kCounter};
inline constexpr MetricDef oom_kills{"tierscope_oom_kills_total",
    "Processes killed by the kernel OOM killer, oom_kill of /proc/vmstat.", kCounter};
inline constexpr MetricDef pressure_stalled{"tierscope_pressure_stalled_seconds_total",
    "Pressure stall time, total= of /proc/pressure/<resource> (microseconds / 1e6), seconds. "
    "kind=some: at least one task stalled; kind=full: all non-idle tasks stalled.", kCounter};
inline constexpr MetricDef swap_device_info{"tierscope_swap_device_info",
    "Each active swap area of /proc/swaps with its type, the block device that holds it (a swap file resolves to "
    "the device of its filesystem through mountinfo) and the whole disk behind that; value is always 1.", kGauge};
inline constexpr MetricDef swap_priority{"tierscope_swap_priority",
    "Priority column of /proc/swaps for each swap area.", kGauge};
inline constexpr MetricDef swap_peak{"tierscope_swap_pages_peak_per_second",
    "Highest per-interval swap rate within the peak window, pages per second, from pswpin/pswpout of /proc/vmstat "
    "sampled every sample_interval.", kGauge};

// ---- block devices -------------------------------------------------------
inline constexpr MetricDef disk_reads{"tierscope_disk_reads_completed_total",
    "Reads completed, field 1 of /proc/diskstats.", kCounter};
inline constexpr MetricDef disk_reads_merged{"tierscope_disk_reads_merged_total",
    "Adjacent reads merged before issue, field 2 of /proc/diskstats.", kCounter};
inline constexpr MetricDef disk_read_bytes{"tierscope_disk_read_bytes_total",
    "Bytes read, field 3 of /proc/diskstats (sectors x 512), bytes.", kCounter};
inline constexpr MetricDef disk_read_time{"tierscope_disk_read_time_seconds_total",
    "Time spent on reads, field 4 of /proc/diskstats (ms / 1000), seconds.", kCounter};
inline constexpr MetricDef disk_writes{"tierscope_disk_writes_completed_total",
    "Writes completed, field 5 of /proc/diskstats.", kCounter};
inline constexpr MetricDef disk_writes_merged{"tierscope_disk_writes_merged_total",
    "Adjacent writes merged before issue, field 6 of /proc/diskstats.", kCounter};
inline constexpr MetricDef disk_written_bytes{"tierscope_disk_written_bytes_total",
    "Bytes written, field 7 of /proc/diskstats (sectors x 512), bytes.", kCounter};
inline constexpr MetricDef disk_write_time{"tierscope_disk_write_time_seconds_total",
    "Time spent on writes, field 8 of /proc/diskstats (ms / 1000), seconds.", kCounter};
inline constexpr MetricDef disk_in_progress{"tierscope_disk_io_in_progress",
    "Requests in flight, field 9 of /proc/diskstats.", kGauge};
inline constexpr MetricDef disk_io_time{"tierscope_disk_io_time_seconds_total",
    "Time the device had requests in flight, field 10 of /proc/diskstats (ms / 1000), seconds.", kCounter};
inline constexpr MetricDef disk_io_weighted{"tierscope_disk_io_time_weighted_seconds_total",
    "In-flight time weighted by queue depth, field 11 of /proc/diskstats (ms / 1000), seconds.", kCounter};
inline constexpr MetricDef disk_discards{"tierscope_disk_discards_completed_total",
    "Discards completed, field 12 of /proc/diskstats (kernel 4.18+).", kCounter};
inline constexpr MetricDef disk_discards_merged{"tierscope_disk_discards_merged_total",
    "Discards merged, field 13 of /proc/diskstats (kernel 4.18+).", kCounter};
inline constexpr MetricDef disk_discarded_bytes{"tierscope_disk_discarded_bytes_total",
    "Bytes discarded, field 14 of /proc/diskstats (sectors x 512, kernel 4.18+), bytes.", kCounter};
inline constexpr MetricDef disk_discard_time{"tierscope_disk_discard_time_seconds_total",
    "Time spent on discards, field 15 of /proc/diskstats (ms / 1000, kernel 4.18+), seconds.", kCounter};
inline constexpr MetricDef disk_flushes{"tierscope_disk_flushes_completed_total",
    "Flush requests completed, field 16 of /proc/diskstats (kernel 5.5+).", kCounter};
inline constexpr MetricDef disk_flush_time{"tierscope_disk_flush_time_seconds_total",
    "Time spent on flush requests, field 17 of /proc/diskstats (ms / 1000, kernel 5.5+), seconds.", kCounter};
inline constexpr MetricDef disk_iops_peak{"tierscope_disk_iops_peak",
    "Highest per-interval IOPS within the peak window (completed reads or writes of /proc/diskstats between two "
    "consecutive samples / interval), operations per second.", kGauge};
inline constexpr MetricDef disk_throughput_peak{"tierscope_disk_throughput_peak_bytes_per_second",
    "Highest per-interval throughput within the peak window (sectors read or written of /proc/diskstats x 512 "
    "between two consecutive samples / interval), bytes per second.", kGauge};

// ---- NVMe (sysfs identity) ----------------------------------------------
inline constexpr MetricDef nvme_info{"tierscope_nvme_info",
    "NVMe controller identity from /sys/class/nvme/<controller>/{model,serial,firmware_rev,transport} and the PCI "
    "function behind its device link ({vendor,subsystem_vendor}); phison=\"true\" when the PCI vendor or "
    "subsystem vendor is 0x1987 (a device chosen in the config shows in tierscope_offload_device_info). Value is "
    "always 1.", kGauge};
inline constexpr MetricDef nvme_state{"tierscope_nvme_state",
    "Controller state from /sys/class/nvme/<controller>/state (live, resetting, connecting, dead, ...); 1 for the "
    "current state.", kGauge};
inline constexpr MetricDef nvme_namespace_info{"tierscope_nvme_namespace_info",
    "NVMe namespaces of each controller (/sys/class/nvme/<controller>/<namespace>) and the block device that "
    "serves them; value is always 1.", kGauge};
inline constexpr MetricDef nvme_namespace_capacity{"tierscope_nvme_namespace_capacity_bytes",
    "Namespace capacity, /sys/class/nvme/<controller>/<namespace>/size (512-byte sectors x 512), bytes.", kGauge};
inline constexpr MetricDef offload_device_info{"tierscope_offload_device_info",
    "Block devices that form the SSD offload tier and why: role=phison (namespace of a controller with PCI vendor "
    "or subsystem vendor 0x1987, offload_device: auto), role=configured (named in offload_device), role=swap (an NVMe namespace holding an "
    "active swap area). Value is always 1.", kGauge};

// ---- NVMe admin data (Identify Controller, SMART/health log 02h; libnvme) ----
// Read from <devfs>/<controller> every nvme.health_interval (default 30s) and
// cached in between; absent where the read failed (see health_log_up).
inline constexpr MetricDef nvme_identify_info{"tierscope_nvme_identify_info",
    "NVMe controller identity from the Identify Controller admin command (CNS 01h) on /dev/<controller>: vid, ssvid "
    "(PCI vendor and subsystem vendor ids), model (MN), serial (SN), firmware (FR), padding trimmed; compare with "
    "tierscope_nvme_info (sysfs). Value is always 1.", kGauge};
inline constexpr MetricDef nvme_health_log_up{"tierscope_nvme_health_log_up",
    "1 if the last read of the SMART/health log (Get Log Page 02h on /dev/<controller>, every nvme.health_interval) "
    "succeeded, 0 if it failed (no CAP_SYS_ADMIN, no device node, controller not live; the daemon log says why). "
    "Absent for controllers whose log was not tried (nvme.health_interval: off).", kGauge};
inline constexpr MetricDef nvme_health_log_age{"tierscope_nvme_health_log_age_seconds",
    "Age of the exported SMART/health log reading: time since it was read (it is cached for nvme.health_interval), "
    "seconds (steady clock).", kGauge};
inline constexpr MetricDef nvme_critical_warning{"tierscope_nvme_critical_warning",
    "Critical Warning, SMART/health log byte 0, bit field: 1 available spare below threshold, 2 temperature beyond a "
    "threshold, 4 reliability degraded by media or internal errors, 8 media read-only, 16 volatile memory backup "
    "failed, 32 persistent memory region read-only; 0 when none.", kGauge};
inline constexpr MetricDef nvme_temperature{"tierscope_nvme_temperature_celsius",
    "Composite Temperature, SMART/health log bytes 1-2 (integer kelvin) - 273, degrees Celsius, as nvme-cli smart-log "
    "and smartctl print it (the kernel's hwmon subtracts 273.15). Absent when the drive reports 0 K.", kGauge};
inline constexpr MetricDef nvme_temperature_sensor{"tierscope_nvme_temperature_sensor_celsius",
    "Temperature Sensor 1-8 (label sensor), SMART/health log bytes 200-215 (integer kelvin each) - 273, degrees "
    "Celsius as nvme-cli prints it; sensors the drive does not implement (0 K) are absent.", kGauge};
inline constexpr MetricDef nvme_available_spare{"tierscope_nvme_available_spare_ratio",
    "Available Spare, SMART/health log byte 3 (percent of spare capacity remaining) / 100, ratio 0-1.", kGauge};
inline constexpr MetricDef nvme_available_spare_threshold{"tierscope_nvme_available_spare_threshold_ratio",
    "Available Spare Threshold, SMART/health log byte 4 (percent) / 100, ratio 0-1; critical warning bit 0 is set "
    "when the available spare falls below it.", kGauge};
inline constexpr MetricDef nvme_percentage_used{"tierscope_nvme_percentage_used_ratio",
    "Percentage Used, SMART/health log byte 5 (vendor estimate of the rated life used, percent) / 100, ratio; may "
    "exceed 1 (the drive reports up to 255 %).", kGauge};
inline constexpr MetricDef nvme_data_read{"tierscope_nvme_data_read_bytes_total",
    "Data Units Read, SMART/health log bytes 32-47 (128-bit count of 1000 x 512-byte units, rounded up by the drive) "
    "x 512000, bytes.", kCounter};
inline constexpr MetricDef nvme_data_written{"tierscope_nvme_data_written_bytes_total",
    "Data Units Written, SMART/health log bytes 48-63 (128-bit count of 1000 x 512-byte units, rounded up by the "
    "drive) x 512000, bytes.", kCounter};
inline constexpr MetricDef nvme_host_read_commands{"tierscope_nvme_host_read_commands_total",
    "Host Read Commands completed by the controller, SMART/health log bytes 64-79 (128-bit).", kCounter};
inline constexpr MetricDef nvme_host_write_commands{"tierscope_nvme_host_write_commands_total",
    "Host Write Commands completed by the controller, SMART/health log bytes 80-95 (128-bit).", kCounter};
inline constexpr MetricDef nvme_controller_busy{"tierscope_nvme_controller_busy_seconds_total",
    "Controller Busy Time, SMART/health log bytes 96-111 (128-bit, minutes with I/O commands outstanding) x 60, "
    "seconds.", kCounter};
inline constexpr MetricDef nvme_power_cycles{"tierscope_nvme_power_cycles_total",
    "Power Cycles, SMART/health log bytes 112-127 (128-bit).", kCounter};
inline constexpr MetricDef nvme_power_on{"tierscope_nvme_power_on_seconds_total",
    "Power On Hours, SMART/health log bytes 128-143 (128-bit, whole hours as the drive counts them) x 3600, seconds.",
    kCounter};
inline constexpr MetricDef nvme_unsafe_shutdowns{"tierscope_nvme_unsafe_shutdowns_total",
    "Unsafe Shutdowns (power lost without a shutdown notification), SMART/health log bytes 144-159 (128-bit).", kCounter};
inline constexpr MetricDef nvme_media_errors{"tierscope_nvme_media_errors_total",
    "Media and Data Integrity Errors (unrecovered data integrity errors), SMART/health log bytes 160-175 (128-bit).",
    kCounter};
inline constexpr MetricDef nvme_error_log_entries{"tierscope_nvme_error_log_entries_total",
    "Number of Error Information Log Entries over the controller's life, SMART/health log bytes 176-191 (128-bit).",
    kCounter};
inline constexpr MetricDef nvme_warning_temperature_time{"tierscope_nvme_warning_temperature_seconds_total",
    "Warning Composite Temperature Time, SMART/health log bytes 192-195 (minutes at or above the warning threshold "
    "WCTEMP) x 60, seconds.", kCounter};
inline constexpr MetricDef nvme_critical_temperature_time{"tierscope_nvme_critical_temperature_seconds_total",
    "Critical Composite Temperature Time, SMART/health log bytes 196-199 (minutes at or above the critical threshold "
    "CCTEMP) x 60, seconds.", kCounter};

// ---- GPUs (probes/gpu.h; NVML in gpu_nvml, amdgpu sysfs in gpu_amdgpu) ----
inline constexpr MetricDef gpu_info{"tierscope_gpu_info",
    "GPU identity: NVML (nvmlDeviceGetName/UUID/PciInfo, nvmlSystemGetDriverVersion/CudaDriverVersion) or amdgpu "
    "sysfs (/sys/class/drm/<card>/device: product_name, unique_id, the PCI address, the driver module version); "
    "memory_model=unified when the GPU shares system RAM (no device memory reported, or an APU). Value is always 1.", kGauge};
inline constexpr MetricDef gpu_utilization{"tierscope_gpu_utilization_ratio",
    "Share of time the GPU was busy, 0-1: NVML nvmlDeviceGetUtilizationRates().gpu / 100, or amdgpu "
    "gpu_busy_percent / 100.", kGauge};
inline constexpr MetricDef gpu_memory_utilization{"tierscope_gpu_memory_utilization_ratio",
    "Share of time device memory was being read or written, 0-1: NVML nvmlDeviceGetUtilizationRates().memory / 100, "
    "or amdgpu mem_busy_percent / 100.", kGauge};
inline constexpr MetricDef gpu_power{"tierscope_gpu_power_watts",
    "Power draw, watts: NVML nvmlDeviceGetPowerUsage (mW / 1000), or amdgpu hwmon power1_average/power1_input "
    "(uW / 1e6). On an APU (memory_model=unified, vendor=amd) hwmon reports the whole package: this includes the CPU.", kGauge};
inline constexpr MetricDef gpu_energy{"tierscope_gpu_energy_joules_total",
    "Energy used since the driver loaded, joules: NVML nvmlDeviceGetTotalEnergyConsumption (mJ / 1000), or amdgpu "
    "hwmon energy1_input (uJ / 1e6). On an APU it includes the CPU.", kCounter};
inline constexpr MetricDef gpu_temperature{"tierscope_gpu_temperature_celsius",
    "Temperature, degrees Celsius: NVML nvmlDeviceGetTemperature(NVML_TEMPERATURE_GPU) as sensor=gpu, or amdgpu "
    "hwmon temp*_input (millidegrees / 1000) with sensor from temp*_label (edge, junction, mem).", kGauge};
inline constexpr MetricDef gpu_clock{"tierscope_gpu_clock_hertz",
    "Current clock, hertz: NVML nvmlDeviceGetClockInfo (MHz x 1e6; clock=sm, memory), or the line marked * in "
    "amdgpu pp_dpm_sclk / pp_dpm_mclk (clock=graphics, memory).", kGauge};
inline constexpr MetricDef gpu_pcie_throughput{"tierscope_gpu_pcie_throughput_bytes_per_second",
    "PCIe throughput over NVML's last 20 ms sample, bytes per second: nvmlDeviceGetPcieThroughput (KB/s x 1024), "
    "direction=rx (to the GPU) or tx (from the GPU).", kGauge};
inline constexpr MetricDef gpu_throttle_reasons{"tierscope_gpu_throttle_reasons",
    "Bit field of NVML nvmlDeviceGetCurrentClocksEventReasons (formerly ...ThrottleReasons): 0x1 idle, 0x2 "
    "application clocks, 0x4 software power cap, 0x8 hardware slowdown, 0x10 sync boost, 0x20 software thermal, "
    "0x40 hardware thermal, 0x80 power brake, 0x100 display clocks.", kGauge};
inline constexpr MetricDef gpu_throttle_active{"tierscope_gpu_throttle_reason_active",
    "1 when the named NVML clocks-event (throttle) reason is active, else 0; one series per reason.", kGauge};
inline constexpr MetricDef gpu_memory_reserved{"tierscope_gpu_memory_reserved_bytes",
    "Device memory reserved by the driver and firmware, NVML nvmlDeviceGetMemoryInfo_v2 reserved, bytes.", kGauge};
inline constexpr MetricDef gpu_visible_vram_capacity{"tierscope_gpu_visible_vram_capacity_bytes",
    "CPU-visible part of VRAM (BAR), amdgpu mem_info_vis_vram_total, bytes; a part of tier=vram.", kGauge};
inline constexpr MetricDef gpu_visible_vram_used{"tierscope_gpu_visible_vram_used_bytes",
    "Used CPU-visible VRAM, amdgpu mem_info_vis_vram_used, bytes; a part of tier=vram.", kGauge};
inline constexpr MetricDef gpu_process_memory_sum{"tierscope_gpu_process_memory_sum_bytes",
    "Sum of the GPU memory of every process the driver lists: NVML compute and graphics running processes "
    "(usedGpuMemory), bytes. On a unified-memory GPU this is what the GPU has allocated out of system RAM.", kGauge};
inline constexpr MetricDef process_gpu_memory{"tierscope_process_gpu_memory_bytes",
    "GPU memory of a watched process (config: workload), bytes: NVML running-process lists (region=vram, or unified "
    "on a unified-memory GPU), or DRM fdinfo of its open render nodes (drm-resident-<region>, older amdgpu "
    "drm-memory-<region>; region as the driver names it: amdgpu vram, gtt, cpu; xe vram0, system, stolen), "
    "de-duplicated by drm-client-id.", kGauge};
inline constexpr MetricDef gpu_probe_errors{"tierscope_gpu_probe_errors_total",
    "Failed GPU driver calls since the daemon started, by vendor, call and error (e.g. NVML GPU_IS_LOST); the "
    "probe re-initialises the driver with backoff until it answers again.", kCounter};

// ---- watched workload (probes/workload.h) -------------------------------
inline constexpr MetricDef workload_process{"tierscope_workload_process_info",
    "Processes watched as the workload (config: workload.pids, process_names, systemd_units, cgroup), with how each was "
    "matched; comm from /proc/<pid>/comm. Value is always 1.", kGauge};
inline constexpr MetricDef workload_source_info{"tierscope_workload_source_info",
    "Where the tierscope_workload_* figures come from: source=cgroup (the workload's memory cgroup, with its path and "
    "cgroup version; one series per cgroup summed) or source=processes (the sum over the watched processes' "
    "/proc/<pid>/smaps_rollup, status and stat; cgroup and version empty). Value is always 1.", kGauge};
inline constexpr MetricDef workload_memory{"tierscope_workload_memory_bytes",
    "Memory of the watched workload by tier, bytes. source=cgroup: tier=ram_anon v2 memory.stat anon / v1 total_rss; "
    "page_cache v2 file - shmem / v1 total_cache - total_shmem; file_mapped v2 file_mapped / v1 total_mapped_file (a "
    "part of page_cache + shmem); shmem v2 shmem / v1 total_shmem; kernel v2 kernel (before 5.18 the sum of "
    "kernel_stack, pagetables, percpu, slab, vmalloc) / v1 memory.kmem.usage_in_bytes; swap v2 memory.swap.current / "
    "v1 total_swap. source=processes: the sum over the watched processes of /proc/<pid>/smaps_rollup Pss_Anon, "
    "Pss_File (file_mapped), Pss_Shmem, SwapPss (kB x 1024; status RssAnon, RssFile, RssShmem, VmSwap where those "
    "lack). tier=vram, gtt: the watched processes' GPU memory (NVML process lists, DRM fdinfo).", kGauge};
inline constexpr MetricDef workload_memory_current{"tierscope_workload_memory_current_bytes",
    "Memory charged to the workload's cgroup, v2 memory.current / v1 memory.usage_in_bytes, bytes.", kGauge};
inline constexpr MetricDef workload_memory_peak{"tierscope_workload_memory_peak_bytes",
    "Highest memory charged to the workload's cgroup since it was created, v2 memory.peak (kernel 5.19+) / v1 "
    "memory.max_usage_in_bytes, bytes; absent when several cgroups are summed.", kGauge};
inline constexpr MetricDef workload_memory_limit{"tierscope_workload_memory_limit_bytes",
    "Memory limits of the workload's cgroup, bytes (+Inf: unlimited). limit=max: v2 memory.max / v1 "
    "memory.limit_in_bytes; high: v2 memory.high; swap_max: v2 memory.swap.max / v1 memory.memsw.limit_in_bytes - "
    "memory.limit_in_bytes.", kGauge};
inline constexpr MetricDef workload_memory_events{"tierscope_workload_memory_events_total",
    "Memory events of the workload's cgroup, v2 memory.events (low, high, max, oom, oom_kill); v1: max = "
    "memory.failcnt, oom_kill = oom_kill of memory.oom_control.", kCounter};
inline constexpr MetricDef workload_oom_kills{"tierscope_workload_oom_kills_total",
    "Processes of the workload's cgroup killed by the OOM killer, oom_kill of v2 memory.events / v1 "
    "memory.oom_control.", kCounter};
inline constexpr MetricDef workload_io_bytes{"tierscope_workload_io_bytes_total",
    "Bytes read and written on each block device by the workload's cgroup, v2 io.stat rbytes/wbytes / v1 "
    "blkio.throttle.io_service_bytes Read/Write, bytes; device as in /proc/diskstats.", kCounter};
inline constexpr MetricDef workload_io_ops{"tierscope_workload_io_ops_total",
    "Read and write IOs on each block device by the workload's cgroup, v2 io.stat rios/wios / v1 "
    "blkio.throttle.io_serviced Read/Write; device as in /proc/diskstats.", kCounter};
inline constexpr MetricDef workload_major_faults{"tierscope_workload_major_faults_total",
    "Major page faults of the workload: v2 memory.stat pgmajfault / v1 total_pgmajfault, or the sum of majflt "
    "(field 12 of /proc/<pid>/stat) over the watched processes.", kCounter};

// ---- CPU energy and temperatures (probes/power.h) -----------------------
inline constexpr MetricDef cpu_energy{"tierscope_cpu_energy_joules_total",
    "Energy used by a powercap RAPL zone since tierscope first read it, joules: the increases of "
    "/sys/class/powercap/intel-rapl:*/energy_uj (uJ / 1e6), a wrap counted as (raw - last) mod "
    "(max_energy_range_uj + 1); zone = the zone's name file (package-0, core, uncore, dram, psys), with the parent "
    "zone's name where it repeats (package-1/core). Absent where energy_uj is unreadable (root only since Linux 5.10).",
    kCounter};
inline constexpr MetricDef cpu_temperature{"tierscope_cpu_temperature_celsius",
    "CPU temperature, degrees Celsius: hwmon temp*_input (millidegrees / 1000) of the coretemp, k10temp, zenpower "
    "or cpu_thermal chip; sensor = temp*_label (Package id 0, Core 4, Tctl, Tccd1), else temp1.", kGauge};
inline constexpr MetricDef cpu_temperature_max{"tierscope_cpu_temperature_max_celsius",
    "High threshold of a CPU temperature sensor, degrees Celsius: hwmon temp*_max (millidegrees / 1000); absent "
    "where the driver has none.", kGauge};
inline constexpr MetricDef cpu_temperature_critical{"tierscope_cpu_temperature_critical_celsius",
    "Critical threshold of a CPU temperature sensor, degrees Celsius: hwmon temp*_crit (millidegrees / 1000); absent "
    "where the driver has none.", kGauge};
inline constexpr MetricDef cpu_thermal_throttle{"tierscope_cpu_thermal_throttle_total",
    "CPU thermal throttle events (x86 thermal interrupt): kind=core: core_throttle_count of "
    "/sys/devices/system/cpu/cpu*/thermal_throttle summed over the CPUs; kind=package: package_throttle_count, the "
    "highest among each package's CPUs, summed over the packages.", kCounter};

// Every fixed metric above, in catalog order: the source of
// grafana/lib/metrics.json (tests/grafana/metrics_json.cpp), which the
// dashboards and rules are checked against. Add a new MetricDef here too.
inline constexpr const MetricDef* kCatalog[] = {
    &build_info, &probe_success, &probe_duration, &samples_total, &sample_overruns, &sample_interval, &peak_window,
    &last_sample_time, &config_reloads, &config_last_reload_ok, &recorder_dropped_samples, &recorder_written_bytes,
    &recorder_samples, &recorder_segments, &process_rss, &process_vms, &process_cpu,
    &process_open_fds, &process_max_fds, &process_start, &memory_capacity, &memory_used, &memory_available,
    &memory_page_cache, &memory_anon, &memory_shmem, &swap_in_pages, &swap_out_pages, &major_faults, &page_in_bytes,
    &page_out_bytes, &oom_kills, &pressure_stalled, &swap_device_info, &swap_priority, &swap_peak, &disk_reads,
    &disk_reads_merged, &disk_read_bytes, &disk_read_time, &disk_writes, &disk_writes_merged, &disk_written_bytes,
    &disk_write_time, &disk_in_progress, &disk_io_time, &disk_io_weighted, &disk_discards, &disk_discards_merged,
    &disk_discarded_bytes, &disk_discard_time, &disk_flushes, &disk_flush_time, &disk_iops_peak,
    &disk_throughput_peak, &nvme_info, &nvme_state, &nvme_namespace_info, &nvme_namespace_capacity,
    &offload_device_info, &nvme_identify_info, &nvme_health_log_up, &nvme_health_log_age, &nvme_critical_warning,
    &nvme_temperature, &nvme_temperature_sensor, &nvme_available_spare, &nvme_available_spare_threshold,
    &nvme_percentage_used, &nvme_data_read, &nvme_data_written, &nvme_host_read_commands, &nvme_host_write_commands,
    &nvme_controller_busy, &nvme_power_cycles, &nvme_power_on, &nvme_unsafe_shutdowns, &nvme_media_errors,
    &nvme_error_log_entries, &nvme_warning_temperature_time, &nvme_critical_temperature_time, &gpu_info,
    &gpu_utilization, &gpu_memory_utilization, &gpu_power, &gpu_energy, &gpu_temperature, &gpu_clock,
    &gpu_pcie_throughput, &gpu_throttle_reasons, &gpu_throttle_active, &gpu_memory_reserved,
    &gpu_visible_vram_capacity, &gpu_visible_vram_used, &gpu_process_memory_sum, &process_gpu_memory,
    &gpu_probe_errors, &workload_process, &workload_source_info, &workload_memory, &workload_memory_current,
    &workload_memory_peak, &workload_memory_limit, &workload_memory_events, &workload_oom_kills, &workload_io_bytes,
    &workload_io_ops, &workload_major_faults, &cpu_energy, &cpu_temperature, &cpu_temperature_max,
    &cpu_temperature_critical, &cpu_thermal_throttle,
};

// Families whose names are only known at run time: one per /proc/meminfo
// field (probes/meminfo.cpp), tierscope_meminfo_<field>_{bytes,pages}.
inline constexpr std::string_view kMeminfoPrefix = "tierscope_meminfo_";

}  // namespace tierscope::metric
