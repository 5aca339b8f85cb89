#include "tasks/grading/math_equivalence.h"

#include <ginac/ginac.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>

#include "tasks/grading/latex_normalize.h"
#include "tasks/grading/latex_parser.h"
#include "tasks/grading/math_extract.h"

namespace r1lab::grading {

namespace {

using GiNaC::ex;
using GiNaC::numeric;

// 50 significant digits for every numeric check (set once per process).
const bool kDigitsSet = [] {
  GiNaC::Digits = 50;
  return true;
}();

// A value inside an answer: a node and, for nodes containing \pm, which sign each \pm takes.
struct ValueRef {
  const Node* node;
  unsigned sign_mask;
  bool signs_fixed = false;  // sign_mask is a chosen expansion of every \pm inside node
};

int count_plus_minus(const Node& node) {
  int count = node.kind == NodeKind::plus_minus ? 1 : 0;
  for (const auto& child : node.children) count += count_plus_minus(*child);
  return count;
}

bool is_scalar_kind(NodeKind kind) {
  switch (kind) {
    case NodeKind::tuple: case NodeKind::set: case NodeKind::list: case NodeKind::interval_union:
    case NodeKind::matrix: case NodeKind::relation: case NodeKind::base_number: case NodeKind::text:
    case NodeKind::ratio:
      return false;
    default:
      return true;
  }
}

// Turns a scalar tree into a GiNaC expression, under the budget. One instance per comparison, so both
// sides share their symbols.
class Evaluator {
 public:
  Evaluator(const Budget& budget) : budget_(budget), infinity_("oo") {}

  ex evaluate(const ValueRef& value) {
    sign_mask_ = value.sign_mask;
    sign_index_ = 0;
    return to_ex(*value.node);
  }

  bool saw_decimal() const { return saw_decimal_; }
  bool skip_expand() const { return skip_expand_; }
  const GiNaC::symbol& infinity() const { return infinity_; }

  std::set<std::string> free_symbols(const ex& e) const {
    std::set<std::string> names;
    collect_symbols(e, names);
    names.erase("oo");
    return names;
  }

  const std::map<std::string, GiNaC::symbol>& symbols() const { return symbols_; }

 private:
  static void collect_symbols(const ex& e, std::set<std::string>& names) {
    if (GiNaC::is_a<GiNaC::symbol>(e)) {
      names.insert(GiNaC::ex_to<GiNaC::symbol>(e).get_name());
      return;
    }
    for (std::size_t i = 0; i < e.nops(); ++i) collect_symbols(e.op(i), names);
  }

  static double log2_magnitude(const numeric& value) {
    // log2 of the larger of |numerator|, |denominator|: the size of the exact result per unit exponent.
    numeric num = GiNaC::abs(value.numer());
    numeric den = GiNaC::abs(value.denom());
    numeric big = num > den ? num : den;
    return static_cast<double>(big.int_length());
  }

  ex number(const std::string& literal) {
    std::size_t dot = literal.find('.');
    std::string digits = dot == std::string::npos ? literal : literal.substr(0, dot) + literal.substr(dot + 1);
    if (digits.size() > 2000) throw BudgetExceeded("number with more than 2000 digits");
    std::size_t first = digits.find_first_not_of('0');
    digits = first == std::string::npos ? "0" : digits.substr(first);
    numeric value(digits.c_str());
    if (dot != std::string::npos) {
      saw_decimal_ = true;
      value = value / GiNaC::pow(numeric(10), numeric(static_cast<long>(literal.size() - dot - 1)));
    }
    return value;
  }

  ex power(const ex& base, const ex& exponent) {
    if (GiNaC::is_a<numeric>(exponent)) {
      numeric e = GiNaC::ex_to<numeric>(exponent);
      if (GiNaC::is_a<numeric>(base)) {
        numeric b = GiNaC::ex_to<numeric>(base);
        if (!b.is_zero() && b != 1 && b != -1 && e.is_real()) {
          double bits = std::fabs(e.to_double()) * log2_magnitude(b);
          if (!(bits <= static_cast<double>(budget_.limits().max_integer_power_bits)))
            throw BudgetExceeded("exact power with about " + std::to_string(static_cast<long long>(std::min(bits, 1e18))) +
                                 " bits exceeds the limit of " + std::to_string(budget_.limits().max_integer_power_bits));
        }
      } else if (e.is_real() && std::fabs(e.to_double()) > budget_.limits().max_symbolic_expand_exponent) {
        skip_expand_ = true;
      }
    } else if (!GiNaC::is_a<numeric>(base) || GiNaC::ex_to<numeric>(base) != 1) {
      // A symbolic exponent over a power tower: bound its numeric size before GiNaC evaluates anything.
      ex approx = exponent.evalf();
      if (GiNaC::is_a<numeric>(approx) && GiNaC::ex_to<numeric>(approx).is_real() &&
          std::fabs(GiNaC::ex_to<numeric>(approx).to_double()) > 1e6)
        throw BudgetExceeded("exponent larger than 10^6");
    }
    return GiNaC::pow(base, exponent);
  }

  ex function(const Node& node) {
    const std::string& name = node.text;
    if (name == "gcd" || name == "lcm") return gcd_or_lcm(node);
    ex arg = to_ex(*node.children[0]);
    if (name == "sin") return GiNaC::sin(arg);
    if (name == "cos") return GiNaC::cos(arg);
    if (name == "tan") return GiNaC::tan(arg);
    if (name == "cot") return GiNaC::cos(arg) / GiNaC::sin(arg);
    if (name == "sec") return 1 / GiNaC::cos(arg);
    if (name == "csc") return 1 / GiNaC::sin(arg);
    if (name == "asin") return GiNaC::asin(arg);
    if (name == "acos") return GiNaC::acos(arg);
    if (name == "atan") return GiNaC::atan(arg);
    if (name == "sinh") return GiNaC::sinh(arg);
    if (name == "cosh") return GiNaC::cosh(arg);
    if (name == "tanh") return GiNaC::tanh(arg);
    if (name == "exp") return GiNaC::exp(arg);
    if (name == "abs") return GiNaC::abs(arg);
    if (name == "ln") return GiNaC::log(arg);
    if (name == "log10") return GiNaC::log(arg) / GiNaC::log(ex(10));
    if (name == "log") {
      if (node.children.size() > 1) return GiNaC::log(arg) / GiNaC::log(to_ex(*node.children[1]));
      return GiNaC::log(arg);  // \log without a base: natural, as both sides are read the same way
    }
    if (name == "floor" || name == "ceil") {
      ex value = arg.evalf();
      if (!GiNaC::is_a<numeric>(value) || !GiNaC::ex_to<numeric>(value).is_real())
        throw ParseError(name + " of a non-numeric argument");
      double d = GiNaC::ex_to<numeric>(value).to_double();
      return numeric(static_cast<long>(name == "floor" ? std::floor(d) : std::ceil(d)));
    }
    throw ParseError("unsupported function " + name);
  }

