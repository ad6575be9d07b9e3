// bench_stream_parse: how many streamed tokens one core parses and interprets
// (workloads/sse.h, ndjson.h, engine_stream.h). Prints figures; asserts
// nothing about them (the issue's floor is 50 000 tokens/s on one core).
//
// Streams, one token per message, built in memory from the engines'
// documented formats:
//   - OpenAI/vLLM chat SSE: `data: {"id":…,"choices":[{"delta":{"content":"tok"}…}]}`
//     + the usage chunk + [DONE];
//   - Ollama /api/chat NDJSON: `{"model":…,"message":{"content":"tok"},"done":false}`
//     + the final line with its counters.
// Each is fed to a StreamDecoder (a) one message per feed() call, as a client
// reading one network packet per token sees it, and (b) in 16 KiB slices, as
// a backlogged socket delivers it; and (c) to the framing alone (SseParser /
// NdjsonSplitter, no JSON). Time is this thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID), best of --repeat runs.
//
// Usage: bench_stream_parse [--tokens N] [--repeat R]

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/engine_stream.h"
#include "workloads/ndjson.h"
#include "workloads/sse.h"

using namespace tierscope::workloads;

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

const char* const kWords[] = {"The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".",
                              " Memory", " tiers", ",", " NVMe", " and", " GPUs", "\\n", " \\\"quoted\\\""};

// One stream and its messages (the boundaries of per-message feeding).
struct Stream {
  std::string body;
  std::vector<std::size_t> ends;  // end offset of each message
};

Stream openai_stream(std::size_t tokens) {
  Stream s;
  for (std::size_t i = 0; i < tokens; ++i) {
    s.body += R"(data: {"id":"chatcmpl-8e4c2a","object":"chat.completion.chunk","created":1718000000,)"
              R"("model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"content":")";
    s.body += kWords[i % std::size(kWords)];
    s.body += R"("},"logprobs":null,"finish_reason":null}]})"
              "\n\n";
    s.ends.push_back(s.body.size());
  }
  s.body += R"(data: {"id":"chatcmpl-8e4c2a","object":"chat.completion.chunk","created":1718000000,"model":"m","choices":[],"usage":{"prompt_tokens":512,"completion_tokens":)" +
            std::to_string(tokens) + "}}\n\ndata: [DONE]\n\n";
  s.ends.push_back(s.body.size());
  return s;
}

Stream ollama_stream(std::size_t tokens) {
  Stream s;
  for (std::size_t i = 0; i < tokens; ++i) {
    s.body += R"({"model":"llama3.2","created_at":"2024-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":")";
    s.body += kWords[i % std::size(kWords)];
    s.body += R"("},"done":false})"
              "\n";
    s.ends.push_back(s.body.size());
  }
  s.body += R"({"model":"llama3.2","created_at":"2024-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":)" +
            std::to_string(tokens) + R"(,"eval_duration":4535599000})" + "\n";
  s.ends.push_back(s.body.size());
  return s;
}

std::vector<std::string_view> per_message(const Stream& s) {
  std::vector<std::string_view> chunks;
  std::size_t begin = 0;
  for (std::size_t end : s.ends) {
    chunks.emplace_back(s.body.data() + begin, end - begin);
    begin = end;
  }
  return chunks;
}

std::vector<std::string_view> slices(const Stream& s, std::size_t size) {
  std::vector<std::string_view> chunks;
  std::string_view rest = s.body;
  while (!rest.empty()) {
    chunks.push_back(rest.substr(0, size));
    rest.remove_prefix(std::min(size, rest.size()));
  }
  return chunks;
}

struct Figure {
  double seconds = 0;
  std::size_t tokens = 0;
};

// Decodes and counts content-carrying messages; best (lowest) CPU time.
Figure decode(Dialect d, const std::vector<std::string_view>& chunks, int repeat) {
  Figure best{1e300, 0};
  for (int r = 0; r < repeat; ++r) {
    StreamDecoder decoder(d);
    std::size_t tokens = 0;
    std::size_t bytes = 0;
    const double t0 = thread_cpu_seconds();
    auto on_message = [&](const StreamMessage& m) {
      tokens += m.carries_content ? 1 : 0;
      bytes += m.content.size();
    };
    for (auto c : chunks) decoder.feed(c, on_message);
    decoder.finish(on_message);
    const double t = thread_cpu_seconds() - t0;
    if (bytes == 0 || decoder.malformed_messages() != 0) {
      std::fprintf(stderr, "bench_stream_parse: decoding failed (%zu bytes of content, %llu malformed)\n", bytes,
                   static_cast<unsigned long long>(decoder.malformed_messages()));
      std::exit(1);
    }
    if (t < best.seconds) best = {t, tokens};
  }
  return best;
}

template <typename Parser>
Figure framing(const std::vector<std::string_view>& chunks, int repeat) {
  Figure best{1e300, 0};
  for (int r = 0; r < repeat; ++r) {
    Parser parser;
    std::size_t messages = 0;
    const double t0 = thread_cpu_seconds();
    if constexpr (std::is_same_v<Parser, SseParser>) {
      auto on_event = [&](const SseEvent& e) { messages += e.data.size() > 0 ? 1 : 0; };
      for (auto c : chunks) parser.feed(c, on_event);
      parser.finish(on_event);
    } else {
      auto on_line = [&](std::string_view line) { messages += line.size() > 0 ? 1 : 0; };
      for (auto c : chunks) parser.feed(c, on_line);
      parser.finish(on_line);
    }
    const double t = thread_cpu_seconds() - t0;
    if (t < best.seconds) best = {t, messages};
  }
  return best;
}

void print(const char* what, const Figure& f, std::size_t body_bytes) {
  const double per_s = static_cast<double>(f.tokens) / f.seconds;
  std::printf("  %-44s %12.0f tokens/s  %8.1f ns/token  %8.1f MB/s\n", what, per_s, 1e9 / per_s,
              static_cast<double>(body_bytes) / f.seconds / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t tokens = 200000;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--tokens") == 0 && i + 1 < argc) {
      tokens = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--tokens N] [--repeat R]\n", argv[0]);
      return 2;
    }
  }
  const Stream openai = openai_stream(tokens);
  const Stream ollama = ollama_stream(tokens);
  std::printf("bench_stream_parse: %zu tokens per stream, best of %d, one thread (CPU time)\n", tokens, repeat);
  std::printf("OpenAI chat SSE (%zu bytes, %.0f bytes/token):\n", openai.body.size(),
              static_cast<double>(openai.body.size()) / static_cast<double>(tokens));
  print("parse+interpret, one message per feed()", decode(Dialect::openai_chat, per_message(openai), repeat),
        openai.body.size());
  print("parse+interpret, 16 KiB feeds", decode(Dialect::openai_chat, slices(openai, 16384), repeat), openai.body.size());
  print("SSE framing only, 16 KiB feeds", framing<SseParser>(slices(openai, 16384), repeat), openai.body.size());
  std::printf("Ollama chat NDJSON (%zu bytes, %.0f bytes/token):\n", ollama.body.size(),
              static_cast<double>(ollama.body.size()) / static_cast<double>(tokens));
  print("parse+interpret, one message per feed()", decode(Dialect::ollama_chat, per_message(ollama), repeat),
        ollama.body.size());
  print("parse+interpret, 16 KiB feeds", decode(Dialect::ollama_chat, slices(ollama, 16384), repeat), ollama.body.size());
  print("NDJSON framing only, 16 KiB feeds", framing<NdjsonSplitter>(slices(ollama, 16384), repeat), ollama.body.size());
  return 0;
}
