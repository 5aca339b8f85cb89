#include "tasks/grading/latex_parser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace r1lab::grading {

namespace {

enum class TokenKind { number, letter, command, character, row_separator, text, begin_env, end_env, end };

struct Token {
  TokenKind kind;
  std::string text;  // number literal, letter, command name without backslash, the character, text, env name
  bool space_before = false;  // whitespace (or a LaTeX space such as "\ ") separates it from the token before
  bool line_before = false;   // that whitespace holds a line break
};

// Unicode forms that models write instead of LaTeX commands.
struct UnicodeAlias { std::string_view utf8; TokenKind kind; std::string_view text; };
constexpr std::array<UnicodeAlias, 12> kUnicodeAliases = {{
    {"π", TokenKind::command, "pi"},       {"√", TokenKind::command, "sqrt"},  {"∞", TokenKind::command, "infty"},
    {"±", TokenKind::command, "pm"},       {"≤", TokenKind::command, "le"},    {"≥", TokenKind::command, "ge"},
    {"≠", TokenKind::command, "ne"},       {"·", TokenKind::character, "*"},   {"×", TokenKind::character, "*"},
    {"−", TokenKind::character, "-"},      {"∪", TokenKind::command, "cup"},   {"÷", TokenKind::character, "/"},
}};

std::string read_brace_group(std::string_view s, std::size_t& i) {
  // s[i] == '{'; returns the raw contents and leaves i after the closing brace.
  int depth = 0;
  std::size_t start = i + 1;
  for (; i < s.size(); ++i) {
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) {
      std::string inner(s.substr(start, i - start));
      ++i;
      return inner;
    }
  }
  throw ParseError("unbalanced braces");
}

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  bool spaced = false;        // whitespace seen since the last token
  bool broken = false;        // a line break among it
  std::size_t marked = 0;     // tokens whose space_before and line_before are set
  auto mark_new_tokens = [&] {
    for (; marked < tokens.size(); ++marked) {
      tokens[marked].space_before = spaced;
      tokens[marked].line_before = broken;
      spaced = broken = false;
    }
  };
  while (i < s.size()) {
    mark_new_tokens();
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c)) {
      spaced = true;
      broken = broken || c == '\n';
      ++i;
      continue;
    }
    if (std::isdigit(c) || (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      std::size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      if (j < s.size() && s[j] == '.' && j + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
        ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      }
      tokens.push_back({TokenKind::number, std::string(s.substr(i, j - i))});
      i = j;
      continue;
    }
    if (std::isalpha(c)) {
      tokens.push_back({TokenKind::letter, std::string(1, static_cast<char>(c))});
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) throw ParseError("dangling backslash");
      char next = s[i + 1];
      if (next == '\\') { tokens.push_back({TokenKind::row_separator, ""}); i += 2; continue; }
      if (next == '{' || next == '}' || next == '|' || next == '%' || next == '$' || next == '#' || next == '&') {
        tokens.push_back({TokenKind::character, std::string("\\") + next});
        i += 2;
        continue;
      }
      if (!std::isalpha(static_cast<unsigned char>(next))) {  // \, \! and friends
        spaced = spaced || next == ' ' || next == ',' || next == ';' || next == ':';
        i += 2;
        continue;
      }
      std::size_t j = i + 1;
      while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
      std::string name(s.substr(i + 1, j - i - 1));
      i = j;
      if (name == "text" || name == "begin" || name == "end") {
        while (i < s.size() && s[i] == ' ') ++i;
        if (i >= s.size() || s[i] != '{') throw ParseError("\\" + name + " without a brace group");
        std::string inner = read_brace_group(s, i);
        TokenKind kind = name == "text" ? TokenKind::text : name == "begin" ? TokenKind::begin_env : TokenKind::end_env;
        tokens.push_back({kind, inner});
        continue;
      }
      tokens.push_back({TokenKind::command, name});
      continue;
    }
    bool aliased = false;
    if (c >= 0x80) {
      for (const auto& alias : kUnicodeAliases)
        if (s.compare(i, alias.utf8.size(), alias.utf8) == 0) {
          tokens.push_back({alias.kind, std::string(alias.text)});
          i += alias.utf8.size();
          aliased = true;
          break;
        }
      if (!aliased) throw ParseError("unsupported character in answer");
      continue;
    }
    tokens.push_back({TokenKind::character, std::string(1, static_cast<char>(c))});
    ++i;
  }
  mark_new_tokens();
  tokens.push_back({TokenKind::end, ""});
  return tokens;
}

