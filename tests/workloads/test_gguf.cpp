// The GGUF reader and the memory-wall prediction: synthetic files written by
// tests/workloads/gguf_writer.h (v2 and v3, every value type, nested arrays,
// tensor infos), every hostile case, and the real stories260K model from
// ../shared/models when it is there.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/user_file.h"
#include "tests/workloads/gguf_writer.h"
#include "workloads/gguf.h"
#include "workloads/memory_wall.h"

namespace tierscope {
namespace {

using namespace tierscope::testing;

// The message of the GgufError that parsing `bytes` throws ("" when none).
std::string error_of(const std::string& bytes, std::uint64_t file_size = 0) {
  try {
    (void)parse_gguf(bytes, "t.gguf", file_size);
  } catch (const GgufError& e) {
    return e.what();
  }
  return "";
}

// A file whose only tensor info is `info`, with `data` bytes of tensor data.
std::string one_tensor(const std::string& info, std::uint64_t data = 0) {
  return gguf_file(3, {kv("general.architecture", kStr, gstr("llama"))}, {info}, data);
}

std::vector<std::string> every_value_type() {
  return {kv("u8", kU8, le(200, 1)),
          kv("i8", kI8, le(0xfb, 1)),
          kv("u16", kU16, le(65000, 2)),
          kv("i16", kI16, le(0xfed4, 2)),
          kv("u32", kU32, u32(4000000000)),
          kv("i32", kI32, u32(0xfffeee90)),
          kv("f32", kF32, u32(std::bit_cast<std::uint32_t>(1.5f))),
          kv("bool", kBool, le(1, 1)),
          kv("str", kStr, gstr("h\xc3\xa9llo")),
          kv("u64", kU64, u64((std::uint64_t{1} << 63) + 5)),
          kv("i64", kI64, u64(~std::uint64_t{0} - ((std::uint64_t{1} << 40) - 1))),
          kv("f64", kF64, u64(std::bit_cast<std::uint64_t>(-2.25)))};
}

// every_value_type() and then arrays of several kinds.
std::vector<std::string> with_arrays() {
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += u32(static_cast<std::uint64_t>(i));
  auto kvs = every_value_type();
  kvs.push_back(kv("a.u8", kArr, arr(kU8, 3, "\x01\x02\x03")));
  kvs.push_back(kv("a.str", kArr, arr(kStr, 2, gstr("x") + gstr("yz"))));
  kvs.push_back(kv("a.nested", kArr, arr(kArr, 2, arr(kI32, 2, u32(1) + u32(2)) + arr(kI32, 1, u32(0xffffffff)))));
  kvs.push_back(kv("a.long", kArr, arr(kU32, 100, hundred)));
  kvs.push_back(kv("a.empty", kArr, arr(kF64, 0, "")));
  return kvs;
}

template <typename T>
T scalar(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  EXPECT_NE(v, nullptr) << key;
  return v ? std::get<T>(v->scalar) : T{};
}

TEST(Gguf, EveryValueTypeReadsBackExactlyInV2AndV3) {
  for (std::uint32_t version : {2u, 3u}) {
    const GgufFile f = parse_gguf(gguf_file(version, with_arrays()), "t.gguf");
    EXPECT_EQ(f.version, version);
    EXPECT_EQ(scalar<std::uint64_t>(f, "u8"), 200u);
    EXPECT_EQ(scalar<std::int64_t>(f, "i8"), -5);
    EXPECT_EQ(scalar<std::uint64_t>(f, "u16"), 65000u);
    EXPECT_EQ(scalar<std::int64_t>(f, "i16"), -300);
    EXPECT_EQ(scalar<std::uint64_t>(f, "u32"), 4000000000u);
    EXPECT_EQ(scalar<std::int64_t>(f, "i32"), -70000);
    EXPECT_EQ(scalar<double>(f, "f32"), 1.5);
    EXPECT_EQ(scalar<bool>(f, "bool"), true);
    EXPECT_EQ(scalar<std::string>(f, "str"), "h\xc3\xa9llo");
    EXPECT_EQ(scalar<std::uint64_t>(f, "u64"), (std::uint64_t{1} << 63) + 5);
    EXPECT_EQ(scalar<std::int64_t>(f, "i64"), -(std::int64_t{1} << 40));
    EXPECT_EQ(scalar<double>(f, "f64"), -2.25);
    EXPECT_EQ(f.find("i16")->type, GgufType::int16);
    EXPECT_EQ(f.find("f32")->type, GgufType::float32);
  }
}

TEST(Gguf, ArraysKeepSmallOnesAndSummarizeLongOnes) {
  const GgufFile f = parse_gguf(gguf_file(2, with_arrays()), "t.gguf");
  const GgufValue& bytes = *f.find("a.u8");
  EXPECT_EQ(bytes.type, GgufType::array);
  EXPECT_EQ(bytes.element_type, GgufType::uint8);
  ASSERT_EQ(bytes.elements.size(), 3u);
  EXPECT_EQ(std::get<std::uint64_t>(bytes.elements[2].scalar), 3u);
  const GgufValue& strs = *f.find("a.str");
  ASSERT_EQ(strs.elements.size(), 2u);
  EXPECT_EQ(std::get<std::string>(strs.elements[1].scalar), "yz");
  const GgufValue& nested = *f.find("a.nested");
  EXPECT_EQ(nested.element_type, GgufType::array);
  ASSERT_EQ(nested.elements.size(), 2u);
  EXPECT_EQ(nested.elements[0].element_type, GgufType::int32);
  EXPECT_EQ(std::get<std::int64_t>(nested.elements[0].elements[1].scalar), 2);
  EXPECT_EQ(std::get<std::int64_t>(nested.elements[1].elements[0].scalar), -1);
  const GgufValue& longer = *f.find("a.long");
  EXPECT_EQ(longer.count, 100u);
  EXPECT_TRUE(longer.elements.empty());  // over kKeptArrayElements: type and count only
  EXPECT_EQ(f.find("a.empty")->count, 0u);
  EXPECT_EQ(f.find("a.empty")->element_type, GgufType::float64);
  EXPECT_EQ(gguf_type_name(longer.element_type), "uint32");
}

TEST(Gguf, TensorInfosAndTotalBytesFromBlockSizes) {
  // F32 4x2 = 32 bytes at 0; Q4_0 64x2 = 4 blocks of 18 = 72 bytes at 32;
  // Q8_K 256 = 1 block of 292 at 128; BF16 3 = 6 bytes at 448.
  const std::string file = gguf_file(3, {kv("general.architecture", kStr, gstr("llama"))},
                                     {tensor_info("a", {4, 2}, 0, 0), tensor_info("b", {64, 2}, 2, 32),
                                      tensor_info("c", {256}, 15, 128), tensor_info("d", {3}, 30, 448)},
                                     454);
  const GgufFile f = parse_gguf(file, "t.gguf");
  ASSERT_EQ(f.tensors.size(), 4u);
  EXPECT_EQ(f.tensors[1].name, "b");
  EXPECT_EQ(f.tensors[1].dims, (std::vector<std::uint64_t>{64, 2}));
  EXPECT_EQ(f.tensors[1].ggml_type, 2u);
  EXPECT_EQ(f.tensors[1].offset, 32u);
  EXPECT_EQ(f.tensors[1].bytes, 72u);
  EXPECT_EQ(f.tensors[2].bytes, 292u);
  EXPECT_EQ(f.tensors[3].bytes, 6u);
  EXPECT_EQ(f.tensor_bytes, 32u + 72 + 292 + 6);
  EXPECT_EQ(f.data_offset % 32, 0u);
  EXPECT_EQ(f.data_offset + 454, file.size());
  EXPECT_EQ(ggml_type(12)->name, "Q4_K");
  EXPECT_EQ(ggml_type(12)->block_bytes, 144u);
  EXPECT_EQ(ggml_type(4), nullptr);  // Q4_2, removed from ggml
}

TEST(Gguf, AlignmentKeyMovesTheData) {
  const std::string file = gguf_file(3, {kv("general.alignment", kU32, u32(64))}, {tensor_info("a", {16}, 0, 0)},
                                     64, 64);
  const GgufFile f = parse_gguf(file, "t.gguf");
  EXPECT_EQ(f.alignment, 64u);
  EXPECT_EQ(f.data_offset % 64, 0u);
  EXPECT_EQ(f.data_offset + 64, file.size());
}

TEST(Gguf, ModelFactsAndFileTypeName) {
  const GgufFile f = parse_gguf(
      gguf_file(3, {kv("general.architecture", kStr, gstr("qwen3moe")), kv("general.file_type", kU32, u32(15)),
                    kv("qwen3moe.context_length", kU32, u32(40960)), kv("qwen3moe.block_count", kU32, u32(48)),
                    kv("qwen3moe.embedding_length", kU32, u32(2048)),
                    kv("qwen3moe.attention.head_count", kU32, u32(32)),
                    kv("qwen3moe.attention.head_count_kv", kU32, u32(4)),
                    kv("qwen3moe.attention.key_length", kU32, u32(128)),
                    kv("qwen3moe.attention.value_length", kU32, u32(128)),
                    kv("qwen3moe.expert_count", kU32, u32(128)), kv("qwen3moe.expert_used_count", kU32, u32(8))}),
      "t.gguf");
  const GgufModelFacts m = model_facts(f);
  EXPECT_EQ(m.architecture, "qwen3moe");
  ASSERT_TRUE(m.file_type);
  EXPECT_EQ(file_type_name(*m.file_type), "MOSTLY_Q4_K_M");
  EXPECT_EQ(m.context_length, 40960u);
  EXPECT_EQ(m.block_count, 48u);
  EXPECT_EQ(m.head_count_kv, 4u);
  EXPECT_EQ(m.key_length, 128u);  // given, not 2048 / 32 = 64
  EXPECT_EQ(m.value_length, 128u);
  EXPECT_EQ(m.expert_count, 128u);
  EXPECT_EQ(m.expert_used_count, 8u);
  EXPECT_EQ(file_type_name(5), std::nullopt);  // Q4_2, removed
  EXPECT_EQ(file_type_name(0), "ALL_F32");
}

TEST(Gguf, ModelFactsDefaultsAndErrors) {
  auto facts_of = [](std::vector<std::string> kvs) { return model_facts(parse_gguf(gguf_file(3, kvs), "t.gguf")); };
  const auto arch = kv("general.architecture", kStr, gstr("llama"));
  const GgufModelFacts m = facts_of({arch, kv("llama.block_count", kU32, u32(2)),
                                     kv("llama.embedding_length", kU64, u64(96)),
                                     kv("llama.attention.head_count", kI32, u32(12))});
  EXPECT_EQ(m.head_count_kv, 12u);  // no GQA
  EXPECT_EQ(m.key_length, 8u);      // 96 / 12
  EXPECT_EQ(m.value_length, 8u);
  EXPECT_FALSE(m.context_length);
  EXPECT_FALSE(m.file_type);
  EXPECT_THROW(facts_of({}), GgufError);
  EXPECT_THROW(facts_of({arch}), GgufError);  // no block_count
  try {  // the architecture's name, from the file, quoted on one line
    facts_of({kv("general.architecture", kStr, gstr("a\nb"))});
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_STREQ(e.what(), "t.gguf: \"a?b.block_count\" is absent");
  }
  try {
    facts_of({arch, kv("llama.block_count", kStr, gstr("5"))});
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_STREQ(e.what(), "t.gguf: \"llama.block_count\" is a string, not a count");
  }
  try {
    facts_of({arch, kv("llama.block_count", kU32, u32(2))});
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_STREQ(e.what(), "t.gguf: \"llama.attention.key_length\" is absent and \"llama.attention.head_count\" is "
                           "absent or 0, so it cannot be derived");
  }
}

// ---- Hostile input: each a one-line GgufError, never a crash or a huge allocation.

TEST(GgufHostile, EveryTruncationIsAOneLineError) {
  const std::string file = gguf_file(3, with_arrays(), {tensor_info("w", {8}, 0, 0)}, 32);
  ASSERT_EQ(error_of(file), "");
  const std::size_t data_offset = parse_gguf(file, "t.gguf").data_offset;
  for (std::size_t n = 0; n < file.size(); ++n) {
    const std::string message = error_of(file.substr(0, n));
    ASSERT_TRUE(message.starts_with("t.gguf: offset ")) << n << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << n;
    if (n >= data_offset) {
      EXPECT_NE(message.find("ends past the end of the file"), std::string::npos) << message;
    }
  }
  EXPECT_EQ(error_of(file.substr(0, 10)), "t.gguf: offset 8: file ends in the tensor count (8 bytes needed, 2 left)");
}

TEST(GgufHostile, HeaderMagicAndVersions) {
  EXPECT_EQ(error_of("GGUG" + u32(3) + u64(0) + u64(0)), "t.gguf: offset 0: not a GGUF file (the magic is not \"GGUF\")");
  EXPECT_EQ(error_of(gguf_file(1, {})),
            "t.gguf: offset 4: GGUF version 1 (32-bit counts) is not supported; re-convert the model with a current "
            "llama.cpp");
  EXPECT_EQ(error_of(gguf_file(4, {})), "t.gguf: offset 4: GGUF version 4, not 2 or 3");
  EXPECT_EQ(error_of(gguf_file(0x03000000, {})), "t.gguf: offset 4: a big-endian GGUF file (version 3), not supported");
  EXPECT_EQ(error_of(""), "t.gguf: offset 0: file ends in the magic (4 bytes needed, 0 left)");
}

TEST(GgufHostile, HugeCounts) {
  EXPECT_EQ(error_of("GGUF" + u32(3) + u64(0) + u64(std::uint64_t{1} << 60)),
            "t.gguf: offset 16: the metadata key count is 1152921504606846976, more than the 65536 read at most");
  EXPECT_EQ(error_of("GGUF" + u32(3) + u64(0) + u64(1000)),
            "t.gguf: offset 16: the metadata key count is 1000, more than the 0 bytes left can hold");
  EXPECT_EQ(error_of("GGUF" + u32(3) + u64(~std::uint64_t{0}) + u64(0)),
            "t.gguf: offset 8: the tensor count is 18446744073709551615, more than the 262144 read at most");
  EXPECT_EQ(error_of(gguf_file(3, {kv("a", kArr, arr(kU32, std::uint64_t{1} << 61, ""))})),
            "t.gguf: offset 41: metadata key 0 \"a\" holds 2305843009213693952 uint32 elements, more than the "
            "0 bytes left can hold");
}

TEST(GgufHostile, StringLengthPastTheEnd) {
  EXPECT_EQ(error_of("GGUF" + u32(3) + u64(0) + u64(1) + u64(1000) + std::string(20, 'a')),
            "t.gguf: offset 24: metadata key 0 is 1000 bytes, past the end of the file (20 bytes left)");
  EXPECT_EQ(error_of(gguf_file(3, {kv("s", kStr, u64(~std::uint64_t{0}))})),
            "t.gguf: offset 37: metadata key 0 \"s\" is 18446744073709551615 bytes, more than 67108864");
  EXPECT_EQ(error_of("GGUF" + u32(3) + u64(0) + u64(1) + u64(std::uint64_t{1} << 20) + u64(0)),
            "t.gguf: offset 24: metadata key 0 is 1048576 bytes, more than 65536");
}

TEST(GgufHostile, UnknownValueTypes) {
  EXPECT_EQ(error_of(gguf_file(3, {kv("key", kU8, le(1, 1)), kv("bad\nkey", 255, "")})),
            "t.gguf: offset 55: metadata key 1 \"bad?key\" has type 255, not a GGUF type");
  EXPECT_EQ(error_of(gguf_file(3, {kv("a", kArr, arr(13, 1, ""))})),
            "t.gguf: offset 37: metadata key 0 \"a\" element has type 13, not a GGUF type");
  EXPECT_EQ(error_of(gguf_file(3, {kv("b", kBool, le(2, 1))})),
            "t.gguf: offset 37: metadata key 0 \"b\" is a bool of value 2, not 0 or 1");
}

TEST(GgufHostile, NestedArrayDepthBomb) {
  std::string bomb = arr(kU8, 0, "");
  for (int i = 0; i < 1000; ++i) bomb = arr(kArr, 1, bomb);
  const std::string message = error_of(gguf_file(3, {kv("a", kArr, bomb)}));
  EXPECT_TRUE(message.find("nests arrays deeper than 8 levels") != std::string::npos) << message;
  std::string eight = arr(kU8, 0, "");
  for (int i = 0; i < 7; ++i) eight = arr(kArr, 1, eight);
  EXPECT_EQ(error_of(gguf_file(3, {kv("a", kArr, eight)})), "");
}

TEST(GgufHostile, DuplicateKeysAndTensors) {
  EXPECT_EQ(error_of(gguf_file(3, {kv("k", kU8, le(1, 1)), kv("k", kU8, le(2, 1))})),
            "t.gguf: offset 38: metadata key 1 \"k\" appears twice");
  const std::string twice = gguf_file(3, {}, {tensor_info("w", {8}, 0, 0), tensor_info("w", {8}, 0, 32)}, 64);
  EXPECT_EQ(error_of(twice), "t.gguf: offset 57: tensor 1 \"w\" appears twice");
}

TEST(GgufHostile, BadTensorInfos) {
  EXPECT_EQ(error_of(one_tensor(tensor_info("w", {1, 1, 1, 1, 1}, 0, 0))),
            "t.gguf: offset 69: tensor 0 \"w\" has 5 dimensions, more than 4");
  EXPECT_EQ(error_of(one_tensor(tensor_info("w", {std::uint64_t{1} << 32, std::uint64_t{1} << 32}, 0, 0))),
            "t.gguf: offset 69: tensor 0 \"w\" has dimensions whose element count overflows");
  EXPECT_EQ(error_of(one_tensor(tensor_info("w", {std::uint64_t{1} << 62}, 28, 0))),
            "t.gguf: offset 69: tensor 0 \"w\" has dimensions whose byte count overflows");
  EXPECT_EQ(error_of(one_tensor(tensor_info("w", {8}, 0, 4), 64)),
            "t.gguf: offset 69: tensor 0 \"w\" has data offset 4, not a multiple of the alignment 32");
  EXPECT_EQ(error_of(one_tensor(tensor_info("w", {8}, 99, 0), 64)),
            "t.gguf: offset 69: tensor 0 \"w\" has ggml type 99, not a type this reader knows");
  EXPECT_EQ(error_of(one_tensor(tensor_info("w", {33}, 2, 0), 64)),
            "t.gguf: offset 69: tensor 0 \"w\" has a first dimension of 33, not a multiple of the 32 elements of a "
            "Q4_0 block");
  EXPECT_EQ(error_of(one_tensor(tensor_info("w", {8}, 0, 0), 31)),
            "t.gguf: offset 102: tensor \"w\" (32 bytes at data offset 0) ends past the end of the file (159 bytes)");
  EXPECT_EQ(error_of(one_tensor(tensor_info("w", {8}, 0, ~std::uint64_t{0} - 31), 32)),
            "t.gguf: offset 102: tensor \"w\" (32 bytes at data offset 18446744073709551584) ends past the end of the "
            "file (160 bytes)");
  EXPECT_EQ(error_of(gguf_file(3, {kv("general.alignment", kU32, u32(3))})),
            "t.gguf: offset 57: general.alignment is not a uint32 power of two");
}

TEST(GgufHostile, HeadReadIsCapped) {
  // The first bytes of a longer file: running out of them is not truncation.
  const std::string file = gguf_file(3, every_value_type());
  EXPECT_EQ(error_of(file.substr(0, 30), 1 << 30),
            "t.gguf: offset 24: metadata key 0 lies past the first 30 bytes read at most (header, metadata and "
            "tensor infos must fit)");
}

TEST(GgufHostile, FilesThatAreNotRegular) {
  EXPECT_THROW(read_gguf("/nonexistent/model.gguf"), GgufError);
  try {
    read_gguf("/");
    FAIL();
  } catch (const GgufError& e) {
    EXPECT_STREQ(e.what(), "/: not a regular file (a directory)");
  }
  const std::string fifo = ::testing::TempDir() + "gguf_fifo";
  std::filesystem::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THROW(read_gguf(fifo), GgufError);  // refused at once, never waited on
  std::filesystem::remove(fifo);
}

TEST(Gguf, ReadsAFileFromDisk) {
  const std::string path = ::testing::TempDir() + "gguf_read.gguf";
  const std::string file = gguf_file(2, every_value_type(), {tensor_info("w", {8}, 1, 0)}, 16);
  std::ofstream(path, std::ios::binary) << file;
  const GgufFile f = read_gguf(path);
  EXPECT_EQ(f.name, path);
  EXPECT_EQ(f.file_size, file.size());
  EXPECT_EQ(f.tensor_bytes, 16u);
  std::filesystem::remove(path);
}

TEST(Gguf, HeadOfALongerFileIsItsFirstBytes) {
  const std::string path = ::testing::TempDir() + "gguf_head.bin";
  std::ofstream(path, std::ios::binary) << std::string(100000, 'x');
  std::string error;
  const auto head = read_user_file_head(path, error, 10);
  ASSERT_TRUE(head) << error;
  EXPECT_EQ(head->bytes, std::string(10, 'x'));
  EXPECT_EQ(head->file_size, 100000u);
  std::filesystem::remove(path);
}

// ---- The real model: ../shared/models/stories260K.gguf.

#ifndef TIERSCOPE_SHARED_MODELS
#define TIERSCOPE_SHARED_MODELS "../shared/models"
#endif

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// An independent look-up of a uint32 key in the raw bytes: the key's length
// (uint64) and bytes, then type 4 (uint32), then the value.
std::uint64_t raw_u32_after_key(const std::string& bytes, const std::string& key) {
  const std::string needle = u64(key.size()) + key + u32(kU32);
  const std::size_t at = bytes.find(needle);
  if (at == std::string::npos) return ~std::uint64_t{0};
  std::uint64_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + needle.size() + i]);
  return v;
}