  // \gcd(8, 12), \lcm(4, 6, 10): integers only.
  ex gcd_or_lcm(const Node& node) {
    const Node& args = *node.children[0];
    std::vector<const Node*> operands;
    if ((args.kind == NodeKind::tuple || args.kind == NodeKind::list) && args.children.size() >= 2)
      for (const auto& child : args.children) operands.push_back(child.get());
    else
      throw ParseError(node.text + " needs two or more arguments");
    numeric result;
    for (std::size_t i = 0; i < operands.size(); ++i) {
      ex value = to_ex(*operands[i]);
      if (!GiNaC::is_a<numeric>(value) || !GiNaC::ex_to<numeric>(value).is_integer())
        throw ParseError(node.text + " of a non-integer");
      const numeric& n = GiNaC::ex_to<numeric>(value);
      result = i == 0 ? n : (node.text == "gcd" ? GiNaC::gcd(result, n) : GiNaC::lcm(result, n));
    }
    return result;
  }

  // Inside \sum_{k=1}^{3}, a_k is a_1, a_2, a_3 (the names a written a_1 gets). A subscript that only
  // mentions an index (a_{k+1}, a_{2k}) is not worked out: the answer is not comparable.
  std::string with_index_values(const std::string& name) const {
    std::size_t underscore = name.find('_');
    if (underscore == std::string::npos) return name;
    std::string subscript = name.substr(underscore + 1);
    if (auto bound = bound_indices_.find(subscript); bound != bound_indices_.end()) {
      std::ostringstream value;
      value << bound->second;
      return name.substr(0, underscore + 1) + value.str();
    }
    for (std::size_t i = 0; i < subscript.size();) {
      std::size_t end = i;
      while (end < subscript.size() && std::isalpha(static_cast<unsigned char>(subscript[end]))) ++end;
      if (end > i && bound_indices_.count(subscript.substr(i, end - i)))
        throw ParseError("a subscript that depends on the index of a \\sum or \\prod");
      i = end > i ? end : i + 1;
    }
    return name;
  }

  // \sum_{k=a}^{b} and \prod_{k=a}^{b} with integer bounds, term by term with k bound to each value (so
  // every term meets the same budget checks as a written number). Every term evaluated, in nested sums
  // too, counts against max_sum_terms; a sum that would exceed it is refused before it starts.
  ex big_operator(const Node& node) {
    const bool is_sum = node.kind == NodeKind::sum;
    const char* name = is_sum ? "\\sum" : "\\prod";
    ex lower = to_ex(*node.children[0]), upper = to_ex(*node.children[1]);
    if (!GiNaC::is_a<numeric>(lower) || !GiNaC::ex_to<numeric>(lower).is_integer() || !GiNaC::is_a<numeric>(upper) ||
        !GiNaC::ex_to<numeric>(upper).is_integer())
      throw ParseError(std::string(name) + " with bounds that are not integers");
    const numeric first = GiNaC::ex_to<numeric>(lower), last = GiNaC::ex_to<numeric>(upper);
    const long limit = budget_.limits().max_sum_terms;
    const numeric count = last < first ? numeric(0) : last - first + 1;
    if (count > numeric(limit - sum_terms_))
      throw BudgetExceeded(std::string(name) + " with more than " + std::to_string(limit) + " terms");
    // Restores an outer binding of the same name (\sum_{k=1}^{3} \sum_{k=1}^{k} is legal, if unkind).
    struct IndexScope {
      std::map<std::string, ex>& bound;
      std::string name;
      std::optional<ex> outer;
      ~IndexScope() {
        if (outer) bound[name] = *outer;
        else bound.erase(name);
      }
    } scope{bound_indices_, node.text,
            bound_indices_.count(node.text) ? std::optional<ex>(bound_indices_.at(node.text)) : std::nullopt};
    ex result = is_sum ? ex(0) : ex(1);
    for (numeric k = first; k <= last; k = k + 1) {
      budget_.check(is_sum ? "sum" : "product");
      ++sum_terms_;
      bound_indices_[node.text] = k;
      ex term = to_ex(*node.children[2]);
      result = is_sum ? result + term : result * term;
      if (GiNaC::is_a<numeric>(result) && GiNaC::ex_to<numeric>(result).is_rational() &&
          log2_magnitude(GiNaC::ex_to<numeric>(result)) > static_cast<double>(budget_.limits().max_integer_power_bits))
        throw BudgetExceeded(std::string(name) + " whose exact value exceeds " +
                             std::to_string(budget_.limits().max_integer_power_bits) + " bits");
    }
    return result;
  }

  ex to_ex(const Node& node) {
    budget_.check("evaluation");
    switch (node.kind) {
      case NodeKind::number:
        return number(node.text);
      case NodeKind::symbol: {
        if (auto bound = bound_indices_.find(node.text); bound != bound_indices_.end()) return bound->second;
        if (node.text == "pi") return GiNaC::Pi;
        if (node.text == "e") return GiNaC::exp(ex(1));
        if (node.text == "i") return GiNaC::I;
        std::string name = bound_indices_.empty() ? node.text : with_index_values(node.text);
        auto it = symbols_.find(name);
        if (it == symbols_.end()) it = symbols_.emplace(name, GiNaC::symbol(name)).first;
        return it->second;
      }
      case NodeKind::infinity:
        return infinity_;
      case NodeKind::add: {
        ex sum = 0;
        for (const auto& child : node.children) sum += to_ex(*child);
        return sum;
      }
      case NodeKind::multiply: {
        ex product = 1;
        for (const auto& child : node.children) product *= to_ex(*child);
        return product;
      }
      case NodeKind::divide: {
        ex denominator = to_ex(*node.children[1]);
        if (denominator.is_zero()) throw ParseError("division by zero");
        return to_ex(*node.children[0]) / denominator;
      }
      case NodeKind::negate:
        return -to_ex(*node.children[0]);
      case NodeKind::power:
        return power(to_ex(*node.children[0]), to_ex(*node.children[1]));
      case NodeKind::root: {
        ex index = to_ex(*node.children[1]);
        ex radicand = to_ex(*node.children[0]);
        if (index == 2) return GiNaC::sqrt(radicand);
        return power(radicand, 1 / index);
      }
      case NodeKind::factorial: {
        ex n = to_ex(*node.children[0]);
        if (!GiNaC::is_a<numeric>(n) || !GiNaC::ex_to<numeric>(n).is_nonneg_integer())
          throw ParseError("factorial of something other than a non-negative integer");
        if (GiNaC::ex_to<numeric>(n) > budget_.limits().max_factorial_argument)
          throw BudgetExceeded("factorial argument larger than " + std::to_string(budget_.limits().max_factorial_argument));
        return GiNaC::factorial(n);
      }
      case NodeKind::binomial: {
        ex n = to_ex(*node.children[0]);
        ex k = to_ex(*node.children[1]);
        if (GiNaC::is_a<numeric>(n) && GiNaC::ex_to<numeric>(n) > budget_.limits().max_factorial_argument)
          throw BudgetExceeded("binomial argument too large");
        return GiNaC::binomial(n, k);
      }
      case NodeKind::plus_minus: {
        bool minus = (sign_mask_ >> sign_index_++) & 1u;
        if (node.text == "mp") minus = !minus;
        ex left = to_ex(*node.children[0]);
        ex right = to_ex(*node.children[1]);
        return minus ? left - right : left + right;
      }
      case NodeKind::function:
        return function(node);
      case NodeKind::sum:
      case NodeKind::product:
        return big_operator(node);
      default:
        throw ParseError("a " + to_debug_string(node) + " inside an expression");
    }
  }

