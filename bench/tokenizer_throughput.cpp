// Encode throughput of r1lab's tokenizer on one thread, over a corpus of real texts (JSONL of {"text"}),
// for bench/run_tokenizer_bench.sh, which runs HF tokenizers on the same corpus beside it.
//   R1LAB_TOKENIZER=DIR R1LAB_TOKENIZER_CORPUS=FILE build/bench/tokenizer_throughput
#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "tokenizer/bpe_tokenizer.h"

namespace {

struct Corpus {
  std::unique_ptr<r1lab::tokenizer::BpeTokenizer> tokenizer;
  std::vector<std::string> texts;
  std::size_t bytes = 0;
};

const Corpus& corpus() {
  static Corpus c = [] {
    const char* dir = std::getenv("R1LAB_TOKENIZER");
    const char* file = std::getenv("R1LAB_TOKENIZER_CORPUS");
    if (!dir || !file) throw std::runtime_error("set R1LAB_TOKENIZER and R1LAB_TOKENIZER_CORPUS (bench/run_tokenizer_bench.sh does)");
    Corpus c;
    c.tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      c.texts.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
      c.bytes += c.texts.back().size();
    }
    return c;
  }();
  return c;
}

// One pass over the corpus per iteration; the first iteration fills the merge cache, as the peer's does.
void BM_EncodeCorpus(benchmark::State& state) {
  const Corpus& c = corpus();
  std::size_t tokens = 0;
  for (auto _ : state) {
    tokens = 0;
    for (const auto& text : c.texts) {
      auto ids = c.tokenizer->encode(text, {.parse_special = true, .add_special = true});
      tokens += ids.size();
      benchmark::DoNotOptimize(ids.data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c.bytes));
  state.counters["MB_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * c.bytes) / 1e6, benchmark::Counter::kIsRate);
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["texts"] = static_cast<double>(c.texts.size());
}
BENCHMARK(BM_EncodeCorpus)->Unit(benchmark::kMillisecond)->MinTime(5.0)->UseRealTime();

void BM_LoadTokenizerJson(benchmark::State& state) {
  const char* dir = std::getenv("R1LAB_TOKENIZER");
  for (auto _ : state) benchmark::DoNotOptimize(r1lab::tokenizer::BpeTokenizer::load(dir));
}
BENCHMARK(BM_LoadTokenizerJson)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