class GgufStories260K : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::string(TIERSCOPE_SHARED_MODELS) + "/stories260K.gguf";
    if (!std::filesystem::exists(path_)) GTEST_SKIP() << path_ << " is absent (it lives beside the checkout)";
  }
  std::string path_;
};

// The values below were established with an independent Python parse of the
// file (struct.unpack over the spec's layout) and are cross-checked here
// against the raw bytes: each uint32 key is found by its length-prefixed name.
TEST_F(GgufStories260K, MetadataMatchesTheFile) {
  const std::string raw = read_all(path_);
  const GgufFile f = read_gguf(path_);
  EXPECT_EQ(f.version, 3u);
  EXPECT_EQ(f.file_size, raw.size());
  EXPECT_EQ(f.file_size, 1185376u);
  EXPECT_EQ(f.metadata.size(), 19u);
  EXPECT_EQ(f.tensors.size(), 48u);
  const GgufModelFacts m = model_facts(f);
  EXPECT_EQ(m.architecture, "llama");
  EXPECT_EQ(f.text("general.name"), "llama");
  EXPECT_EQ(f.text("tokenizer.ggml.model"), "llama");
  EXPECT_FALSE(m.file_type);  // the file has no general.file_type
  for (const char* key : {"llama.context_length", "llama.block_count", "llama.embedding_length",
                          "llama.attention.head_count", "llama.attention.head_count_kv"})
    EXPECT_EQ(f.count(key), raw_u32_after_key(raw, key)) << key;
  EXPECT_EQ(m.context_length, 128u);
  EXPECT_EQ(m.block_count, 5u);
  EXPECT_EQ(m.embedding_length, 64u);
  EXPECT_EQ(m.head_count, 8u);
  EXPECT_EQ(m.head_count_kv, 4u);
  EXPECT_EQ(f.find("llama.attention.key_length"), nullptr);
  EXPECT_EQ(m.key_length, 8u);  // 64 / 8
  EXPECT_EQ(m.value_length, 8u);
  EXPECT_EQ(m.expert_count, 0u);
  EXPECT_EQ(f.count("tokenizer.ggml.seperator_token_id"), 4294967295u);
  EXPECT_EQ(std::get<double>(f.find("llama.attention.layer_norm_rms_epsilon")->scalar), double{1e-5f});
  const GgufValue& tokens = *f.find("tokenizer.ggml.tokens");
  EXPECT_EQ(tokens.element_type, GgufType::string);
  EXPECT_EQ(tokens.count, 512u);
  EXPECT_EQ(f.find("tokenizer.ggml.scores")->element_type, GgufType::float32);
  EXPECT_EQ(f.find("tokenizer.ggml.token_type")->element_type, GgufType::int32);
}

