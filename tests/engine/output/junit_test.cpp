// SPDX-License-Identifier: MIT
#include "engine/output/junit.hpp"

#include <gtest/gtest.h>

#include "engine/metrics/builtin.hpp"
#include "engine/metrics/registry.hpp"
#include "support/mini_xml.hpp"

namespace luaload::engine::output {
namespace {

namespace builtin = metrics::builtin;
using test::parse_xml;
using test::XmlElement;

metrics::ThresholdResult threshold(std::string selector, std::string expression, bool passed, std::string text) {
  metrics::ThresholdResult r;
  r.selector = std::move(selector);
  r.expression = std::move(expression);
  r.passed = passed;
  r.text = std::move(text);
  return r;
}

XmlElement parsed(const std::string& xml) {
  std::string error;
  auto root = parse_xml(xml, &error);
  EXPECT_TRUE(root) << error << "\n" << xml;
  return root.value_or(XmlElement{});
}

TEST(Junit, WritesOneTestcasePerThresholdNamedBySelectorAndExpression) {
  auto root = parsed(junit_xml({threshold("http_req_duration", "p(95)<300", true, "p(95)=120ms"),
                                threshold("http_req_failed", "rate<0.01", false, "rate=5.00%")},
                               {}, 3));
  ASSERT_EQ(root.name, "testsuites");
  EXPECT_EQ(root.attribute("tests"), "2");
  EXPECT_EQ(root.attribute("failures"), "1");
  auto suites = root.all("testsuite");
  ASSERT_EQ(suites.size(), 2u);
  EXPECT_EQ(suites[0]->attribute("name"), "thresholds");
  auto cases = suites[0]->all("testcase");
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0]->attribute("classname"), "thresholds");
  EXPECT_EQ(cases[0]->attribute("name"), "http_req_duration: p(95)<300");
  EXPECT_TRUE(cases[0]->children.empty());
}

TEST(Junit, AFailedThresholdCarriesTheObservedValue) {
  auto root = parsed(junit_xml({threshold("http_req_duration{name:a&b}", "p(95)<300", false, "p(95)=412.2ms")}, {}, 1));
  auto cases = root.all("testsuite")[0]->all("testcase");
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0]->attribute("name"), "http_req_duration{name:a&b}: p(95)<300");
  auto failures = cases[0]->all("failure");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0]->attribute("message"), "p(95)=412.2ms");
  EXPECT_EQ(failures[0]->text, "threshold http_req_duration{name:a&b}: p(95)<300 failed: observed p(95)=412.2ms");
}

TEST(Junit, ACheckWithFailuresCarriesItsPassAndFailCounts) {
  auto root = parsed(junit_xml({}, {{"::login", "status is <200>", 7, 3}, {"", "body \"ok\"", 10, 0}}, 1));
  auto checks = root.all("testsuite")[1];
  EXPECT_EQ(checks->attribute("name"), "checks");
  EXPECT_EQ(checks->attribute("failures"), "1");
  auto cases = checks->all("testcase");
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0]->attribute("name"), "::login::status is <200>");
  EXPECT_EQ(cases[0]->all("failure")[0]->attribute("message"), "3 of 10 failed (7 passes, 3 fails)");
  EXPECT_EQ(cases[1]->attribute("name"), "body \"ok\"");
  EXPECT_TRUE(cases[1]->all("failure").empty());
}

TEST(Junit, ControlCharactersAndInvalidUtf8StayWellFormed) {
  auto root = parsed(junit_xml({}, {{"", std::string("odd\x01name\xff\nline"), 0, 1}}, 1));
  EXPECT_EQ(root.all("testsuite")[1]->all("testcase")[0]->attribute("name"),
            "odd\xEF\xBF\xBDname\xEF\xBF\xBD\nline");
}

TEST(Junit, ReplacesUtf16SurrogatesWhichXmlCannotCarry) {
  EXPECT_EQ(xml_escape("a\xED\xA0\x80"), "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Junit, ReplacesTheNoncharactersUFFFEAndUFFFFWhichXmlCannotCarry) {
  EXPECT_EQ(xml_escape("a\xEF\xBF\xBE" "b\xEF\xBF\xBF"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
}

TEST(Junit, KeepsTheCharactersNextToTheNoncharacters) {
  EXPECT_EQ(xml_escape("\xEF\xBF\xBD\xEF\xBF\xBC\xF0\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBC\xF0\x90\x80\x80");
}

TEST(Junit, CollectsChecksFromTheStoreSummedOverOtherTags) {
  metrics::Registry w;
  w.add(builtin::kChecks, w.intern({{"check", "ok"}, {"scenario", "a"}}), 1);
  w.add(builtin::kChecks, w.intern({{"check", "ok"}, {"scenario", "b"}}), 0);
  w.add(builtin::kChecks, w.intern({{"check", "ok"}, {"group", "::g"}}), 1);
  metrics::Store store;
  store.merge(w.take_delta());
  auto checks = collect_checks(store);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].group, "");
  EXPECT_EQ(checks[0].passes, 1u);
  EXPECT_EQ(checks[0].fails, 1u);
  EXPECT_EQ(checks[1].group, "::g");
  EXPECT_EQ(checks[1].passes, 1u);
}

TEST(Junit, EscapesTheFiveXmlSpecialCharacters) { EXPECT_EQ(xml_escape("<a&'\">"), "&lt;a&amp;&apos;&quot;&gt;"); }

}  // namespace
}  // namespace luaload::engine::output