constexpr std::array<std::string_view, 28> kGreek = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
    "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi",
    "chi", "psi", "omega", "Gamma", "Delta", "Omega"};

struct FunctionAlias { std::string_view command; std::string_view name; };
constexpr std::array<FunctionAlias, 21> kFunctions = {{
    {"sin", "sin"}, {"cos", "cos"}, {"tan", "tan"}, {"cot", "cot"}, {"sec", "sec"}, {"csc", "csc"},
    {"arcsin", "asin"}, {"arccos", "acos"}, {"arctan", "atan"}, {"sinh", "sinh"}, {"cosh", "cosh"},
    {"tanh", "tanh"}, {"ln", "ln"}, {"log", "log"}, {"exp", "exp"}, {"lfloor", "floor"}, {"lceil", "ceil"},
    {"lg", "log10"}, {"gcd", "gcd"}, {"lcm", "lcm"}, {"det", "det"},
}};

NodePtr make(NodeKind kind, std::string text = {}) { return std::make_unique<Node>(kind, std::move(text)); }

NodePtr make2(NodeKind kind, NodePtr a, NodePtr b, std::string text = {}) {
  auto node = make(kind, std::move(text));
  node->children.push_back(std::move(a));
  node->children.push_back(std::move(b));
  return node;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const Budget& budget) : tokens_(std::move(tokens)), budget_(budget) {}

  NodePtr parse_answer() {
    auto node = parse_union();
    if (peek().kind != TokenKind::end) throw ParseError("unexpected '" + peek().text + "'");
    return node;
  }

 private:
  // Bounds the recursion (each bracket level costs about ten frames) so no input can overflow the stack.
  struct DepthGuard {
    Parser& parser;
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > 12 * parser.budget_.limits().max_nesting_depth)
        throw BudgetExceeded("answer nested deeper than " + std::to_string(parser.budget_.limits().max_nesting_depth));
      parser.budget_.check("parsing");
    }
    ~DepthGuard() { --parser.depth_; }
  };
  // Counts bracket, brace and group levels: the nesting users see.
  struct NestingGuard {
    Parser& parser;
    explicit NestingGuard(Parser& p) : parser(p) {
      if (++parser.nesting_ > parser.budget_.limits().max_nesting_depth)
        throw BudgetExceeded("answer nested deeper than " + std::to_string(parser.budget_.limits().max_nesting_depth) + " levels");
    }
    ~NestingGuard() { --parser.nesting_; }
  };

  const Token& peek(std::size_t ahead = 0) const {
    std::size_t at = std::min(pos_ + ahead, tokens_.size() - 1);
    return tokens_[at];
  }
  Token next() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }
  bool at_char(std::string_view c) const { return peek().kind == TokenKind::character && peek().text == c; }
  bool at_command(std::string_view c) const { return peek().kind == TokenKind::command && peek().text == c; }
  void expect_char(std::string_view c) {
    if (!at_char(c)) throw ParseError("expected '" + std::string(c) + "'");
    ++pos_;
  }

  NodePtr parse_union() {
    DepthGuard guard(*this);
    NestingGuard nesting(*this);
    auto first = parse_list();
    if (!at_command("cup")) return first;
    auto node = make(NodeKind::interval_union);
    node->children.push_back(std::move(first));
    while (at_command("cup")) {
      ++pos_;
      node->children.push_back(parse_list());
    }
    return node;
  }

  NodePtr parse_list() {
    auto first = parse_relation();
    if (!at_char(",")) return first;
    auto node = make(NodeKind::list);
    node->children.push_back(std::move(first));
    while (at_char(",")) {
      ++pos_;
      node->children.push_back(parse_relation());
    }
    return node;
  }

  bool at_relation(std::string& op) const {
    const Token& t = peek();
    if (t.kind == TokenKind::character && (t.text == "=" || t.text == "<" || t.text == ">")) {
      op = t.text;
      if (peek(1).kind == TokenKind::character && peek(1).text == "=" && t.text != "=") op = t.text == "<" ? "le" : "ge";
      return true;
    }
    if (t.kind == TokenKind::command && (t.text == "le" || t.text == "ge" || t.text == "ne" || t.text == "lt" ||
                                          t.text == "gt" || t.text == "approx" || t.text == "equiv")) {
      op = t.text == "lt" ? "<" : t.text == "gt" ? ">" : (t.text == "approx" || t.text == "equiv") ? "=" : t.text;
      return true;
    }
    return false;
  }

  NodePtr parse_relation() {
    auto first = parse_ratio();
    std::string op;
    if (!at_relation(op)) return first;
    auto node = make(NodeKind::relation);
    node->children.push_back(std::move(first));
    while (at_relation(op)) {
      pos_ += (op == "le" || op == "ge") && peek().kind == TokenKind::character ? 2 : 1;
      node->operators.push_back(op);
      node->children.push_back(parse_ratio());
    }
    return node;
  }

  // 5:12, 1:2:3. Looser than + and - (a ratio of sums is written x+1 : 2), so "x:y = 2:3" is a relation
  // between two ratios.
  NodePtr parse_ratio() {
    auto first = parse_expression();
    if (!at_char(":")) return first;
    auto node = make(NodeKind::ratio);
    node->children.push_back(std::move(first));
    while (at_char(":")) {
      ++pos_;
      node->children.push_back(parse_expression());
    }
    return node;
  }

  NodePtr parse_expression() {
    DepthGuard guard(*this);
    NodePtr left;
    if (at_command("pm") || at_command("mp")) {
      // "\pm 3": both signs of the operand.
      std::string which = next().text;
      left = make2(NodeKind::plus_minus, make(NodeKind::number, "0"), parse_term(), which);
    } else {
      left = parse_term();
    }
    std::vector<NodePtr> terms;
    terms.push_back(std::move(left));
    while (true) {
      if (at_char("+")) {
        ++pos_;
        terms.push_back(parse_term());
      } else if (at_char("-")) {
        ++pos_;
        auto negated = make(NodeKind::negate);
        negated->children.push_back(parse_term());
        terms.push_back(std::move(negated));
      } else if (at_command("pm") || at_command("mp")) {
        std::string which = next().text;
        NodePtr sum = collapse(NodeKind::add, std::move(terms));
        terms.clear();
        terms.push_back(make2(NodeKind::plus_minus, std::move(sum), parse_term(), which));
      } else {
        break;
      }
    }
    return collapse(NodeKind::add, std::move(terms));
  }

  static NodePtr collapse(NodeKind kind, std::vector<NodePtr> items) {
    if (items.size() == 1) return std::move(items[0]);
    auto node = make(kind);
    node->children = std::move(items);
    return node;
  }

  // Whether the next token can start an implicit factor (2x, 2\pi, x(y+1), 3\sqrt{2}).
  bool starts_implicit_factor() const {
    const Token& t = peek();
    switch (t.kind) {
      case TokenKind::number:
      case TokenKind::letter:
        return true;
      case TokenKind::command:
        return t.text != "cup" && t.text != "pm" && t.text != "mp" && t.text != "le" && t.text != "ge" &&
               t.text != "ne" && t.text != "lt" && t.text != "gt" && t.text != "cdot" && t.text != "times" &&
               t.text != "div" && t.text != "approx" && t.text != "equiv" && t.text != "rfloor" &&
               t.text != "rceil" && t.text != "in" && t.text != "and" && t.text != "or";
      case TokenKind::character:
        return t.text == "(" || t.text == "{" || t.text == "[" || (t.text == "|" && abs_depth_ == 0);
      default:
        return false;
    }
  }

  NodePtr parse_term() {
    DepthGuard guard(*this);
    NodePtr left = parse_mixed_number(parse_unary());
    while (true) {
      if (at_char("*") || at_command("cdot") || at_command("times")) {
        ++pos_;
        left = make2(NodeKind::multiply, std::move(left), parse_unary());
      } else if (at_char("/") || at_command("div")) {
        ++pos_;
        left = make2(NodeKind::divide, std::move(left), parse_unary());
      } else if (starts_implicit_factor()) {
        // A number right after a lone number is no product: TeX sets "3 4" as 34 and "1 000 000" as 1000000,
        // and so does this. After a power, a fraction or a product it is one ("2^5 3^2", "\frac12 3").
        Node* factor = left->kind == NodeKind::negate ? left->children[0].get() : left.get();
        if (peek().kind == TokenKind::number && factor->kind == NodeKind::number && pos_ > 0 &&
            tokens_[pos_ - 1].kind == TokenKind::number) {
          std::string joined = factor->text + next().text;
          if (std::count(joined.begin(), joined.end(), '.') > 1)
            throw ParseError("two numbers side by side (" + joined + ")");
          factor->text = std::move(joined);
          continue;
        }
        // A letter written right before a parenthesis may be a function at a point ("f(2)"): marked, so that
        // "f(2) = 5" can name a value while "f \cdot 2 = 5" does not.
        bool applied = left->kind == NodeKind::symbol && left->text.size() == 1 && at_char("(");
        left = make2(NodeKind::multiply, std::move(left), parse_power(), applied ? kApplied : "");
      } else {
        return left;
      }
    }
  }

  static bool is_integer_literal(const Node& node) {
    return node.kind == NodeKind::number && node.text.find_first_not_of("0123456789") == std::string::npos;
  }

  // A mixed number: an integer written directly before a fraction of two integers, 3\frac{1}{4} = 13/4
  // (MATH writes `1\frac{4}{5}` and `137 \frac{1}{2}`, and so do models). Only as the first factor of a
  // term: after an operator (3\cdot\frac14), after a letter (x\frac12) or before a non-numeric fraction
  // (2\frac{x}{3}) juxtaposition stays a product. -3\frac14 is -(3 + 1/4).
  // In plain text the fraction follows a space: "4 4/9" = 40/9, "-11 5/6" = -71/6 (not 4 * 4/9).
  NodePtr parse_mixed_number(NodePtr whole) {
    const Node* integer = whole.get();
    if (integer->kind == NodeKind::negate && integer->children.size() == 1) integer = integer->children[0].get();
    if (!is_integer_literal(*integer)) return whole;
    if (at_plain_fraction()) {
      // "11 6/6" and "11 7/6" are no mixed numbers, and reading them as products would be a guess.
      if (!is_proper(peek().text, peek(2).text))
        throw ParseError("an integer before an improper fraction (" + peek().text + "/" + peek(2).text + ") is ambiguous");
      auto numerator = make(NodeKind::number, next().text);
      ++pos_;   // the "/"
      auto fraction = make2(NodeKind::divide, std::move(numerator), make(NodeKind::number, next().text));
      return add_fraction(std::move(whole), std::move(fraction));
    }
    if (!at_command("frac")) return whole;
    std::size_t start = pos_;
    std::vector<Token> tokens = tokens_;   // \frac12 splits a token while parsing; undone below if not mixed
    ++pos_;
    NodePtr numerator = parse_digit_argument();
    NodePtr denominator = parse_digit_argument();
    if (!is_integer_literal(*numerator) || !is_integer_literal(*denominator) || at_char("^")) {
      tokens_ = std::move(tokens);
      pos_ = start;
      return whole;
    }
    return add_fraction(std::move(whole), make2(NodeKind::divide, std::move(numerator), std::move(denominator)));
  }

  // "a b/c" right after an integer written as digits: a space (not a line break), an integer, "/", an
  // integer, and nothing that binds tighter after it.
  bool at_plain_fraction() const {
    auto is_integer_token = [](const Token& t) {
      return t.kind == TokenKind::number && t.text.find_first_not_of("0123456789") == std::string::npos;
    };
    const Token& after = peek(3);
    return pos_ > 0 && is_integer_token(tokens_[pos_ - 1]) && peek().space_before && !peek().line_before &&
           is_integer_token(peek()) && peek(1).kind == TokenKind::character && peek(1).text == "/" &&
           is_integer_token(peek(2)) &&
           !(after.kind == TokenKind::character && (after.text == "^" || after.text == "!" || after.text == "_"));
  }

  // numerator < denominator, for digit strings of any length.
  static bool is_proper(const std::string& numerator, const std::string& denominator) {
    auto significant = [](const std::string& digits) {
      std::size_t first = digits.find_first_not_of('0');
      return first == std::string::npos ? std::string() : digits.substr(first);
    };
    std::string n = significant(numerator), d = significant(denominator);
    return n.size() < d.size() || (n.size() == d.size() && n < d);
  }

  // whole + fraction, or -(whole + fraction) for -3\frac14.
  static NodePtr add_fraction(NodePtr whole, NodePtr fraction) {
    if (whole->kind == NodeKind::negate) {
      NodePtr magnitude = std::move(whole->children[0]);
      whole->children[0] = make2(NodeKind::add, std::move(magnitude), std::move(fraction));
      return whole;
    }
    return make2(NodeKind::add, std::move(whole), std::move(fraction));
  }

  NodePtr parse_unary() {
    DepthGuard guard(*this);
    if (at_char("-")) {
      ++pos_;
      auto node = make(NodeKind::negate);
      node->children.push_back(parse_unary());
      return node;
    }
    if (at_char("+")) {
      ++pos_;
      return parse_unary();
    }
    return parse_power();
  }

  NodePtr parse_power() {
    DepthGuard guard(*this);
    NodePtr base = parse_postfix();
    if (!at_char("^")) return base;
    ++pos_;
    NodePtr exponent = parse_exponent();
    auto node = make2(NodeKind::power, std::move(base), std::move(exponent));
    // A factorial after the exponent group applies to the power: rare, but keep the tree honest.
    while (at_char("!")) {
      ++pos_;
      auto f = make(NodeKind::factorial);
      f->children.push_back(std::move(node));
      node = std::move(f);
    }
    return node;
  }

  // x^{...}, x^2, x^-1, x^\frac12. A whole run of digits is the exponent (2^10 means 1024: models that
  // write it mean that, although LaTeX would typeset 2^1 0).
  NodePtr parse_exponent() {
    if (at_char("-")) {
      ++pos_;
      auto node = make(NodeKind::negate);
      node->children.push_back(parse_exponent());
      return node;
    }
    return parse_argument();
  }

  // A macro argument: a brace group, or one token (digit run, letter, command with its own arguments).
  NodePtr parse_argument() {
    DepthGuard guard(*this);
    if (at_char("{")) {
      ++pos_;
      auto inner = parse_union();
      expect_char("}");
      return inner;
    }
    const Token& t = peek();
    if (t.kind == TokenKind::number || t.kind == TokenKind::letter) {
      ++pos_;
      return t.kind == TokenKind::number ? make(NodeKind::number, t.text) : make(NodeKind::symbol, t.text);
    }
    return parse_postfix();
  }

  // \frac12 and \binom84 take one digit per argument, as TeX reads them; \frac{..}{..} takes groups.
  NodePtr parse_digit_argument() {
    if (peek().kind == TokenKind::number && !at_char("{")) {
      Token t = next();
      if (t.text.size() > 1 && t.text.find('.') == std::string::npos) {
        // Split "12" into "1" and push back "2" for the denominator.
        tokens_.insert(tokens_.begin() + static_cast<std::ptrdiff_t>(pos_), Token{TokenKind::number, t.text.substr(1)});
        return make(NodeKind::number, t.text.substr(0, 1));
      }
      return make(NodeKind::number, t.text);
    }
    return parse_argument();
  }

  NodePtr parse_postfix() {
    DepthGuard guard(*this);
    NodePtr node = parse_primary();
    while (true) {
      if (at_char("!")) {
        ++pos_;
        auto f = make(NodeKind::factorial);
        f->children.push_back(std::move(node));
        node = std::move(f);
      } else if (at_char("'")) {
        ++pos_;
        if (node->kind == NodeKind::symbol) node->text += "'";
      } else if (at_char("_")) {
        ++pos_;
        NodePtr subscript = parse_argument();
        if (node->kind == NodeKind::number && subscript->kind == NodeKind::number) {
          auto b = make(NodeKind::base_number, node->text);
          b->children.push_back(std::move(subscript));
          node = std::move(b);
        } else if (node->kind == NodeKind::symbol) {
          node->text += "_" + to_debug_string(*subscript);
        } else {
          throw ParseError("unsupported subscript");
        }
      } else {
        return node;
      }
    }
  }

  static std::string close_of(const std::string& open) { return open == "(" ? ")" : "]"; }

  NodePtr parse_bracketed(std::string open) {
    // After the opening bracket: a list up to ')' or ']'; mixed brackets make an interval.
    ++bracket_depth_;
    auto inner = parse_union();
    --bracket_depth_;
    std::string close;
    if (at_char(")") || at_char("]")) close = next().text;
    else throw ParseError("unclosed '" + open + "'");
    if (inner->kind == NodeKind::list) {
      auto tuple = make(NodeKind::tuple, open + close);
      tuple->children = std::move(inner->children);
      return tuple;
    }
    if (close == close_of(open)) return inner;  // one element in matching brackets is grouping: (x), [x]
    auto tuple = make(NodeKind::tuple, open + close);
    tuple->children.push_back(std::move(inner));
    return tuple;
  }

  NodePtr parse_matrix(const std::string& env) {
    auto node = make(NodeKind::matrix);
    std::size_t row_start = 0;
    int rows = 0;
    std::size_t cols = 0;
    while (true) {
      if (peek().kind == TokenKind::end_env) {
        if (peek().text != env) throw ParseError("\\begin{" + env + "} closed by \\end{" + peek().text + "}");
        ++pos_;
        break;
      }
      if (peek().kind == TokenKind::end) throw ParseError("unclosed \\begin{" + env + "}");
      node->children.push_back(parse_expression());
      if (at_char("&")) {
        ++pos_;
        continue;
      }
      std::size_t in_row = node->children.size() - row_start;
      if (peek().kind == TokenKind::row_separator || peek().kind == TokenKind::end_env) {
        if (rows == 0) cols = in_row;
        else if (in_row != cols) throw ParseError("matrix rows of different lengths");
        ++rows;
        row_start = node->children.size();
        if (peek().kind == TokenKind::row_separator) {
          ++pos_;
          if (peek().kind == TokenKind::end_env) continue;  // trailing \\ before \end
        }
        continue;
      }
      throw ParseError("unexpected '" + peek().text + "' in matrix");
    }
    node->rows = rows;
    return node;
  }

  NodePtr parse_primary() {
    DepthGuard guard(*this);
    Token t = next();
    switch (t.kind) {
      case TokenKind::number:
        return make(NodeKind::number, t.text);
      case TokenKind::letter:
        return make(NodeKind::symbol, t.text);
      case TokenKind::text:
        return make(NodeKind::text, t.text);
      case TokenKind::begin_env: {
        const std::string& env = t.text;
        if (env == "pmatrix" || env == "bmatrix" || env == "matrix" || env == "vmatrix" || env == "Bmatrix" ||
            env == "smallmatrix" || env == "array") {
          if (env == "array" && at_char("{")) {  // column spec
            ++pos_;
            while (!at_char("}") && peek().kind != TokenKind::end) ++pos_;
            expect_char("}");
          }
          return parse_matrix(env);
        }
        throw ParseError("unsupported environment " + env);
      }
      case TokenKind::character: {
        if (t.text == "(" || t.text == "[") return parse_bracketed(t.text);
        if (t.text == "{") {
          auto inner = parse_union();
          expect_char("}");
          return inner;
        }
        if (t.text == "\\{") {
          auto set = make(NodeKind::set);
          if (at_char("\\}")) { ++pos_; return set; }
          auto inner = parse_union();
          if (!at_char("\\}")) throw ParseError("unclosed \\{");
          ++pos_;
          if (inner->kind == NodeKind::list) set->children = std::move(inner->children);
          else set->children.push_back(std::move(inner));
          return set;
        }
        if (t.text == "|") {
          ++abs_depth_;
          auto inner = parse_expression();
          --abs_depth_;
          expect_char("|");
          auto node = make(NodeKind::function, "abs");
          node->children.push_back(std::move(inner));
          return node;
        }
        throw ParseError("unexpected '" + t.text + "'");
      }
      case TokenKind::command:
        return parse_command(t.text);
      default:
        throw ParseError("unexpected end of answer");
    }
  }

  NodePtr parse_command(const std::string& name) {
    if (name == "frac") {
      auto numerator = parse_digit_argument();
      auto denominator = parse_digit_argument();
      return make2(NodeKind::divide, std::move(numerator), std::move(denominator));
    }
    if (name == "sqrt") {
      NodePtr index = make(NodeKind::number, "2");
      if (at_char("[")) {
        ++pos_;
        index = parse_expression();
        expect_char("]");
      }
      return make2(NodeKind::root, parse_argument(), std::move(index));
    }
    if (name == "binom") {
      auto n = parse_digit_argument();
      auto k = parse_digit_argument();
      return make2(NodeKind::binomial, std::move(n), std::move(k));
    }
    if (name == "sum" || name == "prod") return parse_big_operator(name == "sum" ? NodeKind::sum : NodeKind::product);
    if (name == "pi") return make(NodeKind::symbol, "pi");
    if (name == "infty" || name == "infinity") return make(NodeKind::infinity);
    if (name == "emptyset") return make(NodeKind::set);
    if (name == "mathbb") {
      auto arg = parse_argument();
      if (arg->kind == NodeKind::symbol && arg->text == "R") {
        auto all = make(NodeKind::tuple, "()");
        auto minus = make(NodeKind::negate);
        minus->children.push_back(make(NodeKind::infinity));
        all->children.push_back(std::move(minus));
        all->children.push_back(make(NodeKind::infinity));
        return all;
      }
      throw ParseError("unsupported \\mathbb");
    }
    for (auto greek : kGreek)
      if (name == greek) return make(NodeKind::symbol, name);
    for (const auto& function : kFunctions) {
      if (name != function.command) continue;
      if (function.name == "floor" || function.name == "ceil") {
        auto inner = parse_expression();
        if (!at_command(function.name == "floor" ? "rfloor" : "rceil")) throw ParseError("unclosed \\l" + std::string(function.name));
        ++pos_;
        auto node = make(NodeKind::function, std::string(function.name));
        node->children.push_back(std::move(inner));
        return node;
      }
      NodePtr log_base;
      NodePtr power;
      // \sin^2 x, \log_2 8, \log_{10}^2 x
      for (int round = 0; round < 2; ++round) {
        if (at_char("_") && !log_base) { ++pos_; log_base = parse_argument(); }
        if (at_char("^") && !power) { ++pos_; power = parse_exponent(); }
      }
      NodePtr argument;
      if (at_char("(")) {
        ++pos_;
        argument = parse_union();
        expect_char(")");
      } else {
        argument = parse_power();
        // \sin 2x: a coefficient followed directly by letters belongs to the argument.
        while (peek().kind == TokenKind::letter || (peek().kind == TokenKind::command && (peek().text == "pi" || peek().text == "theta")))
          argument = make2(NodeKind::multiply, std::move(argument), parse_power());
      }
      auto node = make(NodeKind::function, std::string(function.name));
      node->children.push_back(std::move(argument));
      if (log_base) {
        if (function.name != "log") throw ParseError("subscript on \\" + name);
        node->children.push_back(std::move(log_base));
      }
      if (power) return make2(NodeKind::power, std::move(node), std::move(power));
      return node;
    }
    throw ParseError("unsupported command \\" + name);
  }

  // \sum_{k=1}^{10} k^2 and \prod_{i=1}^{4} i, bounds in either order. The index must be named with its
  // lower bound; the summand is the product that follows (a term), as it is typeset.
  NodePtr parse_big_operator(NodeKind kind) {
    const char* name = kind == NodeKind::sum ? "\\sum" : "\\prod";
    NodePtr range, upper;
    for (int round = 0; round < 2; ++round) {
      if (at_char("_") && !range) { ++pos_; range = parse_argument(); }
      if (at_char("^") && !upper) { ++pos_; upper = parse_exponent(); }
    }
    if (!range || !upper) throw ParseError(std::string(name) + " without both bounds");
    if (range->kind != NodeKind::relation || range->operators != std::vector<std::string>{"="} ||
        range->children[0]->kind != NodeKind::symbol)
      throw ParseError(std::string(name) + " needs its index and lower bound written k=1");
    auto node = make(kind, range->children[0]->text);
    node->children.push_back(std::move(range->children[1]));
    node->children.push_back(std::move(upper));
    node->children.push_back(parse_term());
    return node;
  }

  std::vector<Token> tokens_;
  const Budget& budget_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  int nesting_ = 0;
  int abs_depth_ = 0;
  int bracket_depth_ = 0;
};

}  // namespace