TEST_F(GgufStories260K, TensorsMatchTheFile) {
  const GgufFile f = read_gguf(path_);
  EXPECT_EQ(f.tensors.front().name, "token_embd.weight");
  EXPECT_EQ(f.tensors.front().dims, (std::vector<std::uint64_t>{64, 512}));
  EXPECT_EQ(f.tensors.back().name, "blk.4.ffn_norm.weight");
  EXPECT_EQ(f.tensors.back().offset, 1170944u);
  std::uint64_t f32_bytes = 0;
  for (const GgufTensor& t : f.tensors) {
    EXPECT_EQ(t.ggml_type, 0u) << t.name;  // all F32
    std::uint64_t n = 4;
    for (auto d : t.dims) n *= d;
    f32_bytes += n;
  }
  EXPECT_EQ(f.tensor_bytes, f32_bytes);
  EXPECT_EQ(f.tensor_bytes, 1171200u);
  // The tensors are packed up to the end of the file: the data after the
  // 32-aligned end of the tensor infos (byte 14152 -> 14176) is exactly theirs.
  EXPECT_EQ(f.data_offset, 14176u);
  EXPECT_EQ(f.data_offset + f.tensor_bytes, f.file_size);
}

// llama.cpp's server reports 640 bytes of KV cache per token for this model at
// f16: 5 layers x 4 KV heads x (8 + 8) x 2 bytes. At q8_0 a row of 4 x 8 = 32
// elements is one 34-byte block: 5 x (34 + 34) = 340. At q4_0 one 18-byte
// block: 5 x (18 + 18) = 180.
TEST_F(GgufStories260K, KvCachePerToken) {
  const KvShape s = kv_shape(model_facts(read_gguf(path_)));
  EXPECT_EQ(kv_bytes_per_token(s, KvCacheType::f16, KvCacheType::f16), 640u);
  EXPECT_EQ(kv_bytes_per_token(s, KvCacheType::q8_0, KvCacheType::q8_0), 340u);
  EXPECT_EQ(kv_bytes_per_token(s, KvCacheType::q4_0, KvCacheType::q4_0), 180u);
  EXPECT_EQ(kv_bytes_per_token(s, KvCacheType::f32, KvCacheType::f32), 1280u);
}

