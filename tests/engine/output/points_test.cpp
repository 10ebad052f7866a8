// SPDX-License-Identifier: MIT
#include "engine/output/points.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace luaload::engine::output {
namespace {

using nlohmann::json;

constexpr int64_t kTime = 1'764'016'621'123;  // 2025-11-24T20:37:01.123Z

TEST(Points, FormatsTimesAsRfc3339UtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339_ms(kTime), "2025-11-24T20:37:01.123Z");
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
}

TEST(Points, WritesAMetricLineInK6sShape) {
  std::string out;
  append_ndjson_metric(out, {"http_req_duration", metrics::MetricType::Trend, metrics::ValueType::Time},
                       {"p(95)<300"});
  EXPECT_EQ(out,
            R"({"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time",)"
            R"("thresholds":["p(95)<300"],"submetrics":null},"metric":"http_req_duration"})"
            "\n");
}

TEST(Points, WritesAPointLineWithTagsThatParsesAsJson) {
  std::string out;
  append_ndjson_point(out, "http_req_duration", kTime, 12.25, {{"method", "GET"}, {"name", "a\"b\\c\n"}});
  ASSERT_EQ(out.back(), '\n');
  json line = json::parse(out);
  EXPECT_EQ(line["type"], "Point");
  EXPECT_EQ(line["metric"], "http_req_duration");
  EXPECT_EQ(line["data"]["time"], "2025-11-24T20:37:01.123Z");
  EXPECT_EQ(line["data"]["value"], 12.25);
  EXPECT_EQ(line["data"]["tags"]["name"], "a\"b\\c\n");
}

TEST(Points, WritesNullTagsForAnUntaggedPoint) {
  std::string out;
  append_ndjson_point(out, "vus", kTime, 5, {});
  EXPECT_TRUE(json::parse(out)["data"]["tags"].is_null());
}

TEST(Points, ReplacesInvalidUtf8InStringsSoTheLineStaysValidJson) {
  std::string out;
  append_json_string(out, std::string("a\xff") + "b");
  EXPECT_EQ(out, "\"a\xEF\xBF\xBD" "b\"");
}

TEST(Points, ReplacesOverlongFormsAndSurrogatesByteByByte) {
  std::string out;
  append_json_string(out, "\xC0\xAF\xED\xA0\x80");
  EXPECT_EQ(out, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(Points, WritesNonFiniteNumbersAsNull) {
  std::string out;
  append_json_number(out, 1.0 / 0.0);
  EXPECT_EQ(out, "null");
}

TEST(Points, AnAggregatedTrendPointCarriesTheIntervalsStatistics) {
  metrics::Sink sink(metrics::MetricType::Trend);
  for (double v : {10.0, 20.0, 30.0}) sink.add(v);
  std::string out;
  append_ndjson_aggregate(out, "http_req_duration", kTime, {{"name", "home"}}, sink);
  json line = json::parse(out);
  EXPECT_EQ(line["data"]["value"], 20);
  EXPECT_EQ(line["data"]["aggregate"]["count"], 3);
  EXPECT_EQ(line["data"]["aggregate"]["sum"], 60);
  EXPECT_EQ(line["data"]["aggregate"]["min"], 10);
  EXPECT_EQ(line["data"]["aggregate"]["max"], 30);
  EXPECT_NEAR(line["data"]["aggregate"]["p(50)"].get<double>(), 20, 20 * 0.008);
}

TEST(Points, AnAggregatedCounterPointsValueIsTheIntervalsSum) {
  metrics::Sink sink(metrics::MetricType::Counter);
  sink.add(2);
  sink.add(3);
  std::string out;
  append_ndjson_aggregate(out, "http_reqs", kTime, {}, sink);
  json line = json::parse(out);
  EXPECT_EQ(line["data"]["value"], 5);
  EXPECT_EQ(line["data"]["aggregate"]["count"], 2);
}

TEST(Points, TheCsvHeaderHasK6sColumns) {
  std::string out;
  append_csv_header(out);
  EXPECT_EQ(out,
            "metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,"
            "scenario,service,status,subproto,tls_version,url,extra_tags,metadata\n");
}

TEST(Points, ACsvRowPutsKnownTagsInTheirColumnsAndTheOthersInExtraTags) {
  std::string out;
  append_csv_row(out, "http_reqs", kTime, 1, {{"method", "GET"}, {"region", "eu"}, {"status", "200"}, {"team", "x"}},
                 false);
  EXPECT_EQ(out, "http_reqs,1764016621,1,,,,,,GET,,,,,200,,,,region=eu&team=x,\n");
}

TEST(Points, ACsvRowCanCarryMillisecondTimestamps) {
  std::string out;
  append_csv_row(out, "vus", kTime, 3, {}, true);
  EXPECT_EQ(out, "vus,1764016621123,3,,,,,,,,,,,,,,,,\n");
}

TEST(Points, CsvFieldsWithCommasQuotesOrNewlinesAreQuoted) {
  std::string out;
  append_csv_field(out, "a,\"b\"\nc");
  EXPECT_EQ(out, "\"a,\"\"b\"\"\nc\"");
}

}  // namespace
}  // namespace luaload::engine::output
