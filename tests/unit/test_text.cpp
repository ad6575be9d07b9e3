#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/text.h"

using namespace tierscope;

TEST(Text, ParseU64AcceptsOnlyWholeUnsignedNumbers) {
  EXPECT_EQ(text::parse_u64("0"), 0u);
  EXPECT_EQ(text::parse_u64("18446744073709551615"), 18446744073709551615ull);
  EXPECT_FALSE(text::parse_u64("18446744073709551616"));  // overflow
  EXPECT_FALSE(text::parse_u64(""));
  EXPECT_FALSE(text::parse_u64("-1"));
  EXPECT_FALSE(text::parse_u64("+1"));
  EXPECT_FALSE(text::parse_u64("12a"));
  EXPECT_FALSE(text::parse_u64(" 12"));
}

TEST(Text, ParseHexTakesSysfsVendorSpelling) {
  EXPECT_EQ(text::parse_hex("0x1987\n"), 0x1987u);
  EXPECT_EQ(text::parse_hex("144d"), 0x144du);
  EXPECT_EQ(text::parse_hex("0X1B36"), 0x1b36u);
  EXPECT_FALSE(text::parse_hex("0x"));
  EXPECT_FALSE(text::parse_hex("0xzz"));
  EXPECT_FALSE(text::parse_hex(""));
}

TEST(Text, ParseDoubleRejectsGarbageAndNonFinite) {
  EXPECT_DOUBLE_EQ(*text::parse_double("0.18"), 0.18);
  EXPECT_FALSE(text::parse_double("inf"));
  EXPECT_FALSE(text::parse_double("nan"));
  EXPECT_FALSE(text::parse_double("1.0x"));
  EXPECT_FALSE(text::parse_double(""));
}

TEST(Text, LinesHandlesMissingFinalNewlineAndEmptyLines) {
  std::vector<std::string> got;
  text::Lines lines("a\n\nb");
  std::string_view l;
  while (lines.next(l)) got.emplace_back(l);
  EXPECT_EQ(got, (std::vector<std::string>{"a", "", "b"}));
  text::Lines none("");
  EXPECT_FALSE(none.next(l));
}

TEST(Text, FieldsSplitOnRunsOfBlanks) {
  text::Fields f("  259   0 nvme0n1\t4 ");
  EXPECT_EQ(f.next(), "259");
  EXPECT_EQ(f.next(), "0");
  EXPECT_EQ(f.next(), "nvme0n1");
  EXPECT_FALSE(f.done());
  EXPECT_EQ(f.next(), "4");
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.next(), "");
}

TEST(Text, UnescapeOctalAsTheKernelEscapes) {
  EXPECT_EQ(text::unescape_octal("/swap\\040file"), "/swap file");
  EXPECT_EQ(text::unescape_octal("a\\134b"), "a\\b");
  EXPECT_EQ(text::unescape_octal("tab\\011x"), "tab\tx");
  // Not an escape: too short, non-octal, or first digit beyond 3.
  EXPECT_EQ(text::unescape_octal("end\\04"), "end\\04");
  EXPECT_EQ(text::unescape_octal("x\\089"), "x\\089");
  EXPECT_EQ(text::unescape_octal("x\\477"), "x\\477");
  EXPECT_EQ(text::unescape_octal("\\"), "\\");
}

TEST(Text, TrimStripsWhitespaceOnly) {
  EXPECT_EQ(text::trim("  PHISON AI100E 2TB    \n"), "PHISON AI100E 2TB");
  EXPECT_EQ(text::trim("\n"), "");
}

TEST(Text, MakeValidUtf8ReplacesOnlyInvalidSequences) {
  std::string ascii = "/dev/nvme0n1p3";
  EXPECT_TRUE(text::make_valid_utf8(ascii));
  EXPECT_EQ(ascii, "/dev/nvme0n1p3");
  std::string good = "/swap/\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe";  // été € U+1F4BE
  EXPECT_TRUE(text::make_valid_utf8(good));
  std::string bad = "a\xff" "b\xc3" "\xe0\x80\x80" "\xed\xa0\x80" "\xf4\x90\x80\x80";
  EXPECT_FALSE(text::make_valid_utf8(bad));
  std::string expected = "a\xEF\xBF\xBD" "b\xEF\xBF\xBD";
  for (int i = 0; i < 3 + 3 + 4; ++i) expected += "\xEF\xBF\xBD";
  EXPECT_EQ(bad, expected);
}

TEST(Text, QuotedStaysOnOneLine) {
  EXPECT_EQ(text::quoted("a\nb\tc\x1b[31m\x7f"), "\"a?b?c?[31m?\"");
  EXPECT_EQ(text::quoted("\xc3\xa9t\xc3\xa9"), "\"\xc3\xa9t\xc3\xa9\"");  // UTF-8 kept
}

TEST(Text, SizeWordsNamesWholeMebiAndKibibytes) {
  EXPECT_EQ(text::size_words(std::size_t{4} << 20), "4 MiB");
  EXPECT_EQ(text::size_words(std::size_t{64} << 10), "64 KiB");
  EXPECT_EQ(text::size_words(1536), "1536 bytes");  // not a whole KiB
  EXPECT_EQ(text::size_words((std::size_t{1} << 20) + 1024), "1025 KiB");
  EXPECT_EQ(text::size_words(0), "0 bytes");
}
