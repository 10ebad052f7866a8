// SPDX-License-Identifier: MIT
// require("luaload.sse"): the script-level SSE parser.
#include <gtest/gtest.h>

#include "bindings/runtime_fixture.hpp"

namespace luaload::bindings::test {
namespace {

TEST_F(RuntimeTest, SseParserFeedReturnsTheEventsEachChunkCompletes) {
  load(R"(
    local sse = require("luaload.sse")
    local function expect(got, want, what)
      if got ~= want then error(what .. ": got " .. tostring(got) .. ", want " .. tostring(want), 2) end
    end
    function default()
      local p = sse.parser()
      local first = p:feed("event: progress\ndata: {\"a\":\nid: 4")
      expect(#first, 0, "events before the blank line")
      local events = p:feed("2\ndata: 1}\r")
      expect(#events, 0, "events before the blank line")
      events = p:feed("\n\r\ndata: two\nretry: 300\n\n")
      expect(#events, 2, "events")
      expect(events[1].event, "progress", "event")
      expect(events[1].data, "{\"a\":\n1}", "data")
      expect(events[1].id, "42", "id")
      expect(events[1].retry, nil, "retry")
      expect(events[2].event, "message", "default event")
      expect(events[2].data, "two", "data 2")
      expect(events[2].id, "42", "id persists")
      expect(events[2].retry, 300, "retry")
      expect(p:last_event_id(), "42", "last_event_id")
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  EXPECT_TRUE(runtime_->take_script_errors().empty());
}

TEST_F(RuntimeTest, SseParserSkipsEmptyDataBlocksUnlessAskedToReportThem) {
  load(R"(
    local sse = require("luaload.sse")
    function default()
      local plain = sse.parser()
      if #plain:feed("id: 1\n\n") ~= 0 or plain:skipped() ~= 1 then error("empty block dispatched") end
      local reporting = sse.parser({ report_empty = true })
      local events = reporting:feed("id: 1\n\n")
      if #events ~= 1 or events[1].empty ~= true or events[1].data ~= "" then error("empty block not reported") end
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  EXPECT_TRUE(runtime_->take_script_errors().empty());
}

TEST_F(RuntimeTest, SseParserRaisesAClearErrorWhenAnEventExceedsItsLimit) {
  load(R"(
    local sse = require("luaload.sse")
    function default()
      sse.parser({ max_event_bytes = 8 }):feed("data: 0123456789\n\n")
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Failed);
  auto errors = runtime_->take_script_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "script.lua:4: sse parser: server-sent event exceeds 8 bytes");
}

}  // namespace
}  // namespace luaload::bindings::test
