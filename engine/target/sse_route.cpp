// SPDX-License-Identifier: MIT
// /sse?events=N&interval=D: N server-sent events, D apart, for the streaming client tests.
#include <charconv>
#include <string>

#include "engine/core/duration.hpp"
#include "engine/target/http_util.hpp"
#include "engine/target/routes.hpp"

namespace luaload::engine::target::routes {
namespace {

constexpr int kMaxEvents = 1'000'000;
constexpr int kDefaultEvents = 10;
constexpr int64_t kDefaultIntervalNs = 100'000'000;

void send_events(Responder& res, int next, int total, uint64_t interval_ms) {
  std::string n = std::to_string(next);
  res.stream_write("id: " + n + "\nevent: tick\ndata: {\"n\":" + n + ",\"total\":" + std::to_string(total) + "}\n\n");
  if (next + 1 >= total) return res.end_stream();
  res.after(interval_ms, [&res, next, total, interval_ms] { send_events(res, next + 1, total, interval_ms); });
}

}  // namespace

void sse(const Request& req, Responder& res, ServerState&) {
  if (req.method != "GET") return method_not_allowed(res, "GET");
  int events = kDefaultEvents;
  if (auto text = form_param(req.query(), "events")) {
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), events);
    if (ec != std::errc() || ptr != text->data() + text->size() || events < 0 || events > kMaxEvents) {
      return respond_json(res, 400, R"({"error":"events must be a number from 0 to 1000000"})");
    }
  }
  int64_t interval_ns = kDefaultIntervalNs;
  if (auto text = form_param(req.query(), "interval")) {
    auto parsed = core::parse_duration(*text);
    if (!parsed) return respond_json(res, 400, R"({"error":"interval must be a duration such as 100ms"})");
    interval_ns = *parsed;
  }
  res.begin_stream(200, "text/event-stream");
  if (events == 0) return res.end_stream();
  send_events(res, 0, events, static_cast<uint64_t>(interval_ns / 1'000'000));
}

}  // namespace luaload::engine::target::routes