  const Budget& budget_;
  GiNaC::symbol infinity_;
  std::map<std::string, GiNaC::symbol> symbols_;
  std::map<std::string, ex> bound_indices_;  // the index of each \sum or \prod being evaluated
  long sum_terms_ = 0;
  unsigned sign_mask_ = 0;
  int sign_index_ = 0;
  bool saw_decimal_ = false;
  bool skip_expand_ = false;
};

std::optional<numeric> as_number(const ex& e) {
  ex value = GiNaC::is_a<numeric>(e) ? e : e.evalf();
  if (!GiNaC::is_a<numeric>(value)) return std::nullopt;
  return GiNaC::ex_to<numeric>(value);
}

bool numerically_close(const numeric& a, const numeric& b, double rel_tol) {
  numeric diff = GiNaC::abs(a - b);
  if (diff.is_zero()) return true;
  numeric scale = std::max(GiNaC::abs(a), GiNaC::abs(b));
  // The tolerance is relative, so 1/2004! and 1/2006! (ratio about 4e6) stay apart however small; all
  // arithmetic stays in GiNaC numbers, which do not overflow to infinity the way doubles do.
  return diff <= scale * numeric(rel_tol);
}

// "x = 5" (a variable, a product of them such as "AB", or a quotient such as "\frac{NO}{BO}" on the left)
// stands for its value when the other side is not an equation. \pi is a constant, not a name: "\pi = 5"
// states something false, not a value.
bool is_name(const Node& node) {
  if (node.kind == NodeKind::symbol) return node.text != "pi";
  if (node.kind == NodeKind::divide) return is_name(*node.children[0]) && is_name(*node.children[1]);  // \frac{NO}{BO}
  if (node.kind != NodeKind::multiply) return false;
  for (const auto& child : node.children)
    if (!is_name(*child)) return false;
  return true;
}

// "(a, b) = (2, 5)" names the components of a tuple answer, "x:y = 5:12" the parts of a ratio.
bool is_compound_of_names(const Node& node, const Node& value) {
  if ((node.kind != NodeKind::tuple && node.kind != NodeKind::ratio) || value.kind != node.kind ||
      node.children.size() != value.children.size())
    return false;
  for (const auto& child : node.children)
    if (!is_name(*child)) return false;
  return true;
}

// What can stand for a \text{} answer: words, letters, numbers, and lists of them ("east" parses as
// e*a*s*t, "A, B" as a list). A sum, a power or a function is mathematics, not words: `a+b` must not
// match \text{A,B} because both have the letters "ab".
bool reads_as_words(const Node& node) {
  switch (node.kind) {
    case NodeKind::text:
    case NodeKind::symbol:
    case NodeKind::number:
      return true;
    case NodeKind::multiply:
    case NodeKind::list:
    case NodeKind::set:
    case NodeKind::tuple:
      return std::all_of(node.children.begin(), node.children.end(), [](const auto& child) { return reads_as_words(*child); });
    default:
      return false;
  }
}

// The trigonometric functions and logarithms, as the parser names them.
bool is_trig_or_log(const std::string& function) {
  static const std::set<std::string> kNames = {"sin", "cos", "tan", "cot", "sec", "csc", "ln", "log"};
  return kNames.count(function) > 0;
}

// A value's label that is no plain name: a letter written right before a parenthesis holding numbers or
// names ("f(2)", "g(f(1))", "f(-1)", "h(1, 2)"), or a trigonometric function or logarithm of a name ("\tan A",
// "\sin T", "\log_2 x"), as in "Find $f(2)$." answered "f(2) = 5". "2f(2)" and "f \cdot 2" are products.
bool is_label(const Node& node) {
  auto is_argument = [](const Node& argument) {
    const Node& value = argument.kind == NodeKind::negate ? *argument.children[0] : argument;
    return value.kind == NodeKind::number || is_name(value) || is_label(value);
  };
  if (node.kind == NodeKind::function)
    return is_trig_or_log(node.text) && !node.children.empty() &&
           (is_name(*node.children[0]) || is_label(*node.children[0]));
  if (node.kind != NodeKind::multiply || node.text != kApplied || node.children.size() != 2) return false;
  const Node& argument = *node.children[1];
  if (argument.kind == NodeKind::tuple && argument.text == "()")
    return std::all_of(argument.children.begin(), argument.children.end(), [&](const auto& a) { return is_argument(*a); });
  return is_argument(argument);
}

bool is_assignment(const Node& node) {
  return node.kind == NodeKind::relation && node.operators == std::vector<std::string>{"="} &&
         node.children.size() == 2 &&
         (is_name(*node.children[0]) || is_label(*node.children[0]) ||
          is_compound_of_names(*node.children[0], *node.children[1]));
}

const Node* strip_assignment(const Node* node, const Node* other) {
  if (is_assignment(*node) && other->kind != NodeKind::relation) return node->children[1].get();
  return node;
}

// The keys names sort by in the usual order of a tuple's names: alphabetical, numbers by value (x_2 before
// x_10), and with \theta among them \phi after it, as in spherical coordinates (\rho, \theta, \phi).
std::vector<std::string> usual_order_keys(const std::vector<std::string>& names) {
  bool has_theta = std::any_of(names.begin(), names.end(), [](const auto& n) { return n == "theta" || n == "vartheta"; });
  std::vector<std::string> keys;
  for (const auto& name : names) {
    if (name == "vartheta") {
      keys.push_back("theta");
      continue;
    }
    if (has_theta && (name == "phi" || name == "varphi")) {
      keys.push_back("theta~");   // '~' sorts after every letter
      continue;
    }
    std::string key;
    for (std::size_t i = 0; i < name.size();) {
      if (!std::isdigit(static_cast<unsigned char>(name[i]))) {
        key += name[i++];
        continue;
      }
      std::size_t end = i;
      while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
      key += std::string(end - i < 12 ? 12 - (end - i) : 0, '0') + name.substr(i, end - i);
      i = end;
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

// The orders in which a question names the components of a tuple answer: "Enter the ordered pair $(m,b)$."
// gives {m, b}.
using NameOrders = std::vector<std::vector<std::string>>;

// Whether `list` is a list of values each named by a name ("x = 3, y = 4"), as many as the components of
// `tuple`, an ordered tuple.
bool may_name_components(const Node& list, const Node& tuple) {
  return list.kind == NodeKind::list && tuple.kind == NodeKind::tuple && tuple.text == "()" &&
         list.children.size() == tuple.children.size() &&
         std::all_of(list.children.begin(), list.children.end(),
                     [](const auto& item) { return is_assignment(*item) && is_name(*item->children[0]); });
}

// "x = 3, y = 4" names the components of the pair (3, 4) (may_name_components must hold), each with its
// own name. The values go in the order the question gives those names ("Enter the ordered pair $(m,b)$":
// "b = -13, m = \frac32" is (3/2, -13)); without one, only names written in their usual order (above) name
// the components, as written ("y = 4, x = 3" names none: the question may ask for (y, x)). A bare list
// "3, 4" stays a list: (3, 4) may be an interval, and a list has no order. Empty when they name none.
std::vector<const Node*> named_components(const Node& list, const NameOrders& question_orders) {
  std::vector<std::string> names;
  std::vector<const Node*> values;
  for (const auto& item : list.children) {
    names.push_back(to_debug_string(*item->children[0]));
    values.push_back(item->children[1].get());
  }
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return {};   // "x = 1, x = 2"
  for (const auto& order : question_orders) {
    if (order.size() != names.size() || !std::is_permutation(order.begin(), order.end(), names.begin())) continue;
    std::vector<const Node*> ordered;
    for (const auto& name : order) ordered.push_back(values[std::find(names.begin(), names.end(), name) - names.begin()]);
    return ordered;
  }
  auto keys = usual_order_keys(names);
  return std::is_sorted(keys.begin(), keys.end()) ? values : std::vector<const Node*>{};
}

// The name orders of every tuple of names in the question's math spans ($(m,b)$, $(r, \theta)$).
NameOrders question_name_orders(std::string_view question, const Budget& budget) {
  NameOrders orders;
  for (const auto& span : math_span_contents(question)) {
    try {
      NodePtr tree = parse_latex(normalize_latex(span).text, budget);
      if (tree->kind != NodeKind::tuple || tree->text != "()") continue;
      std::vector<std::string> names;
      for (const auto& child : tree->children)
        if (child->kind == NodeKind::symbol && is_name(*child)) names.push_back(child->text);
      if (names.size() == tree->children.size()) orders.push_back(std::move(names));
    } catch (const ParseError&) {
      // A span that does not parse names no tuple.
    }
  }
  return orders;
}

class Comparer {
 public:
  Comparer(const MathGradingOptions& options, const Budget& budget, std::string_view question)
      : options_(options), budget_(budget), eval_(budget), question_(question) {}

  bool values_equal(const ValueRef& a, const ValueRef& b) {
    budget_.check("comparison");
    const Node& x = *a.node;
    const Node& y = *b.node;
    // A named value stands for its value at any depth ("PQ = 3, RS = 8" against "3, 8"), as at the top.
    if (is_assignment(x) && y.kind != NodeKind::relation)
      return values_equal({x.children[1].get(), a.sign_mask, a.signs_fixed}, b);
    if (is_assignment(y) && x.kind != NodeKind::relation)
      return values_equal(a, {y.children[1].get(), b.sign_mask, b.signs_fixed});
    for (auto [list, tuple] : {std::pair{&x, &y}, std::pair{&y, &x}}) {
      if (!may_name_components(*list, *tuple)) continue;
      auto values = named_components(*list, question_orders());
      if (values.empty()) continue;
      for (std::size_t i = 0; i < values.size(); ++i)
        if (!values_equal({values[i], 0}, {tuple->children[i].get(), 0})) return false;
      return true;
    }
    // Two sets written as sets (\{1, 2, 2\} is \{1, 2\}) ignore repeats; against a bare list they count: "2, 2,
    // 3" may be three side lengths, not the set {2, 3}, and braces must not hide a missing repeat.
    if (x.kind == NodeKind::set && y.kind == NodeKind::set) return sets_equal(elements(a), elements(b));
    if (is_unordered(x) || is_unordered(y)) return multisets_equal(elements(a), elements(b));
    if (x.kind == NodeKind::ratio || y.kind == NodeKind::ratio) return ratios_equal(x, y);
    if (is_scalar_kind(x.kind) && is_scalar_kind(y.kind)) {
      int signs_x = a.signs_fixed ? 0 : count_plus_minus(x), signs_y = b.signs_fixed ? 0 : count_plus_minus(y);
      if (signs_x || signs_y) return multisets_equal(elements(a), elements(b));
      return scalars_equal(a, b);
    }
    // Intervals: a 2-tuple, or an inequality in one variable.
    auto ix = interval_of(x), iy = interval_of(y);
    if (ix && iy && (x.kind == NodeKind::relation || y.kind == NodeKind::relation ||
                     (x.kind == NodeKind::tuple && y.kind == NodeKind::tuple))) {
      return ix->brackets == iy->brackets && values_equal({ix->low, a.sign_mask}, {iy->low, b.sign_mask}) &&
             values_equal({ix->high, a.sign_mask}, {iy->high, b.sign_mask});
    }
    // Inequalities that are not "variable op bound" as written: -x > -2, 2x + 1 \le 5, -2 \le x < 4.
    if (x.kind == NodeKind::relation || y.kind == NodeKind::relation) {
      auto vx = solved_interval(x), vy = solved_interval(y);
      if (vx && vy)
        return vx->low_closed == vy->low_closed && vx->high_closed == vy->high_closed &&
               expressions_equal(vx->low, vy->low) && expressions_equal(vx->high, vy->high);
    }
    if (x.kind != y.kind) return false;
    switch (x.kind) {
      case NodeKind::tuple:
        if (x.text != y.text || x.children.size() != y.children.size()) return false;
        return children_equal(x, y);
      case NodeKind::matrix:
        return x.rows == y.rows && x.children.size() == y.children.size() && children_equal(x, y);
      case NodeKind::interval_union: {
        std::vector<ValueRef> xs, ys;
        for (const auto& c : x.children) xs.push_back({c.get(), 0});
        for (const auto& c : y.children) ys.push_back({c.get(), 0});
        return multisets_equal(xs, ys);
      }
      case NodeKind::relation:
        return relations_equal(x, y);
      case NodeKind::base_number:
        return strip_zeros(x.text) == strip_zeros(y.text) && values_equal({x.children[0].get(), 0}, {y.children[0].get(), 0});
      case NodeKind::text:
        return normalize_text_answer(x.text) == normalize_text_answer(y.text);
      default:
        return false;
    }
  }

  Evaluator& evaluator() { return eval_; }

 private:
  struct Interval {
    const Node* low;
    const Node* high;
    std::string brackets;
  };

  // An interval with evaluated ends; an end that is not bounded is -oo or oo, open.
  struct ValueInterval {
    ex low, high;
    bool low_closed = false, high_closed = false;
  };

  // One side of an inequality solved for its variable: x < 2, or x \ge -1.
  struct HalfLine {
    std::string variable;
    bool is_upper;  // x < bound (else x > bound)
    ex bound;
    bool closed;
  };

  // a:b equals c:d when ad = bc (10:24 is 5:12; 12:5 is not), a:b:c equals d:e:f when proportional, and a
  // two-part ratio equals the number a/b, as in Math-Verify 0.9.0, whose parser reads ':' as division
  // (huggingface/latex2sympy2_extended, PS.g4, rule `mp`, commit 561a9b72d0423eb0169a3be8f90466c015e74233).
  // A ratio with a zero part (a clock time such as 9:00) only equals the same parts, one by one.
  bool ratios_equal(const Node& x, const Node& y) {
    const Node& ratio = x.kind == NodeKind::ratio ? x : y;
    const Node& other = x.kind == NodeKind::ratio ? y : x;
    if (other.kind != NodeKind::ratio) {
      if (ratio.children.size() != 2 || !is_scalar_kind(other.kind) || count_plus_minus(other) > 0) return false;
      ex denominator = eval_.evaluate({ratio.children[1].get(), 0});
      if (denominator.is_zero()) return false;
      return expressions_equal(eval_.evaluate({ratio.children[0].get(), 0}) / denominator, eval_.evaluate({&other, 0}));
    }
    if (x.children.size() != y.children.size()) return false;
    std::vector<ex> xs, ys;
    bool any_zero = false;
    for (std::size_t i = 0; i < x.children.size(); ++i) {
      if (!is_scalar_kind(x.children[i]->kind) || !is_scalar_kind(y.children[i]->kind)) return false;
      xs.push_back(eval_.evaluate({x.children[i].get(), 0}));
      ys.push_back(eval_.evaluate({y.children[i].get(), 0}));
      any_zero = any_zero || xs.back().is_zero() || ys.back().is_zero();
    }
    for (std::size_t i = 0; i < xs.size(); ++i) {
      bool equal = any_zero ? expressions_equal(xs[i], ys[i]) : expressions_equal(xs[0] * ys[i], xs[i] * ys[0]);
      if (!equal) return false;
    }
    return true;
  }

  // An interval written as a 2-tuple, or as an inequality (or a chain of two) that is linear in its one
  // variable, solved for it: -x > -2 is (-oo, 2), -2 \le x < 4 is [-2, 4). Anything else (two variables,
  // x^2 < 4, \ne, something that does not evaluate) is not an interval here.
  std::optional<ValueInterval> solved_interval(const Node& node) {
    try {
      if (node.kind == NodeKind::tuple) {
        auto interval = interval_of(node);
        if (!interval) return std::nullopt;
        return ValueInterval{eval_.evaluate({interval->low, 0}), eval_.evaluate({interval->high, 0}),
                             interval->brackets[0] == '[', interval->brackets[1] == ']'};
      }
      if (node.kind != NodeKind::relation || node.operators.empty() || node.operators.size() > 2) return std::nullopt;
      std::optional<HalfLine> lower, upper;
      for (std::size_t i = 0; i < node.operators.size(); ++i) {
        auto half = solved_half_line(*node.children[i], node.operators[i], *node.children[i + 1]);
        if (!half || (i > 0 && half->variable != (lower ? lower->variable : upper->variable))) return std::nullopt;
        auto& slot = half->is_upper ? upper : lower;
        if (slot) return std::nullopt;  // x > 1 > x - 5 bounds x twice from one side
        slot = half;
      }
      ValueInterval interval{-eval_.infinity(), eval_.infinity()};
      if (lower) {
        interval.low = lower->bound;
        interval.low_closed = lower->closed;
      }
      if (upper) {
        interval.high = upper->bound;
        interval.high_closed = upper->closed;
      }
      return interval;
    } catch (const BudgetExceeded&) {
      throw;
    } catch (const std::exception&) {
      return std::nullopt;  // an end that does not evaluate: compared no further as an interval
    }
  }

  std::optional<HalfLine> solved_half_line(const Node& left, const std::string& op, const Node& right) {
    if (op != "<" && op != ">" && op != "le" && op != "ge") return std::nullopt;
    if (!is_scalar_kind(left.kind) || !is_scalar_kind(right.kind) || count_plus_minus(left) + count_plus_minus(right) > 0)
      return std::nullopt;
    ex difference = eval_.evaluate({&left, 0}) - eval_.evaluate({&right, 0});
    if (eval_.skip_expand()) return std::nullopt;
    difference = difference.expand();
    budget_.check("solving an inequality");
    auto names = eval_.free_symbols(difference);
    if (names.size() != 1) return std::nullopt;
    const GiNaC::symbol& variable = eval_.symbols().at(*names.begin());
    if (!difference.is_polynomial(variable) || difference.degree(variable) != 1) return std::nullopt;
    ex slope = difference.coeff(variable, 1), offset = difference.coeff(variable, 0);
    auto slope_value = as_number(slope);
    if (!slope_value || !slope_value->is_real() || slope_value->is_zero()) return std::nullopt;
    // slope * x + offset < 0 is x < -offset / slope when the slope is positive, x > -offset / slope when not.
    bool less = op == "<" || op == "le";
    return HalfLine{*names.begin(), less == slope_value->is_positive(), -offset / slope, op == "le" || op == "ge"};
  }

  static std::string strip_zeros(const std::string& digits) {
    std::size_t first = digits.find_first_not_of('0');
    return first == std::string::npos ? "0" : digits.substr(first);
  }

  static bool is_unordered(const Node& node) { return node.kind == NodeKind::set || node.kind == NodeKind::list; }

  std::vector<ValueRef> elements(const ValueRef& value) {
    std::vector<ValueRef> out;
    auto add_variants = [&](const Node* node) {
      int signs = count_plus_minus(*node);
      if (signs > 4) throw BudgetExceeded("more than 4 \\pm signs in one answer");
      for (unsigned mask = 0; mask < (1u << signs); ++mask) out.push_back({node, mask, true});
    };
    // A set or list always opens into its items, also as an item of another one (\{\{1\}, \{2\}\}): handed
    // back whole, comparing it would compare it with itself again, without end.
    if (is_unordered(*value.node)) {
      for (const auto& child : value.node->children) add_variants(child.get());
    } else if (value.signs_fixed) {
      out.push_back(value);
    } else {
      add_variants(value.node);
    }
    return out;
  }

  bool multisets_equal(const std::vector<ValueRef>& xs, const std::vector<ValueRef>& ys) {
    if (xs.size() != ys.size()) return false;
    std::vector<bool> used(ys.size(), false);
    for (const auto& x : xs) {
      bool found = false;
      for (std::size_t j = 0; j < ys.size() && !found; ++j) {
        if (used[j]) continue;
        if (values_equal(x, ys[j])) used[j] = found = true;
      }
      if (!found) return false;
    }
    return true;
  }

  bool sets_equal(const std::vector<ValueRef>& xs, const std::vector<ValueRef>& ys) {
    auto contained = [&](const std::vector<ValueRef>& from, const std::vector<ValueRef>& in) {
      return std::all_of(from.begin(), from.end(), [&](const ValueRef& item) {
        return std::any_of(in.begin(), in.end(), [&](const ValueRef& other) { return values_equal(item, other); });
      });
    };
    return contained(xs, ys) && contained(ys, xs);
  }

  bool children_equal(const Node& x, const Node& y) {
    for (std::size_t i = 0; i < x.children.size(); ++i)
      if (!values_equal({x.children[i].get(), 0}, {y.children[i].get(), 0})) return false;
    return true;
  }

  std::optional<Interval> interval_of(const Node& node) {
    if (node.kind == NodeKind::tuple && node.children.size() == 2 && is_scalar_kind(node.children[0]->kind) &&
        is_scalar_kind(node.children[1]->kind))
      return Interval{node.children[0].get(), node.children[1].get(), node.text};
    if (node.kind != NodeKind::relation) return std::nullopt;
    auto is_lower = [](const std::string& op) { return op == "<" || op == "le"; };
    auto is_upper = [](const std::string& op) { return op == ">" || op == "ge"; };
    static const Node kInfinity(NodeKind::infinity);
    static const Node kMinusInfinity = [] {
      Node n(NodeKind::negate);
      n.children.push_back(std::make_unique<Node>(NodeKind::infinity));
      return n;
    }();
    const auto& ops = node.operators;
    const auto& c = node.children;
    if (ops.size() == 2 && c[1]->kind == NodeKind::symbol && is_lower(ops[0]) && is_lower(ops[1]))
      return Interval{c[0].get(), c[2].get(), std::string(ops[0] == "<" ? "(" : "[") + (ops[1] == "<" ? ")" : "]")};
    if (ops.size() == 2 && c[1]->kind == NodeKind::symbol && is_upper(ops[0]) && is_upper(ops[1]))
      return Interval{c[2].get(), c[0].get(), std::string(ops[1] == ">" ? "(" : "[") + (ops[0] == ">" ? ")" : "]")};
    if (ops.size() != 1) return std::nullopt;
    const std::string& op = ops[0];
    if (c[0]->kind == NodeKind::symbol && is_lower(op))  // x < a
      return Interval{&kMinusInfinity, c[1].get(), std::string("(") + (op == "<" ? ")" : "]")};
    if (c[0]->kind == NodeKind::symbol && is_upper(op))  // x > a
      return Interval{c[1].get(), &kInfinity, std::string(op == ">" ? "(" : "[") + ")"};
    if (c[1]->kind == NodeKind::symbol && is_lower(op))  // a < x
      return Interval{c[0].get(), &kInfinity, std::string(op == "<" ? "(" : "[") + ")"};
    if (c[1]->kind == NodeKind::symbol && is_upper(op))  // a > x
      return Interval{&kMinusInfinity, c[0].get(), std::string("(") + (op == ">" ? ")" : "]")};
    return std::nullopt;
  }

  bool relations_equal(const Node& x, const Node& y) {
    if (x.operators == std::vector<std::string>{"="} && y.operators == x.operators) {
      if (values_equal({x.children[0].get(), 0}, {y.children[0].get(), 0}) &&
          values_equal({x.children[1].get(), 0}, {y.children[1].get(), 0}))
        return true;
      // Same equation up to a non-zero constant factor: y = 2x + 1 and 2x - y + 1 = 0.
      ex dx = eval_.evaluate({x.children[0].get(), 0}) - eval_.evaluate({x.children[1].get(), 0});
      ex dy = eval_.evaluate({y.children[0].get(), 0}) - eval_.evaluate({y.children[1].get(), 0});
      if (dy.is_zero() || dx.is_zero()) return false;
      if (eval_.skip_expand()) return false;
      ex ratio = GiNaC::normal(dx / dy);
      budget_.check("equation comparison");
      return GiNaC::is_a<numeric>(ratio) && !ratio.is_zero();
    }
    if (x.operators != y.operators || x.children.size() != y.children.size()) return false;
    return children_equal(x, y);
  }

  bool scalars_equal(const ValueRef& a, const ValueRef& b) {
    ex x = eval_.evaluate(a);
    ex y = eval_.evaluate(b);
    return expressions_equal(x, y);
  }

 public:
  bool expressions_equal(const ex& x, const ex& y) {
    budget_.check("comparison");
    if (GiNaC::is_a<numeric>(x) && GiNaC::is_a<numeric>(y)) {
      if (x == y) return true;
      if (!eval_.saw_decimal()) return false;
      return numerically_close(GiNaC::ex_to<numeric>(x), GiNaC::ex_to<numeric>(y), options_.float_rel_tol);
    }
    ex difference = x - y;
    if (!eval_.skip_expand()) {
      difference = difference.expand();
      budget_.check("expansion");
    }
    if (difference.is_zero()) return true;
    double tolerance = eval_.saw_decimal() ? options_.float_rel_tol : options_.symbolic_rel_tol;
    auto names_x = eval_.free_symbols(x), names_y = eval_.free_symbols(y);
    if (names_x != names_y) return false;
    if (x.has(eval_.infinity()) || y.has(eval_.infinity())) return false;  // oo only equals itself
    if (names_x.empty()) {
      auto vx = as_number(x), vy = as_number(y);
      budget_.check("numeric evaluation");
      return vx && vy && numerically_close(*vx, *vy, tolerance);
    }
    // Free variables: the two must agree at several points (chosen away from small integers, where
    // removable singularities and special values sit).
    int agreed = 0;
    for (int trial = 0; trial < 6 && agreed < 3; ++trial) {
      GiNaC::exmap point;
      int j = 0;
      for (const auto& name : names_x) {
        const auto& symbol = eval_.symbols().at(name);
        point[symbol] = numeric(131 + 17 * j + 29 * trial, 97 + 3 * trial) ;
        ++j;
      }
      try {
        auto vx = as_number(x.subs(point)), vy = as_number(y.subs(point));
        budget_.check("numeric evaluation");
        if (!vx || !vy) continue;
        if (!numerically_close(*vx, *vy, std::max(tolerance, 1e-25))) return false;
        ++agreed;
      } catch (const BudgetExceeded&) {
        throw;
      } catch (const std::exception&) {
        continue;  // a pole at this point: try another
      }
    }
    return agreed >= 2;
  }

 private:
  // Read from the question only when a list of named values meets a tuple.
  const NameOrders& question_orders() {
    if (!question_orders_) question_orders_ = question_name_orders(question_, budget_);
    return *question_orders_;
  }

  const MathGradingOptions& options_;
  const Budget& budget_;
  Evaluator eval_;
  std::string_view question_;
  std::optional<NameOrders> question_orders_;
};

bool has_unreduced_fraction(const Node& node) {
  if (node.kind == NodeKind::divide && node.children[0]->kind == NodeKind::number &&
      node.children[1]->kind == NodeKind::number && node.children[0]->text.find('.') == std::string::npos &&
      node.children[1]->text.find('.') == std::string::npos && node.children[0]->text.size() < 18 &&
      node.children[1]->text.size() < 18) {
    long long p = std::stoll(node.children[0]->text), q = std::stoll(node.children[1]->text);
    if (std::gcd(p, q) > 1) return true;
  }
  for (const auto& child : node.children)
    if (has_unreduced_fraction(*child)) return true;
  return false;
}

std::string squeeze(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != ' ') out += c;
  return out;
}

// GiNaC's printed form, or "" when it would be too long to be useful to a reader (a 5000-digit number).
std::string print(const ex& e) {
  std::ostringstream out;
  out << e;
  std::string text = out.str();
  return text.size() > 160 ? "" : text;
}

// Multiple choice, as MATH writes it ("\text{(C)}"; also "(C)", "C"): the letter the reference names, or 0.
char choice_reference_letter(std::string_view text) {
  std::string_view t = text;
  if (t.substr(0, 6) == "\\text{" && !t.empty() && t.back() == '}') t = t.substr(6, t.size() - 7);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (t.size() == 3 && t.front() == '(' && t.back() == ')') t = t.substr(1, 1);
  return t.size() == 1 && t[0] >= 'A' && t[0] <= 'E' ? t[0] : 0;
}

// A hedge after a choice: another choice marker ("(C)", "C.", "C:") or a list going on ("or", "and", ",").
bool names_another_choice(std::string_view text) {
  if (text.front() == ',' || text.front() == ';' || text.substr(0, 3) == "or " || text.substr(0, 4) == "and ") return true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] < 'A' || text[i] > 'E') continue;
    bool bracketed = i > 0 && text[i - 1] == '(' && i + 1 < text.size() && text[i + 1] == ')';
    bool marked = (i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1]))) && i + 2 < text.size() &&
                  (text[i + 1] == '.' || text[i + 1] == ':') && text[i + 2] == ' ';
    if (bracketed || marked) return true;
  }
  return false;
}