TEST_F(GgufStories260K, PredictedWall) {
  const WallModel model = wall_model(model_facts(read_gguf(path_)), KvCacheType::f16, KvCacheType::f16);
  EXPECT_EQ(model.weights_bytes, 1171200u);
  // 1171200 + 100 x 640 + 639: 100 tokens; 2 MiB: 1446 by the budget, 128 by the model.
  const std::vector<TierBudget> budgets{{"vram", 1171200 + 64000 + 639, {}}, {"ram", 2 << 20, {}}};
  const auto walls = predict_walls(budgets, model);
  EXPECT_EQ(walls[0].max_context, 100u);
  EXPECT_FALSE(walls[0].clamped);
  EXPECT_EQ(walls[1].max_context, 128u);
  EXPECT_TRUE(walls[1].clamped);
}

// ---- Memory wall on literal shapes.

TEST(MemoryWall, RowBytesRoundUpToWholeBlocks) {
  EXPECT_EQ(kv_row_bytes(KvCacheType::f16, 4096), 8192u);
  EXPECT_EQ(kv_row_bytes(KvCacheType::bf16, 3), 6u);
  EXPECT_EQ(kv_row_bytes(KvCacheType::q8_0, 32), 34u);
  EXPECT_EQ(kv_row_bytes(KvCacheType::q8_0, 33), 68u);  // two blocks
  EXPECT_EQ(kv_row_bytes(KvCacheType::q4_0, 4096), 128u * 18);
  EXPECT_EQ(kv_row_bytes(KvCacheType::q4_1, 64), 40u);
  EXPECT_EQ(kv_row_bytes(KvCacheType::q5_0, 64), 44u);
  EXPECT_EQ(kv_row_bytes(KvCacheType::q5_1, 64), 48u);
  EXPECT_EQ(kv_row_bytes(KvCacheType::q4_0, 0), 0u);
}

