// SPDX-License-Identifier: MIT
// The two small grammars of k6 thresholds:
//   selector   := name ws* [ '{' tag (',' tag)* '}' ] ws*       tag := ws* key ws* ':' ws* value ws*
//   expression := ws* aggregation ws* op ws* number ws*         aggregation := word | 'p' ws* '(' number ')'
// Tag values may be quoted with '...' or "..." (the quotes are not part of the value).
#include <algorithm>
#include <charconv>
#include <cmath>

#include "engine/metrics/threshold.hpp"

namespace luaload::engine::metrics {
namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  void skip_spaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  bool eat(std::string_view s) {
    if (text_.substr(pos_, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }
  // Characters up to (not including) the first of `stops` or the end.
  std::string_view take_until(std::string_view stops) {
    const size_t start = pos_;
    while (!at_end() && stops.find(text_[pos_]) == std::string_view::npos) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  std::optional<double> number() {
    double value = 0;
    const char* begin = text_.data() + pos_;
    const auto [end, ec] = std::from_chars(begin, text_.data() + text_.size(), value);
    if (ec != std::errc() || !std::isfinite(value)) return std::nullopt;
    pos_ += static_cast<size_t>(end - begin);
    return value;
  }
  size_t column() const { return pos_ + 1; }  // 1-based, for messages

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <typename T>
std::optional<T> fail(std::string* error, std::string_view what, std::string_view text, const std::string& why) {
  if (error) *error = "invalid threshold " + std::string(what) + " '" + std::string(text) + "': " + why;
  return std::nullopt;
}

std::string at(const Cursor& c) { return " at character " + std::to_string(c.column()); }

std::optional<std::string> parse_tag_value(Cursor& c) {
  c.skip_spaces();
  for (char quote : {'"', '\''}) {
    if (c.eat(quote)) {
      std::string value(c.take_until(std::string_view(&quote, 1)));
      if (!c.eat(quote)) return std::nullopt;
      return value;
    }
  }
  return std::string(trim(c.take_until(",}")));
}

bool has_key(const Tags& tags, const std::string& key) {
  return std::any_of(tags.begin(), tags.end(), [&](const Tag& t) { return t.first == key; });
}

std::optional<Tags> parse_filter(Cursor& c, std::string_view text, std::string* error) {
  Tags tags;
  do {
    c.skip_spaces();
    std::string key(trim(c.take_until(":,}")));
    if (key.empty()) return fail<Tags>(error, "metric selector", text, "expected a tag key" + at(c));
    if (!c.eat(':')) return fail<Tags>(error, "metric selector", text, "expected ':' after tag key '" + key + "'" + at(c));
    auto value = parse_tag_value(c);
    if (!value) return fail<Tags>(error, "metric selector", text, "unterminated quoted value" + at(c));
    if (has_key(tags, key)) return fail<Tags>(error, "metric selector", text, "tag '" + key + "' given twice");
    tags.emplace_back(std::move(key), std::move(*value));
    c.skip_spaces();
  } while (c.eat(','));
  if (!c.eat('}')) return fail<Tags>(error, "metric selector", text, "expected ',' or '}'" + at(c));
  std::sort(tags.begin(), tags.end());
  return tags;
}

struct NamedAggregation {
  std::string_view name;
  Aggregation aggregation;
};
constexpr NamedAggregation kAggregations[] = {
    {"avg", Aggregation::Avg},     {"min", Aggregation::Min},     {"max", Aggregation::Max},
    {"med", Aggregation::Med},     {"rate", Aggregation::Rate},   {"count", Aggregation::Count},
    {"value", Aggregation::Value},
};

bool parse_percentile(Cursor& c, Expression& out, std::string_view text, std::string* error) {
  c.skip_spaces();
  if (!c.eat('(')) return fail<bool>(error, "expression", text, "expected '(' after 'p'" + at(c)).has_value();
  c.skip_spaces();
  const std::string where = at(c);
  auto p = c.number();
  if (!p || *p < 0 || *p > 100) {
    return fail<bool>(error, "expression", text, "expected a percentile from 0 to 100" + where).has_value();
  }
  c.skip_spaces();
  if (!c.eat(')')) return fail<bool>(error, "expression", text, "expected ')' after the percentile" + at(c)).has_value();
  out.aggregation = Aggregation::Percentile;
  out.percentile = *p;
  out.aggregation_text = "p(" + format_percentile(*p) + ")";
  return true;
}

bool parse_aggregation(Cursor& c, Expression& out, std::string_view text, std::string* error) {
  const std::string_view word = c.take_until(" \t(<>=!");
  if (word == "p") return parse_percentile(c, out, text, error);
  for (const auto& named : kAggregations) {
    if (word == named.name) {
      out.aggregation = named.aggregation;
      out.aggregation_text = std::string(word);
      return true;
    }
  }
  const std::string why = word.empty() ? "expected an aggregation method (avg, min, max, med, p(N), rate, count, value)"
                                       : "unknown aggregation method '" + std::string(word) + "'";
  return fail<bool>(error, "expression", text, why).has_value();
}

bool parse_op(Cursor& c, Expression& out) {
  // Longest first: "===" before "==", "<=" before "<".
  static constexpr std::pair<std::string_view, ComparisonOp> kOps[] = {
      {"===", ComparisonOp::StrictEqual}, {"==", ComparisonOp::Equal},  {"!=", ComparisonOp::NotEqual},
      {"<=", ComparisonOp::LessEqual},    {">=", ComparisonOp::GreaterEqual}, {"<", ComparisonOp::Less},
      {">", ComparisonOp::Greater},
  };
  for (const auto& [text, op] : kOps) {
    if (c.eat(text)) {
      out.op = op;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string format_percentile(double p) {
  std::string out = std::to_string(p);
  out.erase(out.find_last_not_of('0') + 1);
  if (out.back() == '.') out.pop_back();
  return out;
}

std::optional<Selector> parse_selector(std::string_view raw, std::string* error) {
  const std::string_view text = trim(raw);
  Cursor c(text);
  Selector out;
  out.metric = std::string(trim(c.take_until("{")));
  if (!is_valid_metric_name(out.metric)) {
    return fail<Selector>(error, "metric selector", text,
                          "metric name '" + out.metric + "' must match ^[a-zA-Z_][a-zA-Z0-9_]{0,127}$");
  }
  if (c.eat('{')) {
    auto tags = parse_filter(c, text, error);
    if (!tags) return std::nullopt;
    out.filter = std::move(*tags);
  }
  c.skip_spaces();
  if (!c.at_end()) return fail<Selector>(error, "metric selector", text, "unexpected text" + at(c));
  return out;
}

std::optional<Expression> parse_expression(std::string_view raw, std::string* error) {
  const std::string_view text = trim(raw);
  Cursor c(text);
  Expression out;
  if (!parse_aggregation(c, out, text, error)) return std::nullopt;
  c.skip_spaces();
  if (!parse_op(c, out)) {
    return fail<Expression>(error, "expression", text, "expected an operator (<, <=, >, >=, ==, ===, !=)" + at(c));
  }
  c.skip_spaces();
  auto bound = c.number();
  if (!bound) return fail<Expression>(error, "expression", text, "expected a number" + at(c));
  out.bound = *bound;
  c.skip_spaces();
  if (!c.at_end()) return fail<Expression>(error, "expression", text, "unexpected text" + at(c));
  return out;
}

}  // namespace luaload::engine::metrics
