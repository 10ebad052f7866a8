// SPDX-License-Identifier: MIT
#include "app/error_table.hpp"

#include <gtest/gtest.h>

#include <string>

namespace luaload::app {
namespace {

TEST(ErrorTableTest, RepeatedMessagesAreCountedUnderOneEntry) {
  ErrorTable table;
  EXPECT_TRUE(table.add("boom", 2));
  EXPECT_FALSE(table.add("boom", 3));
  ASSERT_EQ(table.counts().size(), 1u);
  EXPECT_EQ(table.counts().at("boom"), 5u);
}

TEST(ErrorTableTest, MessagesBeyondTheCapAreCountedUnderTheOverflowEntry) {
  ErrorTable table;
  for (size_t i = 0; i < ErrorTable::kMaxDistinct; ++i) ASSERT_TRUE(table.add("id " + std::to_string(i), 1));
  EXPECT_TRUE(table.add("id new 1", 4));  // the overflow entry is new
  EXPECT_FALSE(table.add("id new 2", 6));
  EXPECT_EQ(table.counts().size(), ErrorTable::kMaxDistinct + 1);
  EXPECT_EQ(table.counts().at(ErrorTable::kOverflowMessage), 10u);
  EXPECT_EQ(table.counts().count("id new 1"), 0u);
}

TEST(ErrorTableTest, MessagesKeptBeforeTheCapStillCountAfterIt) {
  ErrorTable table;
  for (size_t i = 0; i < ErrorTable::kMaxDistinct + 5; ++i) table.add("id " + std::to_string(i), 1);
  EXPECT_FALSE(table.add("id 0", 2));
  EXPECT_EQ(table.counts().at("id 0"), 3u);
  EXPECT_EQ(table.counts().at(ErrorTable::kOverflowMessage), 5u);
}

TEST(ErrorTableTest, TheWorkersOverflowEntryDoesNotTakeAPlaceUnderTheCap) {
  ErrorTable table;
  EXPECT_TRUE(table.add(ErrorTable::kOverflowMessage, 7));
  for (size_t i = 0; i < ErrorTable::kMaxDistinct; ++i) ASSERT_TRUE(table.add("id " + std::to_string(i), 1));
  EXPECT_FALSE(table.add("one too many", 1));
  EXPECT_EQ(table.counts().size(), ErrorTable::kMaxDistinct + 1);
  EXPECT_EQ(table.counts().at(ErrorTable::kOverflowMessage), 8u);
}

TEST(ErrorTableTest, EachMessageKeepsTheTracebackOfItsFirstOccurrence) {
  ErrorTable table;
  table.add("boom", 1, "first traceback");
  table.add("boom", 1, "second traceback");
  EXPECT_EQ(table.traceback("boom"), "first traceback");
  EXPECT_EQ(table.traceback("never seen"), "");
  for (size_t i = 0; i < ErrorTable::kMaxDistinct; ++i) table.add("id " + std::to_string(i), 1, "tb");
  table.add("past the cap", 1, "its traceback");
  EXPECT_EQ(table.traceback("past the cap"), "");
  EXPECT_EQ(table.traceback(ErrorTable::kOverflowMessage), "");
}

}  // namespace
}  // namespace luaload::app