TEST(MemoryWall, CacheTypeNames) {
  EXPECT_EQ(kv_cache_type_from_name("q8_0"), KvCacheType::q8_0);
  EXPECT_EQ(kv_cache_type_from_name("f32"), KvCacheType::f32);
  EXPECT_EQ(kv_cache_type_from_name("q8"), std::nullopt);
  EXPECT_EQ(kv_cache_layout(KvCacheType::q5_1).name, "q5_1");
}

// A Llama-3-8B shape: 32 layers, 8 KV heads of 128. f16: 32 x 2 x 1024 x 2 =
// 131072. q8_0: 1024 / 32 = 32 blocks x 34 = 1088 per row, x 2 x 32 = 69632.
// q4_0: 32 x 18 = 576 per row, x 2 x 32 = 36864. K q8_0 with V f16:
// 32 x (1088 + 2048) = 100352.
TEST(MemoryWall, KvBytesPerTokenOfALlamaShape) {
  const KvShape s{32, 8, 128, 128};
  EXPECT_EQ(kv_bytes_per_token(s, KvCacheType::f16, KvCacheType::f16), 131072u);
  EXPECT_EQ(kv_bytes_per_token(s, KvCacheType::q8_0, KvCacheType::q8_0), 69632u);
  EXPECT_EQ(kv_bytes_per_token(s, KvCacheType::q4_0, KvCacheType::q4_0), 36864u);
  EXPECT_EQ(kv_bytes_per_token(s, KvCacheType::q8_0, KvCacheType::f16), 100352u);
  EXPECT_EQ(kv_bytes_per_token({~std::uint64_t{0}, 8, 128, 128}, KvCacheType::f16, KvCacheType::f16),
            ~std::uint64_t{0});  // saturates
}