// An answer that opens with a choice and goes on with that option's own text: "(B)\ 3(1 + r/10)^x = 7",
// "C. x = 42", "C: 42". Returns the letter, or 0; a bare letter is compared as words like any text answer.
// The option's text is not graded: the letter is the answer the question asks for.
char leading_choice_letter(std::string_view answer) {
  // The marker may sit in a \text{} of its own ("\text{(B)} 3(1 + r/10)^x = 7") or in one holding it all.
  std::string unwrapped(answer);
  if (answer.substr(0, 6) == "\\text{")
    if (std::size_t end = matching_brace(answer, 5); end != std::string_view::npos)
      unwrapped = std::string(answer.substr(6, end - 7)) + " " + std::string(answer.substr(end));
  std::string_view text = unwrapped;
  std::size_t rest;
  char letter;
  if (text.size() > 3 && text[0] == '(' && text[2] == ')') {
    letter = text[1];
    rest = 3;
  } else if (text.size() > 2 && (text[1] == '.' || text[1] == ':')) {
    letter = text[0];
    rest = 2;
    if (text[2] != ' ') return 0;   // "C.5" is no choice
  } else {
    return 0;
  }
  if (letter < 'A' || letter > 'E') return 0;
  std::string_view after = text.substr(rest);
  while (!after.empty() && (after.front() == ' ' || after.front() == '\\' || after.front() == ':' || after.front() == '.'))
    after.remove_prefix(1);
  if (after.empty() || names_another_choice(after)) return 0;
  return letter;
}

