#include "workloads/systemd_scope.h"

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace tierscope::workloads {

namespace {

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr std::uint64_t kCallTimeoutUs = 30'000'000;

struct BusDeleter {
  void operator()(sd_bus* b) const { sd_bus_flush_close_unref(b); }
};
struct MessageDeleter {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using Bus = std::unique_ptr<sd_bus, BusDeleter>;
using Message = std::unique_ptr<sd_bus_message, MessageDeleter>;

// sd-bus reports errors as negative errno values.
void check(int r, const char* what) {
  if (r < 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(-r));
}

Bus open_system_bus() {
  sd_bus* bus = nullptr;
  int r = sd_bus_open_system(&bus);
  if (r < 0)
    throw std::runtime_error(std::string("cannot connect to the system bus: ") + std::strerror(-r));
  return Bus(bus);
}

// Calls `m`, throwing the bus error (name: message) when it fails.
Message call(sd_bus* bus, sd_bus_message* m, const char* what) {
  sd_bus_error error{};  // SD_BUS_ERROR_NULL, without its C compound literal
  sd_bus_message* reply = nullptr;
  int r = sd_bus_call(bus, m, kCallTimeoutUs, &error, &reply);
  if (r < 0) {
    std::string message = std::string(what) + ": " + (error.name ? error.name : std::strerror(-r));
    if (error.message) message += ": " + std::string(error.message);
    sd_bus_error_free(&error);
    throw std::runtime_error(message);
  }
  sd_bus_error_free(&error);
  return Message(reply);
}

void append_u64(sd_bus_message* m, const char* name, const std::optional<std::uint64_t>& value) {
  if (value) check(sd_bus_message_append(m, "(sv)", name, "t", *value), name);
}

}  // namespace

bool systemd_is_init() { return sd_booted() > 0; }

void start_transient_scope(const std::string& unit, pid_t pid, const ScopeProperties& props) {
  Bus bus = open_system_bus();
  sd_bus_message* raw = nullptr;
  check(sd_bus_message_new_method_call(bus.get(), &raw, kDest, kPath, kManager, "StartTransientUnit"),
        "StartTransientUnit");
  Message m(raw);
  check(sd_bus_message_append(m.get(), "ss", unit.c_str(), "fail"), "unit name");
  check(sd_bus_message_open_container(m.get(), 'a', "(sv)"), "properties");
  if (!props.description.empty())
    check(sd_bus_message_append(m.get(), "(sv)", "Description", "s", props.description.c_str()), "Description");
  if (!props.slice.empty()) check(sd_bus_message_append(m.get(), "(sv)", "Slice", "s", props.slice.c_str()), "Slice");
  check(sd_bus_message_append(m.get(), "(sv)", "PIDs", "au", 1, static_cast<std::uint32_t>(pid)), "PIDs");
  check(sd_bus_message_append(m.get(), "(sv)", "CollectMode", "s", "inactive-or-failed"), "CollectMode");
  append_u64(m.get(), "MemoryMax", props.memory_max);
  append_u64(m.get(), "MemoryHigh", props.memory_high);
  append_u64(m.get(), "MemorySwapMax", props.memory_swap_max);
  check(sd_bus_message_close_container(m.get()), "properties");
  check(sd_bus_message_append(m.get(), "a(sa(sv))", 0), "aux");
  call(bus.get(), m.get(), ("StartTransientUnit " + unit).c_str());
}

bool stop_unit(const std::string& unit, std::string& error) {
  try {
    Bus bus = open_system_bus();
    sd_bus_message* raw = nullptr;
    check(sd_bus_message_new_method_call(bus.get(), &raw, kDest, kPath, kManager, "StopUnit"), "StopUnit");
    Message m(raw);
    check(sd_bus_message_append(m.get(), "ss", unit.c_str(), "fail"), "unit name");
    call(bus.get(), m.get(), ("StopUnit " + unit).c_str());
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

}  // namespace tierscope::workloads