TEST(MemoryWall, LargestContextPerTier) {
  const WallModel model{400, 10, 40, 0, 0};
  WallPrediction p = predict_wall({"vram", 1000, {}}, model, 100);  // (1000 - 400 - 100) / 10 = 50 > 40
  EXPECT_TRUE(p.weights_fit);
  EXPECT_EQ(p.max_context, 40u);
  EXPECT_TRUE(p.clamped);
  p = predict_wall({"vram", 809, {}}, model, 100);  // (809 - 500) / 10 = 30
  EXPECT_EQ(p.max_context, 30u);
  EXPECT_FALSE(p.clamped);
  EXPECT_EQ(p.overhead_bytes, 100u);
  p = predict_wall({"vram", 499, {}}, model, 100);
  EXPECT_FALSE(p.weights_fit);
  EXPECT_EQ(p.max_context, 0u);
  p = predict_wall({"memory_max", 300, 100}, model);  // a third of the weights here: (300 - 100) / 10 = 20
  EXPECT_EQ(p.weights_bytes, 100u);
  EXPECT_EQ(p.max_context, 20u);
  p = predict_wall({"ram", 1000, {}}, WallModel{400, 10, std::nullopt, 0, 0});  // no context_length: no clamp
  EXPECT_EQ(p.max_context, 60u);
  EXPECT_EQ(predict_wall({"ram", 1000, {}}, WallModel{400, 0, 40, 0, 0}).max_context, 40u);
  EXPECT_FALSE(predict_wall({"ram", 1000, {}}, WallModel{400, 0, std::nullopt, 0, 0}).max_context);  // unbounded
}

TEST(MemoryWall, ExpertCountsAreReported) {
  GgufModelFacts facts;
  facts.block_count = 2;
  facts.head_count_kv = 1;
  facts.key_length = 32;
  facts.value_length = 32;
  facts.expert_count = 128;
  facts.expert_used_count = 8;
  facts.tensor_bytes = 1000;
  const WallModel m = wall_model(facts, KvCacheType::q8_0, KvCacheType::q4_0);
  EXPECT_EQ(m.kv_bytes_per_token, 2u * (34 + 18));
  EXPECT_EQ(m.expert_count, 128u);
  EXPECT_EQ(m.expert_used_count, 8u);
  EXPECT_EQ(m.weights_bytes, 1000u);
}

}  // namespace
}  // namespace tierscope