NodePtr parse_latex(std::string_view normalized, const Budget& budget) {
  if (normalized.size() > budget.limits().max_answer_chars)
    throw BudgetExceeded("answer longer than " + std::to_string(budget.limits().max_answer_chars) + " characters");
  if (normalized.empty()) throw ParseError("empty answer");
  Parser parser(tokenize(normalized), budget);
  return parser.parse_answer();
}

std::string to_debug_string(const Node& node) {
  auto join = [&](std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      if (i) out += sep;
      out += to_debug_string(*node.children[i]);
    }
    return out;
  };
  switch (node.kind) {
    case NodeKind::number: return node.text;
    case NodeKind::symbol: return node.text;
    case NodeKind::infinity: return "oo";
    case NodeKind::add: return "(" + join(" + ") + ")";
    case NodeKind::multiply: return "(" + join(" * ") + ")";
    case NodeKind::divide: return "(" + join(" / ") + ")";
    case NodeKind::negate: return "-" + join("");
    case NodeKind::power: return "(" + join(" ^ ") + ")";
    case NodeKind::function: return node.text + "(" + join(", ") + ")";
    case NodeKind::root: return "root(" + join(", ") + ")";
    case NodeKind::factorial: return "(" + join("") + ")!";
    case NodeKind::binomial: return "binom(" + join(", ") + ")";
    case NodeKind::plus_minus: return "(" + join(node.text == "pm" ? " +- " : " -+ ") + ")";
    case NodeKind::tuple: return std::string(1, node.text[0]) + join(", ") + node.text[1];
    case NodeKind::set: return "{" + join(", ") + "}";
    case NodeKind::list: return join(", ");
    case NodeKind::interval_union: return join(" U ");
    case NodeKind::matrix: return "matrix" + std::to_string(node.rows) + "[" + join(", ") + "]";
    case NodeKind::relation: {
      std::string out = to_debug_string(*node.children[0]);
      for (std::size_t i = 0; i < node.operators.size(); ++i)
        out += " " + node.operators[i] + " " + to_debug_string(*node.children[i + 1]);
      return out;
    }
    case NodeKind::ratio: return "ratio(" + join(" : ") + ")";
    case NodeKind::sum:
    case NodeKind::product:
      return std::string(node.kind == NodeKind::sum ? "sum" : "prod") + "_" + node.text + "(" + join(", ") + ")";
    case NodeKind::base_number: return node.text + "_" + to_debug_string(*node.children[0]);
    case NodeKind::text: return "text(" + node.text + ")";
  }
  return "?";
}

}  // namespace r1lab::grading
