#include <gtest/gtest.h>

#include "core/byte_size.h"

using namespace tierscope;

namespace {
std::optional<std::uint64_t> bytes(std::string_view s) { return parse_byte_size(s).bytes; }
}  // namespace

TEST(ByteSize, ParsesBinarySuffixesAndBytes) {
  EXPECT_EQ(bytes("1048576"), 1048576u);
  EXPECT_EQ(bytes("0"), 0u);
  EXPECT_EQ(bytes("512M"), 512ull << 20);
  EXPECT_EQ(bytes("512m"), 512ull << 20);
  EXPECT_EQ(bytes("16G"), 16ull << 30);
  EXPECT_EQ(bytes("16GiB"), 16ull << 30);
  EXPECT_EQ(bytes("4K"), 4096u);
  EXPECT_EQ(bytes("2T"), 2ull << 40);
  EXPECT_EQ(bytes(" 48M "), 48ull << 20);
  EXPECT_EQ(bytes("100B"), 100u);
}

TEST(ByteSize, FractionsRoundDownToWholeBytesExactly) {
  EXPECT_EQ(bytes("1.5G"), 3ull << 29);
  EXPECT_EQ(bytes("0.5K"), 512u);
  EXPECT_EQ(bytes(".25M"), 256ull << 10);
  EXPECT_EQ(bytes("0.1K"), 102u);  // 102.4 rounded down
  EXPECT_EQ(bytes("0.999999999T"), 1099511626676u);  // floor(2^40 × 999999999 / 10^9)
}

TEST(ByteSize, RefusesAmbiguousMalformedAndOverflowing) {
  for (auto bad : {"", "G", "16GB", "16MB", "1kB", "-1G", "1.5", "1..5G", "1.G", "16X", "1e3", "16 Gi",
                   "18446744073709551616", "16777216T", "0.1234567891G"})
    EXPECT_FALSE(bytes(bad)) << bad;
  EXPECT_NE(parse_byte_size("16GB").error.find("16G"), std::string::npos) << parse_byte_size("16GB").error;
  EXPECT_EQ(bytes("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(bytes("16777215T"), 16777215ull << 40);
}

TEST(ByteSize, FormatsTheShortestExactSpellingAndReadsItBack) {
  EXPECT_EQ(format_byte_size(48ull << 20), "48M");
  EXPECT_EQ(format_byte_size(16ull << 30), "16G");
  EXPECT_EQ(format_byte_size(1536ull << 10), "1536K");
  EXPECT_EQ(format_byte_size(1000), "1000");
  EXPECT_EQ(format_byte_size(0), "0");
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{4096}, std::uint64_t{3} << 29, std::uint64_t{1099511626677}, std::uint64_t{UINT64_MAX}})
    EXPECT_EQ(bytes(format_byte_size(v)), v) << v;
}
