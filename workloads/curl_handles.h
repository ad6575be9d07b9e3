#pragma once
// Owners of the libcurl handles the transport (http_stream.cpp) holds: an
// easy handle, a header list and a multi handle each freed when its owner
// goes, so no code path frees them by hand. libcurl's global initialisation
// runs once, before the first multi handle.
//
// Threading: an owner belongs to its handle's thread (libcurl handles are not
// shared between threads); curl_global_init_once() may run on any thread.

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace tierscope::workloads {

// curl_global_init(CURL_GLOBAL_DEFAULT), once per process; throws
// std::runtime_error when it fails.
inline void curl_global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

struct EasyCleanup {
  void operator()(CURL* e) const { curl_easy_cleanup(e); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyHandle = std::unique_ptr<CURL, EasyCleanup>;
using HeaderList = std::unique_ptr<curl_slist, SlistFree>;

// A multi handle (null when curl_multi_init failed). Unlike a unique_ptr
// reset, its handle stays readable while curl_multi_cleanup() runs: libcurl
// may call the socket callback, which uses it, while it closes cached
// connections.
class CurlMulti {
 public:
  CurlMulti() {
    curl_global_init_once();
    handle_ = curl_multi_init();
  }
  ~CurlMulti() {
    if (handle_) curl_multi_cleanup(handle_);
  }
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;
  CURLM* get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  CURLM* handle_ = nullptr;
};

// "Expect:" (no 100-continue round trip before large prompts), then
// `headers` ("Name: value"). A header libcurl cannot append is left out.
inline HeaderList header_list(const std::vector<std::string>& headers) {
  HeaderList list(curl_slist_append(nullptr, "Expect:"));
  for (const std::string& h : headers)
    if (curl_slist* longer = curl_slist_append(list.get(), h.c_str())) {
      (void)list.release();  // `longer` is the same list, or a new one when it was empty
      list.reset(longer);
    }
  return list;
}

}  // namespace tierscope::workloads