// A reference written as a choice with its option's text, "C. x = 42" or "(C) 42": a "(C)" or "C." marker
// and an option holding a number or LaTeX. "E. coli" and "A: 5" (a label and its value) are no choice.
bool names_choice_with_math_option(std::string_view text) {
  std::size_t marker = text.find_first_of(").:");
  if (!leading_choice_letter(text) || marker == std::string_view::npos || text[marker] == ':') return false;
  std::string_view option = text.substr(marker + 1);
  return std::any_of(option.begin(), option.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '\\'; });
}

// "\binom{8}{4} = 70", "(x+1)^2 = x^2 + 2x + 1", "x = 2 + 3 = 5": a chain of equal expressions states its
// last side. Every side before the last must equal it (a leading name or label aside: "f(2) = 2 \cdot 3 =
// 6"), so an equation in unknowns ("x^2 - 5x + 6 = 0", "a + b = 5") is not read as its right side, and a
// chain that does not hold ("2 + 3 = 6", "1 = 2 = 3") states nothing: under RL, values joined by "=" must
// not earn credit for one of them. Returns nullptr when the node is no such chain.
const Node* last_side_of_chain(const Node& node, Comparer& comparer) {
  if (node.kind != NodeKind::relation || node.children.size() < 2) return nullptr;
  for (const auto& op : node.operators)
    if (op != "=") return nullptr;
  const Node& last = *node.children.back();
  if (!is_scalar_kind(last.kind) || count_plus_minus(last) > 0) return nullptr;
  ex value = comparer.evaluator().evaluate({&last, 0});
  for (std::size_t i = 0; i + 1 < node.children.size(); ++i) {
    const Node& side = *node.children[i];
    if (i == 0 && (is_name(side) || is_label(side))) continue;
    if (!is_scalar_kind(side.kind) || count_plus_minus(side) > 0) return nullptr;
    if (!comparer.expressions_equal(comparer.evaluator().evaluate({&side, 0}), value)) return nullptr;
  }
  return &last;
}

}  // namespace

