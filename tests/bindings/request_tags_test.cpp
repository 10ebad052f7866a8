// SPDX-License-Identifier: MIT
#include "bindings/request_tags.hpp"

#include "engine/metrics/builtin.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace luaload::bindings {
namespace {

using engine::metrics::Registry;
using engine::metrics::Tags;

TEST(RequestTagsTest, AnExchangeCarriesTheRequestDefaultsAndItsOwnTags) {
  Registry registry;
  RequestTags tags(registry);
  const auto base = tags.defaults("::login", "default");
  const auto id = tags.exchange(base, "GET", "http://127.0.0.1/a", 200, 0, true);
  const Tags expected{{"expected_response", "true"}, {"group", "::login"},  {"method", "GET"},
                      {"name", "http://127.0.0.1/a"}, {"scenario", "default"}, {"status", "200"}};
  EXPECT_EQ(registry.tags(id), expected);
}

TEST(RequestTagsTest, TheSameShapeGivesTheSameTagSetAsInterningTheFullList) {
  Registry registry;
  RequestTags tags(registry);
  const auto first = tags.exchange(tags.defaults("", "s"), "POST", "http://h/x", 503, 0, false);
  const auto again = tags.exchange(tags.defaults("", "s"), "POST", "http://h/x", 503, 0, false);
  const auto interned = registry.intern({{"group", ""},
                                         {"scenario", "s"},
                                         {"method", "POST"},
                                         {"name", "http://h/x"},
                                         {"status", "503"},
                                         {"expected_response", "false"}});
  EXPECT_EQ(first, again);
  EXPECT_EQ(first, interned);
}

TEST(RequestTagsTest, StatusMethodUrlAndErrorCodeEachMakeADifferentTagSet) {
  Registry registry;
  RequestTags tags(registry);
  const auto base = tags.defaults("", "");
  const auto ok = tags.exchange(base, "GET", "http://h/", 200, 0, true);
  EXPECT_NE(ok, tags.exchange(base, "GET", "http://h/", 404, 0, false));
  EXPECT_NE(ok, tags.exchange(base, "HEAD", "http://h/", 200, 0, true));
  EXPECT_NE(ok, tags.exchange(base, "GET", "http://h/b", 200, 0, true));
  const auto failed = tags.exchange(base, "GET", "http://h/", 0, 1212, false);
  const Tags& failed_tags = registry.tags(failed);
  EXPECT_NE(std::find(failed_tags.begin(), failed_tags.end(), engine::metrics::Tag{"error_code", "1212"}),
            failed_tags.end());
}

TEST(RequestTagsTest, TheScriptsOwnTagsWinOverTheDefaults) {
  Registry registry;
  RequestTags tags(registry);
  const auto base = registry.intern({{"name", "item"}, {"group", ""}, {"status", "custom"}});
  const auto id = tags.exchange(base, "GET", "http://h/item/42", 200, 0, true);
  const Tags expected{{"expected_response", "true"}, {"group", ""}, {"method", "GET"}, {"name", "item"},
                      {"status", "custom"}};
  EXPECT_EQ(registry.tags(id), expected);
}

TEST(RequestTagsTest, TheExpectedResponseTagIsTheRulesVerdictNotTheStatusAlone) {
  Registry registry;
  RequestTags tags(registry);
  const auto base = tags.defaults("", "");
  const auto expected_404 = tags.exchange(base, "GET", "http://h/", 404, 0, true);
  const Tags& t = registry.tags(expected_404);
  EXPECT_NE(std::find(t.begin(), t.end(), engine::metrics::Tag{"expected_response", "true"}), t.end());
  EXPECT_NE(expected_404, tags.exchange(base, "GET", "http://h/", 404, 0, false));
  EXPECT_EQ(expected_404, tags.exchange(base, "GET", "http://h/", 404, 0, true));
  // The recent-shape cache tells the two verdicts apart too.
  const auto& as_expected = tags.exchange_series(base, "GET", "http://h/", 200, 0, true);
  const auto as_expected_tags = as_expected.tags;
  EXPECT_NE(as_expected_tags, tags.exchange_series(base, "GET", "http://h/", 200, 0, false).tags);
  EXPECT_EQ(as_expected_tags, tags.exchange_series(base, "GET", "http://h/", 200, 0, true).tags);
}

TEST(RequestTagsTest, UrlsThatDifferOnlyAfterAnEmbeddedSeparatorStayDistinct) {
  Registry registry;
  RequestTags tags(registry);
  const auto base = tags.defaults("", "");
  EXPECT_NE(tags.exchange(base, "GET", "http://h/a", 200, 0, true),
            tags.exchange(base, "GETh", "ttp://h/a", 200, 0, true));
}

TEST(RequestTagsTest, ExchangeSeriesAreTheSeriesOfTheExchangesTagSetForEveryMetric) {
  Registry registry;
  RequestTags tags(registry);
  const auto base = tags.defaults("", "");
  const auto& s = tags.exchange_series(base, "GET", "http://h/", 200, 0, true);
  const auto id = tags.exchange(base, "GET", "http://h/", 200, 0, true);
  EXPECT_EQ(s.tags, id);
  EXPECT_EQ(s.reqs, registry.series(engine::metrics::builtin::kHttpReqs, id));
  EXPECT_EQ(s.waiting, registry.series(engine::metrics::builtin::kHttpReqWaiting, id));
  EXPECT_EQ(s.data_received, registry.series(engine::metrics::builtin::kDataReceived, id));
}

TEST(RequestTagsTest, ExchangeSeriesStayRightPastTheNumberOfShapesRemembered) {
  Registry registry;
  RequestTags tags(registry);
  const auto base = tags.defaults("", "");
  // Twice round more distinct shapes than are remembered, then each again: every answer must match its shape.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 20; ++i) {
      const std::string url = "http://h/" + std::to_string(i);
      const int status = i % 2 == 0 ? 200 : 404;
      const auto& s = tags.exchange_series(base, "GET", url, status, 0, status == 200);
      EXPECT_EQ(s.tags, tags.exchange(base, "GET", url, status, 0, status == 200)) << round << " " << i;
      EXPECT_EQ(s.duration, registry.series(engine::metrics::builtin::kHttpReqDuration, s.tags));
    }
  }
  EXPECT_NE(tags.exchange_series(base, "GET", "http://h/1", 200, 0, true).tags,
            tags.exchange_series(base, "GET", "http://h/1", 404, 0, false).tags);
}

}  // namespace
}  // namespace luaload::bindings
