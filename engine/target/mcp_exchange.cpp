// SPDX-License-Identifier: MIT
#include "engine/target/mcp_exchange.hpp"

#include <vector>

namespace luaload::engine::target::mcp {
namespace {

using json = nlohmann::json;

// One exchange in progress. Kept alive by the callbacks the sink holds; when the transport drops them (the client
// went away), the run ends with them.
class Run : public std::enable_shared_from_this<Run> {
 public:
  Run(Server& server, std::shared_ptr<Sink> sink, Reply reply)
      : server_(server), sink_(std::move(sink)), reply_(std::move(reply)) {}

  void step() {
    while (next_ < reply_.steps.size()) {
      Step& s = reply_.steps[next_++];
      switch (s.kind) {
        case Step::Kind::Send:
          sink_->send(s.message);
          break;
        case Step::Kind::Wait:
          sink_->after(s.delay_ms, [self = shared_from_this()] { self->step(); });
          return;
        case Step::Kind::Ask:
          return ask(s);
        case Step::Kind::Suspend:
          if (suspend()) return;
          break;
        case Step::Kind::Listen:
          return start_listen(std::move(s.message));
      }
    }
    if (reply_.response.is_null()) return sink_->finish();
    sink_->respond(reply_.response, reply_.http_status);
  }

 private:
  void ask(Step& s) {
    json id = sink_->next_request_id();
    json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", s.message.value("method", "")}};
    if (s.message.contains("params")) request["params"] = s.message["params"];
    Resume resume = std::move(s.resume);
    sink_->send(request);
    sink_->await_answer(id, [self = shared_from_this(), resume = std::move(resume)](const json& answer) {
      self->reply_ = resume(answer);
      self->next_ = 0;
      self->step();
    });
  }

  bool suspend() {
    Reply rest;
    auto tail = reply_.steps.begin() + static_cast<ptrdiff_t>(next_);
    rest.steps.assign(std::make_move_iterator(tail), std::make_move_iterator(reply_.steps.end()));
    reply_.steps.erase(tail, reply_.steps.end());
    rest.response = reply_.response;
    rest.http_status = reply_.http_status;
    if (sink_->suspend(rest)) return true;
    // Declined (the transport cannot resume streams): carry on here with the steps put back.
    for (Step& s : rest.steps) reply_.steps.push_back(std::move(s));
    return false;
  }

  void start_listen(json listen) {
    listen_ = std::move(listen);
    seen_ = server_.changes.latest();
    idle_ms_ = 0;
    open_ms_ = 0;
    poll();
  }

  void poll() {
    sink_->after(kListenPollMs, [self = shared_from_this()] { self->on_poll(); });
  }

  void on_poll() {
    open_ms_ += kListenPollMs;
    idle_ms_ += kListenPollMs;
    std::vector<ChangeEvent> events;
    seen_ = server_.changes.since(seen_, &events);
    for (const ChangeEvent& event : events) {
      json note = listen_notification(listen_, event);
      if (note.is_null()) continue;
      sink_->send(note);
      idle_ms_ = 0;
    }
    if (server_.listen_timeout_ms > 0 && open_ms_ >= static_cast<uint64_t>(server_.listen_timeout_ms)) {
      return sink_->respond(listen_closed(listen_), 200);
    }
    if (server_.heartbeat_ms > 0 && idle_ms_ >= static_cast<uint64_t>(server_.heartbeat_ms)) {
      sink_->heartbeat();
      idle_ms_ = 0;
    }
    poll();
  }

  Server& server_;
  std::shared_ptr<Sink> sink_;
  Reply reply_;
  size_t next_ = 0;
  json listen_;
  uint64_t seen_ = 0;
  uint64_t idle_ms_ = 0;
  uint64_t open_ms_ = 0;
};

}  // namespace

void run(Server& server, std::shared_ptr<Sink> sink, Reply reply) {
  std::make_shared<Run>(server, std::move(sink), std::move(reply))->step();
}

}  // namespace luaload::engine::target::mcp