AnswerComparison compare_math_answers(std::string_view candidate, std::string_view reference,
                                      const MathGradingOptions& options, const Budget& budget,
                                      std::string_view question) {
  AnswerComparison result;
  if (candidate.size() > options.limits.max_answer_chars)
    throw BudgetExceeded("answer longer than " + std::to_string(options.limits.max_answer_chars) + " characters");
  NormalizedAnswer cand = normalize_latex(candidate);
  NormalizedAnswer ref = normalize_latex(reference);
  result.candidate_canonical = cand.text;
  if (cand.text.empty()) {
    result.reason = "empty answer";
    return result;
  }
  NodePtr cand_tree, ref_tree;
  std::string parse_problem;
  try {
    ref_tree = parse_latex(ref.text, budget);
    cand_tree = parse_latex(cand.text, budget);
  } catch (const ParseError& error) {
    parse_problem = error.what();
  }
  if (options.unreduced_fractions == UnreducedFractionPolicy::reject && cand_tree && has_unreduced_fraction(*cand_tree)) {
    result.reason = "unreduced fraction (policy: reject)";
    return result;
  }
  // A choice against a choice, where one side also carries the option's text: "\text{(B)}" against
  // "(B)\ 3(1 + r/10)^x = 7", or a reference "C. x = 42" against "C". Only the letters are compared.
  char expected = choice_reference_letter(ref.text);
  char chosen = expected ? leading_choice_letter(cand.text) : 0;
  if (!expected && names_choice_with_math_option(ref.text)) {
    expected = leading_choice_letter(ref.text);
    chosen = expected ? choice_reference_letter(cand.text) : 0;
  }
  if (expected && chosen) {
    result.equal = chosen == expected;
    result.reason = result.equal ? "same choice (the option's text is not compared)" : "a different choice";
    return result;
  }
  if (squeeze(cand.text) == squeeze(ref.text)) {
    result.equal = true;
    result.reason = "identical after normalisation";
    return result;
  }
  if (!parse_problem.empty()) {
    // Only the words can be compared: a text answer, or something the parser does not cover.
    bool equal_words = normalize_text_answer(cand.text) == normalize_text_answer(ref.text) &&
                       !normalize_text_answer(ref.text).empty() &&
                       (ref.text.find("\\text{") != std::string::npos || cand.text.find("\\text{") != std::string::npos);
    result.equal = equal_words;
    result.reason = equal_words ? "same words" : "not parsed (" + parse_problem + "); normalised strings differ";
    return result;
  }
  // A \text{...} answer (a name, a choice letter, "no solution") compares as words.
  if (ref_tree->kind == NodeKind::text || cand_tree->kind == NodeKind::text) {
    if (!reads_as_words(*cand_tree) || !reads_as_words(*ref_tree)) {
      result.reason = "words on one side, a mathematical expression on the other";
      return result;
    }
    result.equal = normalize_text_answer(cand.text) == normalize_text_answer(ref.text);
    result.reason = result.equal ? "same words" : "different words";
    return result;
  }
  const Node* c = strip_assignment(cand_tree.get(), ref_tree.get());
  const Node* r = strip_assignment(ref_tree.get(), cand_tree.get());
  // The same tree is the same answer, whatever its value: no algebra needed (5^{5^{5^5}} written twice).
  if (to_debug_string(*c) == to_debug_string(*r) && !options.integer_answers) {
    result.equal = true;
    result.reason = "same expression";
    return result;
  }
  Comparer comparer(options, budget, question);
  try {
    if (r->kind != NodeKind::relation)
      if (const Node* last = last_side_of_chain(*c, comparer)) c = last;
    if (c->kind != NodeKind::relation)
      if (const Node* last = last_side_of_chain(*r, comparer)) r = last;
    if (options.integer_answers) {
      if (!is_scalar_kind(c->kind) || count_plus_minus(*c) > 0) {
        result.reason = "not a single integer";
        return result;
      }
      ex value = comparer.evaluator().evaluate({c, 0});
      ex expected = comparer.evaluator().evaluate({r, 0});
      bool integer = GiNaC::is_a<numeric>(value) && GiNaC::ex_to<numeric>(value).is_integer();
      std::string printed = print(value);
      if (!printed.empty()) result.candidate_canonical = printed;
      result.equal = integer && value == expected;
      result.reason = !integer ? "not an integer" : result.equal ? "same integer" : "different integer";
      return result;
    }
    result.equal = comparer.values_equal({c, 0}, {r, 0});
    if (!result.equal && options.percent == PercentPolicy::either && (cand.had_percent || ref.had_percent) &&
        is_scalar_kind(c->kind) && is_scalar_kind(r->kind)) {
      ex x = comparer.evaluator().evaluate({c, 0}), y = comparer.evaluator().evaluate({r, 0});
      result.equal = comparer.expressions_equal(x, y * 100) || comparer.expressions_equal(x * 100, y);
      if (result.equal) {
        result.reason = "equal as a percentage (policy: either)";
        return result;
      }
    }
    result.reason = result.equal ? "equivalent" : "not equivalent";
    if (is_scalar_kind(c->kind) && count_plus_minus(*c) == 0) {
      ex value = comparer.evaluator().evaluate({c, 0});
      std::string printed = print(value);
      if (!printed.empty()) result.candidate_canonical = printed;
    }
  } catch (const BudgetExceeded&) {
    throw;
  } catch (const ParseError& error) {
    result.equal = false;
    result.reason = std::string("not comparable: ") + error.what();
  } catch (const std::exception& error) {
    result.equal = false;
    result.reason = std::string("algebra error: ") + error.what();
  }
  return result;
}

