#include "tokenizer/bpe_tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <limits>
#include <queue>
#include <sstream>

namespace r1lab::tokenizer {
namespace {

using Json = nlohmann::json;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& json_path, const std::string& what) {
  throw TokenizerError(file.string() + ": " + json_path + ": " + what);
}

// Byte-level symbol string (as in vocab.json) -> the bytes it stands for; nothing if a character is not
// one of the 256 symbols.
std::optional<std::string> symbols_to_bytes(std::string_view symbols, const std::unordered_map<char32_t, unsigned char>& inverse) {
  std::vector<CodePoint> cps;
  decode_code_points(symbols, cps);
  std::string bytes;
  bytes.reserve(cps.size());
  for (std::size_t i = 0; i + 1 < cps.size(); ++i) {
    auto it = inverse.find(cps[i].value);
    if (it == inverse.end()) return std::nullopt;
    bytes.push_back(static_cast<char>(it->second));
  }
  return bytes;
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

void read_post_processor(const Json& node, const std::string& json_path, const std::filesystem::path& file,
                         const std::unordered_map<std::string, TokenId>& ids_by_content,
                         std::vector<TokenId>& prefix, std::vector<TokenId>& suffix) {
  if (node.is_null()) return;
  std::string type = node.value("type", "");
  if (type == "ByteLevel") return;   // offsets only
  if (type == "Sequence") {
    const Json& list = node.at("processors");
    for (std::size_t i = 0; i < list.size(); ++i) {
      read_post_processor(list[i], json_path + ".processors[" + std::to_string(i) + "]", file, ids_by_content, prefix, suffix);
    }
    return;
  }
  if (type == "TemplateProcessing") {
    bool after_sequence = false;
    const Json& single = node.at("single");
    for (std::size_t i = 0; i < single.size(); ++i) {
      const Json& item = single[i];
      if (item.contains("Sequence")) {
        after_sequence = true;
        continue;
      }
      if (!item.contains("SpecialToken")) fail(file, json_path + ".single[" + std::to_string(i) + "]", "expected Sequence or SpecialToken");
      std::string name = item["SpecialToken"].at("id").get<std::string>();
      std::vector<TokenId> ids;
      if (node.contains("special_tokens") && node["special_tokens"].contains(name)) {
        ids = node["special_tokens"][name].at("ids").get<std::vector<TokenId>>();
      } else if (auto it = ids_by_content.find(name); it != ids_by_content.end()) {
        ids = {it->second};
      } else {
        fail(file, json_path + ".single[" + std::to_string(i) + "]", "special token '" + name + "' is not in the vocabulary");
      }
      (after_sequence ? suffix : prefix).insert((after_sequence ? suffix : prefix).end(), ids.begin(), ids.end());
    }
    return;
  }
  fail(file, json_path + ".type", "post-processor '" + type + "' is not supported (ByteLevel, TemplateProcessing, Sequence are)");
}

}  // namespace

// GPT-2's byte-level alphabet: printable Latin-1 bytes stand for themselves, the other 68 bytes for the
// code points 256, 257, ... in byte order, so every byte is a visible character in vocab.json.
std::array<char32_t, 256> byte_level_symbols() {
  std::array<char32_t, 256> table{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    table[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return table;
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::load(const std::filesystem::path& path) {
  std::filesystem::path file = std::filesystem::is_directory(path) ? path / "tokenizer.json" : path;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw TokenizerError(file.string() + ": cannot open (pass a model folder holding tokenizer.json, or the file)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  Json root;
  try {
    root = Json::parse(buffer.str());
  } catch (const Json::parse_error& e) {
    throw TokenizerError(file.string() + ": not valid JSON: " + e.what());
  }

  std::unique_ptr<BpeTokenizer> t(new BpeTokenizer());
  t->file_ = file;
  try {
    // Normaliser: none or NFC.
    const Json& normalizer = root.value("normalizer", Json());
    if (!normalizer.is_null()) {
      std::string type = normalizer.value("type", "");
      if (type == "NFC") {
        t->normalize_nfc_ = true;
      } else if (type == "Sequence" && normalizer.at("normalizers").empty()) {
      } else {
        fail(file, "$.normalizer.type", "normaliser '" + type + "' is not supported (NFC or none)");
      }
    }

    // Pre-tokeniser: Sequence [Split(pattern, Isolated), ByteLevel(use_regex=false)].
    const Json& pre = root.at("pre_tokenizer");
    if (pre.value("type", "") != "Sequence" || pre.at("pretokenizers").size() != 2) {
      fail(file, "$.pre_tokenizer", "expected a Sequence of Split and ByteLevel (the Qwen2 / Llama 3 layout)");
    }
    const Json& split = pre["pretokenizers"][0];
    const Json& byte_level = pre["pretokenizers"][1];
    if (split.value("type", "") != "Split" || !split.at("pattern").contains("Regex") ||
        split.value("behavior", "") != "Isolated" || split.value("invert", false)) {
      fail(file, "$.pre_tokenizer.pretokenizers[0]", "expected a Split with a Regex pattern, behavior Isolated");
    }
    std::string regex = split["pattern"]["Regex"].get<std::string>();
    auto pattern = SplitPattern::from_pattern(regex);
    if (!pattern) {
      fail(file, "$.pre_tokenizer.pretokenizers[0].pattern.Regex",
           "split pattern is not the Qwen2 or Llama 3 one, which are the ones implemented: " + regex);
    }
    t->pattern_ = *pattern;
    if (byte_level.value("type", "") != "ByteLevel" || byte_level.value("use_regex", true) ||
        byte_level.value("add_prefix_space", false)) {
      fail(file, "$.pre_tokenizer.pretokenizers[1]", "expected ByteLevel with use_regex false and add_prefix_space false");
    }
    if (const Json& decoder = root.value("decoder", Json()); !decoder.is_null() && decoder.value("type", "") != "ByteLevel") {
      fail(file, "$.decoder.type", "decoder '" + decoder.value("type", "") + "' is not supported (ByteLevel)");
    }

    // Model.
    const Json& model = root.at("model");
    if (model.value("type", "") != "BPE") fail(file, "$.model.type", "only BPE models are supported");
    if (!model.value("dropout", Json()).is_null()) fail(file, "$.model.dropout", "BPE dropout is not supported");
    if (!model.value("continuing_subword_prefix", std::string()).empty() || !model.value("end_of_word_suffix", std::string()).empty()) {
      fail(file, "$.model", "continuing_subword_prefix / end_of_word_suffix are not supported");
    }
    if (model.value("byte_fallback", false)) fail(file, "$.model.byte_fallback", "byte fallback is not supported (byte-level BPE needs none)");
    t->ignore_merges_ = model.value("ignore_merges", false);

    const auto byte_to_symbol = byte_level_symbols();
    std::unordered_map<char32_t, unsigned char> symbol_to_byte;
    for (int b = 0; b < 256; ++b) symbol_to_byte[byte_to_symbol[b]] = static_cast<unsigned char>(b);

    const Json& vocab = model.at("vocab");
    TokenId max_id = -1;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) max_id = std::max(max_id, it.value().get<TokenId>());
    for (const Json& added : root.value("added_tokens", Json::array())) max_id = std::max(max_id, added.at("id").get<TokenId>());
    t->token_bytes_.assign(static_cast<std::size_t>(max_id + 1), std::string());
    // Byte-level symbol strings (as vocab.json spells them) -> id: needed only to read the merges.
    std::unordered_map<std::string, TokenId> symbol_ids;
    t->special_ids_.assign(static_cast<std::size_t>(max_id + 1), false);
    symbol_ids.reserve(vocab.size());
    t->bytes_ids_.reserve(vocab.size());
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      TokenId id = it.value().get<TokenId>();
      auto bytes = symbols_to_bytes(it.key(), symbol_to_byte);
      if (!bytes) fail(file, "$.model.vocab[\"" + it.key() + "\"]", "not a byte-level token (a character outside the 256 byte symbols)");
      t->token_bytes_[static_cast<std::size_t>(id)] = *bytes;
      symbol_ids.emplace(it.key(), id);
      t->bytes_ids_.emplace(*bytes, id);
    }
    for (int b = 0; b < 256; ++b) {
      std::string symbol;
      append_utf8(byte_to_symbol[b], symbol);
      auto it = symbol_ids.find(symbol);
      if (it == symbol_ids.end()) fail(file, "$.model.vocab", "the byte symbol '" + symbol + "' (byte " + std::to_string(b) + ") is missing");
      t->byte_ids_[b] = it->second;
    }

    const Json& merges = model.at("merges");
    t->merges_.reserve(merges.size() * 2);
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
      std::string left, right;
      const Json& m = merges[rank];
      if (m.is_string()) {
        std::string s = m.get<std::string>();
        auto space = s.find(' ');
        if (space == std::string::npos) fail(file, "$.model.merges[" + std::to_string(rank) + "]", "expected \"left right\"");
        left = s.substr(0, space);
        right = s.substr(space + 1);
      } else {
        left = m.at(0).get<std::string>();
        right = m.at(1).get<std::string>();
      }
      auto l = symbol_ids.find(left), r = symbol_ids.find(right), merged = symbol_ids.find(left + right);
      if (l == symbol_ids.end() || r == symbol_ids.end() || merged == symbol_ids.end()) {
        fail(file, "$.model.merges[" + std::to_string(rank) + "]", "merge of '" + left + "' and '" + right + "' names a token not in the vocabulary");
      }
      std::uint64_t key = (static_cast<std::uint64_t>(l->second) << 32) | static_cast<std::uint32_t>(r->second);
      // The first (lowest) rank wins when a pair is listed twice, as in tokenizers.
      t->merges_.emplace(key, (static_cast<std::uint64_t>(rank) << 32) | static_cast<std::uint32_t>(merged->second));
    }

    std::unordered_map<std::string, TokenId> ids_by_content;
    const Json& added = root.value("added_tokens", Json::array());
    for (std::size_t i = 0; i < added.size(); ++i) {
      const Json& a = added[i];
      AddedToken token;
      token.id = a.at("id").get<TokenId>();
      token.content = a.at("content").get<std::string>();
      token.special = a.value("special", false);
      token.lstrip = a.value("lstrip", false);
      token.rstrip = a.value("rstrip", false);
      if (a.value("single_word", false)) fail(file, "$.added_tokens[" + std::to_string(i) + "].single_word", "single_word added tokens are not supported");
      if (token.content.empty()) fail(file, "$.added_tokens[" + std::to_string(i) + "].content", "empty added token");
      t->token_bytes_[static_cast<std::size_t>(token.id)] = token.content;
      t->special_ids_[static_cast<std::size_t>(token.id)] = token.special;
      t->added_first_byte_[static_cast<unsigned char>(token.content[0])] = true;
      ids_by_content[token.content] = token.id;
      t->added_.push_back(std::move(token));
    }
    for (const auto& [bytes, id] : t->bytes_ids_) ids_by_content.emplace(bytes, id);
    read_post_processor(root.value("post_processor", Json()), "$.post_processor", file, ids_by_content, t->prefix_ids_, t->suffix_ids_);
  } catch (const Json::exception& e) {
    throw TokenizerError(file.string() + ": unexpected layout: " + e.what());
  }
  return t;
}

std::optional<TokenId> BpeTokenizer::token_id(std::string_view content) const {
  for (const AddedToken& a : added_) {
    if (a.content == content) return a.id;
  }
  auto it = bytes_ids_.find(std::string(content));
  if (it == bytes_ids_.end()) return std::nullopt;
  return it->second;
}

bool BpeTokenizer::is_special(TokenId id) const {
  return id >= 0 && static_cast<std::size_t>(id) < special_ids_.size() && special_ids_[static_cast<std::size_t>(id)];
}

std::string_view BpeTokenizer::token_bytes(TokenId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= token_bytes_.size()) return {};
  return token_bytes_[static_cast<std::size_t>(id)];
}

std::vector<TokenId> BpeTokenizer::encode(std::string_view text, EncodeOptions options) const {
  std::vector<TokenId> ids;
  ids.reserve(text.size() / 3 + 4);
  encode_into(text, options, ids);
  return ids;
}

void BpeTokenizer::encode_into(std::string_view text, EncodeOptions options, std::vector<TokenId>& out) const {
  if (options.add_special) out.insert(out.end(), prefix_ids_.begin(), prefix_ids_.end());
  // Cut out added tokens: at each position the longest one that starts there, leftmost first.
  std::size_t segment_start = 0, pos = 0;
  while (pos < text.size()) {
    if (!added_first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const AddedToken* match = nullptr;
    for (const AddedToken& a : added_) {
      if ((a.special && !options.parse_special) || (match && a.content.size() <= match->content.size())) continue;
      if (text.compare(pos, a.content.size(), a.content) == 0) match = &a;
    }
    if (!match) {
      ++pos;
      continue;
    }
    std::size_t before_end = pos, after_start = pos + match->content.size();
    if (match->lstrip) {
      while (before_end > segment_start && is_ascii_space(text[before_end - 1])) --before_end;
    }
    if (match->rstrip) {
      while (after_start < text.size() && is_ascii_space(text[after_start])) ++after_start;
    }
    encode_segment(text.substr(segment_start, before_end - segment_start), out);
    out.push_back(match->id);
    segment_start = pos = after_start;
  }
  encode_segment(text.substr(segment_start), out);
  if (options.add_special) out.insert(out.end(), suffix_ids_.begin(), suffix_ids_.end());
}

void BpeTokenizer::encode_segment(std::string_view segment, std::vector<TokenId>& out) const {
  if (segment.empty()) return;
  std::string normalized_storage;
  std::string_view text = normalize_nfc_ ? nfc(segment, normalized_storage) : segment;
  thread_local std::vector<CodePoint> code_points;
  thread_local std::vector<std::pair<std::uint32_t, std::uint32_t>> pieces;
  split_pieces(text, pattern_, code_points, pieces);
  for (auto [begin, end] : pieces) merge_piece(text.substr(begin, end - begin), out);
}

void BpeTokenizer::merge_piece(std::string_view piece, std::vector<TokenId>& out) const {
  if (piece.size() == 1) {
    out.push_back(byte_ids_[static_cast<unsigned char>(piece[0])]);
    return;
  }
  if (ignore_merges_) {
    if (auto it = bytes_ids_.find(std::string(piece)); it != bytes_ids_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  constexpr std::size_t kCachedPieceBytes = 64;
  const bool cacheable = piece.size() <= kCachedPieceBytes;
  std::string key;
  if (cacheable) {
    key.assign(piece);
    std::lock_guard lock(cache_mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }

  // Symbols start as single bytes; repeatedly merge the adjacent pair of lowest rank (leftmost on ties).
  // Short pieces: a scan per merge. Long ones (runs of spaces or symbols): a heap over a linked list.
  std::vector<TokenId> symbols(piece.size());
  for (std::size_t i = 0; i < piece.size(); ++i) symbols[i] = byte_ids_[static_cast<unsigned char>(piece[i])];
  auto lookup = [this](TokenId left, TokenId right) -> const std::uint64_t* {
    auto it = merges_.find((static_cast<std::uint64_t>(left) << 32) | static_cast<std::uint32_t>(right));
    return it == merges_.end() ? nullptr : &it->second;
  };
  constexpr std::size_t kScanLimit = 48;
  if (symbols.size() <= kScanLimit) {
    while (symbols.size() > 1) {
      std::uint64_t best = std::numeric_limits<std::uint64_t>::max();
      std::size_t best_at = 0;
      for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
        if (const std::uint64_t* m = lookup(symbols[i], symbols[i + 1]); m && *m < best) {
          best = *m;
          best_at = i;
        }
      }
      if (best == std::numeric_limits<std::uint64_t>::max()) break;
      symbols[best_at] = static_cast<TokenId>(best & 0xFFFFFFFFu);
      symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
    }
  } else {
    const std::size_t n = symbols.size();
    std::vector<std::int64_t> prev(n), next(n);
    std::vector<bool> alive(n, true);
    for (std::size_t i = 0; i < n; ++i) {
      prev[i] = static_cast<std::int64_t>(i) - 1;
      next[i] = i + 1 < n ? static_cast<std::int64_t>(i + 1) : -1;
    }
    // (rank, left position, left id, right id); stale entries are skipped when popped.
    struct Candidate {
      std::uint32_t rank;
      std::uint32_t left;
      TokenId left_id, right_id;
      bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    auto push = [&](std::int64_t left) {
      if (left < 0 || next[static_cast<std::size_t>(left)] < 0) return;
      auto l = static_cast<std::size_t>(left), r = static_cast<std::size_t>(next[l]);
      if (const std::uint64_t* m = lookup(symbols[l], symbols[r])) {
        queue.push({static_cast<std::uint32_t>(*m >> 32), static_cast<std::uint32_t>(l), symbols[l], symbols[r]});
      }
    };
    for (std::size_t i = 0; i + 1 < n; ++i) push(static_cast<std::int64_t>(i));
    while (!queue.empty()) {
      Candidate c = queue.top();
      queue.pop();
      std::size_t l = c.left;
      if (!alive[l] || next[l] < 0) continue;
      auto r = static_cast<std::size_t>(next[l]);
      if (symbols[l] != c.left_id || symbols[r] != c.right_id) continue;
      symbols[l] = static_cast<TokenId>(*lookup(c.left_id, c.right_id) & 0xFFFFFFFFu);
      alive[r] = false;
      next[l] = next[r];
      if (next[r] >= 0) prev[static_cast<std::size_t>(next[r])] = static_cast<std::int64_t>(l);
      push(prev[l]);
      push(static_cast<std::int64_t>(l));
    }
    std::vector<TokenId> merged;
    for (std::int64_t i = 0; i >= 0; i = next[static_cast<std::size_t>(i)]) merged.push_back(symbols[static_cast<std::size_t>(i)]);
    symbols.swap(merged);
  }
  out.insert(out.end(), symbols.begin(), symbols.end());
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    constexpr std::size_t kCacheEntries = 1 << 17;
    if (cache_.size() >= kCacheEntries) cache_.clear();
    cache_.emplace(std::move(key), std::move(symbols));
  }
}

std::string BpeTokenizer::decode(const std::vector<TokenId>& ids, bool skip_special) const {
  std::string out;
  for (TokenId id : ids) {
    if (skip_special && is_special(id)) continue;
    out.append(token_bytes(id));
  }
  return out;
}

}  // namespace r1lab::tokenizer
