// SPDX-License-Identifier: MIT
#include "engine/output/junit.hpp"

#include <cstdio>
#include <map>
#include <utility>

#include "engine/output/utf8.hpp"

namespace luaload::engine::output {
namespace {

// True for what XML 1.0's Char production excludes although it is well-formed UTF-8: control characters other than
// tab, LF and CR, and the noncharacters U+FFFE and U+FFFF (EF BF BE, EF BF BF).
bool outside_xml_chars(std::string_view sequence) {
  const char c = sequence[0];
  if (sequence.size() == 1) return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r';
  return sequence == "\xEF\xBF\xBE" || sequence == "\xEF\xBF\xBF";
}

std::string tag_value(const metrics::Tags& tags, std::string_view key) {
  for (const auto& [k, v] : tags) {
    if (k == key) return v;
  }
  return "";
}

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", s < 0 ? 0 : s);
  return text;
}

std::string check_name(const CheckOutcome& check) {
  return check.group.empty() ? check.name : check.group + "::" + check.name;
}

void append_case(std::string& out, const std::string& classname, const std::string& name, const std::string* failure,
                 const std::string& detail) {
  out += "    <testcase classname=\"" + xml_escape(classname) + "\" name=\"" + xml_escape(name) + "\"";
  if (!failure) {
    out += "/>\n";
    return;
  }
  out += ">\n      <failure type=\"" + classname + "\" message=\"" + xml_escape(*failure) + "\">" + xml_escape(detail) +
         "</failure>\n    </testcase>\n";
}

void append_suite_head(std::string& out, const char* name, size_t tests, size_t failures) {
  out += "  <testsuite name=\"" + std::string(name) + "\" tests=\"" + std::to_string(tests) + "\" failures=\"" +
         std::to_string(failures) + "\" errors=\"0\" skipped=\"0\">\n";
}

std::string thresholds_suite(const std::vector<metrics::ThresholdResult>& thresholds, size_t* failures) {
  std::string body;
  size_t failed = 0;
  for (const auto& t : thresholds) {
    const std::string name = t.selector + ": " + t.expression;
    const std::string* failure = t.passed ? nullptr : &t.text;
    if (!t.passed) ++failed;
    append_case(body, "thresholds", name, failure, "threshold " + name + " failed: observed " + t.text);
  }
  std::string out;
  append_suite_head(out, "thresholds", thresholds.size(), failed);
  *failures += failed;
  return out + body + "  </testsuite>\n";
}

std::string checks_suite(const std::vector<CheckOutcome>& checks, size_t* failures) {
  std::string body;
  size_t failed = 0;
  for (const auto& check : checks) {
    const uint64_t total = check.passes + check.fails;
    const std::string message = std::to_string(check.fails) + " of " + std::to_string(total) + " failed (" +
                                std::to_string(check.passes) + " passes, " + std::to_string(check.fails) + " fails)";
    if (check.fails > 0) ++failed;
    append_case(body, "checks", check_name(check), check.fails > 0 ? &message : nullptr,
                "check \"" + check_name(check) + "\": " + message);
  }
  std::string out;
  append_suite_head(out, "checks", checks.size(), failed);
  *failures += failed;
  return out + body + "  </testsuite>\n";
}

}  // namespace

std::vector<CheckOutcome> collect_checks(const metrics::Store& store) {
  std::map<std::pair<std::string, std::string>, CheckOutcome> by_key;
  for (const auto& series : store.series("checks")) {
    std::string name = tag_value(*series.tags, "check");
    std::string group = tag_value(*series.tags, "group");
    CheckOutcome& outcome = by_key[{group, name}];
    outcome.group = group;
    outcome.name = name;
    outcome.passes += series.sink->rate().passes;
    outcome.fails += series.sink->rate().fails();
  }
  std::vector<CheckOutcome> out;
  for (auto& [key, outcome] : by_key) out.push_back(std::move(outcome));
  return out;
}

std::string junit_xml(const std::vector<metrics::ThresholdResult>& thresholds, const std::vector<CheckOutcome>& checks,
                      double elapsed_s) {
  size_t failures = 0;
  std::string suites = thresholds_suite(thresholds, &failures) + checks_suite(checks, &failures);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"luaload\" tests=\"" +
         std::to_string(thresholds.size() + checks.size()) + "\" failures=\"" + std::to_string(failures) +
         "\" time=\"" + seconds_text(elapsed_s) + "\">\n" + suites + "</testsuites>\n";
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence_length(text, i);
    const char c = text[i];
    if (n == 0 || outside_xml_chars(text.substr(i, n))) {
      out += kReplacementCharacter;
      i += n == 0 ? 1 : n;
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      // Numeric references survive attribute-value normalisation, which would turn a raw newline into a space.
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      case '\t': out += "&#9;"; break;
      default: out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

}  // namespace luaload::engine::output
