// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include "engine/metrics/threshold.hpp"

namespace luaload::engine::metrics {
namespace {

TEST(ParseSelector, ReadsABareMetricName) {
  EXPECT_EQ(parse_selector("http_req_duration", nullptr), (Selector{"http_req_duration", {}}));
}

TEST(ParseSelector, ReadsTagFiltersSortedByKey) {
  EXPECT_EQ(parse_selector("http_req_duration{name:login,method:GET}", nullptr),
            (Selector{"http_req_duration", {{"method", "GET"}, {"name", "login"}}}));
}

TEST(ParseSelector, ToleratesWhitespaceAndQuotedValues) {
  EXPECT_EQ(parse_selector(" http_req_duration { name : \"log in\" , expected_response: 'true' } ", nullptr),
            (Selector{"http_req_duration", {{"expected_response", "true"}, {"name", "log in"}}}));
}

TEST(ParseSelector, KeepsColonsInsideValues) {
  EXPECT_EQ(parse_selector("checks{check:status is 200}", nullptr), (Selector{"checks", {{"check", "status is 200"}}}));
  EXPECT_EQ(parse_selector("http_reqs{url:\"http://x:8080/\"}", nullptr),
            (Selector{"http_reqs", {{"url", "http://x:8080/"}}}));
}

TEST(ParseSelector, NamesTheProblemInItsError) {
  std::string error;
  EXPECT_FALSE(parse_selector("http_req_duration{name}", &error));
  EXPECT_EQ(error, "invalid threshold metric selector 'http_req_duration{name}': expected ':' after tag key 'name' "
                   "at character 23");
  EXPECT_FALSE(parse_selector("http-req", &error));
  EXPECT_EQ(error, "invalid threshold metric selector 'http-req': metric name 'http-req' must match "
                   "^[a-zA-Z_][a-zA-Z0-9_]{0,127}$");
  EXPECT_FALSE(parse_selector("m{a:1", &error));
  EXPECT_EQ(error, "invalid threshold metric selector 'm{a:1': expected ',' or '}' at character 6");
  EXPECT_FALSE(parse_selector("m{}", &error));
  EXPECT_EQ(error, "invalid threshold metric selector 'm{}': expected a tag key at character 3");
  EXPECT_FALSE(parse_selector("m{a:1} x", &error));
  EXPECT_EQ(error, "invalid threshold metric selector 'm{a:1} x': unexpected text at character 8");
  EXPECT_FALSE(parse_selector("m{a:1,a:2}", &error));
  EXPECT_EQ(error, "invalid threshold metric selector 'm{a:1,a:2}': tag 'a' given twice");
}

TEST(ParseExpression, ReadsEachAggregationAndOperator) {
  const auto e = parse_expression("p(95)<500", nullptr);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->aggregation, Aggregation::Percentile);
  EXPECT_EQ(e->percentile, 95);
  EXPECT_EQ(e->op, ComparisonOp::Less);
  EXPECT_EQ(e->bound, 500);
  EXPECT_EQ(e->aggregation_text, "p(95)");
  EXPECT_EQ(parse_expression("avg<=200", nullptr)->op, ComparisonOp::LessEqual);
  EXPECT_EQ(parse_expression("rate>0.95", nullptr)->op, ComparisonOp::Greater);
  EXPECT_EQ(parse_expression("count>=10", nullptr)->op, ComparisonOp::GreaterEqual);
  EXPECT_EQ(parse_expression("value==3", nullptr)->op, ComparisonOp::Equal);
  EXPECT_EQ(parse_expression("med===3", nullptr)->op, ComparisonOp::StrictEqual);
  EXPECT_EQ(parse_expression("max!=3", nullptr)->op, ComparisonOp::NotEqual);
  EXPECT_EQ(parse_expression("min<1", nullptr)->aggregation, Aggregation::Min);
}

TEST(ParseExpression, AcceptsDecimalPercentilesAndWhitespace) {
  const auto e = parse_expression("  p( 99.9 ) <  1e3 ", nullptr);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->percentile, 99.9);
  EXPECT_EQ(e->bound, 1000);
  EXPECT_EQ(e->aggregation_text, "p(99.9)");
}

TEST(ParseExpression, AcceptsNegativeBounds) { EXPECT_EQ(parse_expression("avg > -1.5", nullptr)->bound, -1.5); }

TEST(ParseExpression, NamesTheProblemInItsError) {
  std::string error;
  EXPECT_FALSE(parse_expression("p(95<500", &error));
  EXPECT_EQ(error, "invalid threshold expression 'p(95<500': expected ')' after the percentile at character 5");
  EXPECT_FALSE(parse_expression("avgg<500", &error));
  EXPECT_EQ(error, "invalid threshold expression 'avgg<500': unknown aggregation method 'avgg'");
  EXPECT_FALSE(parse_expression("avg 500", &error));
  EXPECT_EQ(error, "invalid threshold expression 'avg 500': expected an operator (<, <=, >, >=, ==, ===, !=) at "
                   "character 5");
  EXPECT_FALSE(parse_expression("avg < fast", &error));
  EXPECT_EQ(error, "invalid threshold expression 'avg < fast': expected a number at character 7");
  EXPECT_FALSE(parse_expression("avg < 5ms", &error));
  EXPECT_EQ(error, "invalid threshold expression 'avg < 5ms': unexpected text at character 8");
  EXPECT_FALSE(parse_expression("p(101)<5", &error));
  EXPECT_EQ(error, "invalid threshold expression 'p(101)<5': expected a percentile from 0 to 100 at character 3");
  EXPECT_FALSE(parse_expression("", &error));
  EXPECT_EQ(error, "invalid threshold expression '': expected an aggregation method (avg, min, max, med, p(N), "
                   "rate, count, value)");
}

}  // namespace
}  // namespace luaload::engine::metrics