bool is_relation_answer(std::string_view answer, const Budget& budget) {
  try {
    return parse_latex(normalize_latex(answer).text, budget)->kind == NodeKind::relation;
  } catch (const std::exception&) {
    return false;
  }
}

std::string canonical_math_answer(std::string_view answer, const Budget& budget) {
  NormalizedAnswer normalized = normalize_latex(answer);
  try {
    NodePtr tree = parse_latex(normalized.text, budget);
    if (is_scalar_kind(tree->kind) && count_plus_minus(*tree) == 0) {
      Evaluator evaluator(budget);
      ex value = evaluator.evaluate({tree.get(), 0});
      if (!evaluator.skip_expand()) value = value.expand();
      std::string printed = print(value);
      return printed.empty() ? squeeze(normalized.text) : printed;
    }
    return to_debug_string(*tree);
  } catch (const ParseError&) {
    return squeeze(normalized.text);
  } catch (const std::exception&) {
    return squeeze(normalized.text);
  }
}

namespace {

void collect_function_values(const Node& node, Evaluator& evaluator, std::vector<std::string>& keys) {
  if (node.kind == NodeKind::function && is_trig_or_log(node.text)) {
    std::string printed = print(evaluator.evaluate({&node, 0}));
    // A special value is evaluated away (\sin 30^\circ is 1/2); only a value still written with its
    // function is one an answer can leave unevaluated. GiNaC prints cot, sec and csc through tan, cos, sin.
    for (std::string_view name : {"sin(", "cos(", "tan(", "log("})
      if (printed.find(name) != std::string::npos) {
        keys.push_back(printed);
        break;
      }
  }
  for (const auto& child : node.children) collect_function_values(*child, evaluator, keys);
}

}  // namespace

std::vector<std::string> function_value_keys(std::string_view expression, const Budget& budget) {
  std::vector<std::string> keys;
  try {
    NodePtr tree = parse_latex(normalize_latex(expression).text, budget);
    Evaluator evaluator(budget);
    collect_function_values(*tree, evaluator, keys);
  } catch (const std::exception&) {
    // Unparsed, or out of budget: the values found so far.
  }
  return keys;
}

}  // namespace r1lab::grading
