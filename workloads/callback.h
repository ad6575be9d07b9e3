#pragma once
// A non-owning reference to a callable, for the stream parsers' per-event
// callbacks: no allocation and no std::function type erasure on the hot path,
// while the parsers themselves stay out of line in their .cpp files.

#include <memory>
#include <type_traits>
#include <utility>

namespace tierscope::workloads {

template <typename Arg>
class CallbackRef {
 public:
  // Refers to `fn`, which must outlive every call (a temporary passed straight
  // to feed()/finish() lives until the end of that call).
  template <typename Fn>
    requires(!std::is_same_v<std::remove_cvref_t<Fn>, CallbackRef> && std::is_invocable_v<Fn&, Arg>)
  CallbackRef(Fn&& fn)  // NOLINT(google-explicit-constructor): used like a function parameter
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(fn)))),
        call_([](void* object, Arg arg) { (*static_cast<std::remove_reference_t<Fn>*>(object))(arg); }) {}

  void operator()(Arg arg) const { call_(object_, arg); }

 private:
  void* object_;
  void (*call_)(void*, Arg);
};

}  // namespace tierscope::workloads
