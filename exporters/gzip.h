#pragma once
// gzip encoding of a /metrics body for clients that send
// Accept-Encoding: gzip (Prometheus does), through zlib.

#include <string>
#include <string_view>

namespace tierscope {

// The gzip member (RFC 1952) of `text`, default compression level.
std::string gzip_compress(std::string_view text);

}  // namespace tierscope
