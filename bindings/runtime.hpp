// SPDX-License-Identifier: MIT
#pragma once

#include <lua.hpp>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bindings/expected_statuses.hpp"
#include "bindings/lua_heap.hpp"
#include "bindings/request_tags.hpp"
#include "bindings/worker_runtime.hpp"
#include "engine/http/client.hpp"
#include "engine/http/sse_parser.hpp"
#include "engine/metrics/registry.hpp"
#include "engine/schedule/vu.hpp"

namespace luaload::engine::net {
class DnsCache;
}
namespace luaload::engine::tls {
class ClientContext;
}

namespace luaload::bindings {

// Names a VU's current coroutine without pointing at it: completions carry this and look the VU up again, so a
// completion that arrives after the VU was interrupted or destroyed finds nothing and is dropped.
struct VuHandle {
  uint64_t key = 0;
  uint64_t generation = 0;
};

struct GroupFrame {
  size_t path_length = 0;  // length of group_path before this group was entered
  int64_t started_ns = 0;
};

// What a yielded VU is waiting for, so that interrupt() can cancel it.
// EventWait: in an ll.event's waiter list (maybe with a timeout on `timer`); EventWake: notified, resumed on a later
// loop turn (event.cpp).
enum class PendingKind { None, Sleep, Http, Abort, StreamWait, TaskWait, EventWait, EventWake };

struct StreamState;  // an http.stream in flight (stream.cpp)
class ProcessRegistry;  // stdio server processes (process.hpp)
struct EventState;   // an ll.event's waiters (event.cpp)

// All per-VU state. Owned by WorkerRuntime::Impl; freed on a later loop turn once its handles are closed.
//
// States: init (running its init code) -> idle <-> running (an iteration or setup/teardown in flight)
//         -> retired (body destroyed or runtime closing: handles closing) -> freed.
struct VuState {
  WorkerRuntime::Impl* owner = nullptr;
  uint64_t key = 0;  // unique within the runtime, never reused
  uint64_t id = 0;   // ll.vu.id; 0 for the setup/teardown VU
  uint64_t generation = 1;
  bool in_init = true;
  bool running = false;
  bool starting = false;  // inside run_iteration(): a finish must be deferred
  bool retired = false;
  bool aborted = false;
  bool once = false;  // the setup/teardown VU: runs one function, then retires
  std::string abort_message;
  std::string once_value;  // setup's JSON, or the error of a failed setup/teardown
  engine::schedule::IterationContext context;
  engine::schedule::VuBody::Done done;

  int env_ref = LUA_NOREF;     // the VU's globals table
  int thread_ref = LUA_NOREF;  // its coroutine, LUA_NOREF between an interrupt and the next iteration
  lua_State* thread = nullptr;
  int data_ref = LUA_NOREF;    // its copy of setup()'s data

  std::string group_path;  // "::outer::inner", "" at top level
  std::vector<GroupFrame> groups;

  PendingKind pending = PendingKind::None;
  uint64_t pending_request = 0;
  engine::metrics::TagSetId pending_tags = 0;  // HTTP: the request's base tag set
  double pending_lag_ms = -1;                  // HTTP: corrected_lag_ms() when it was sent
  std::optional<ExpectedStatuses> pending_expected;  // HTTP: the request's rule (empty: 200-399)
  uv_timer_t* timer = nullptr;  // ll.sleep and ev:wait timeouts, created on first use (timer_for), reused
  std::shared_ptr<EventState> pending_event;  // EventWait: the event whose list holds this coroutine
  std::unique_ptr<engine::http::Client> client;  // created on first request
  int open_handles = 0;

  // ll.spawn (task.cpp). A task is a VuState of its own (key, coroutine, pending operation, timer) that runs on
  // behalf of its root VU: it shares the root's globals and HTTP client, and dies with the root's iteration.
  uint64_t root_key = 0;               // tasks: the VU that spawned them; 0 for a VU
  int task_ref = LUA_NOREF;            // tasks: the script's task object, where the results land
  std::vector<VuHandle> task_waiters;  // tasks: coroutines in task:wait()
  std::vector<uint64_t> tasks;         // VUs: their live tasks
  std::vector<std::shared_ptr<StreamState>> streams;  // VUs: open streams, stopped when the iteration ends
  // VUs: http.set_expected_statuses, the rule of every request of the VU and its tasks that names none; null: the
  // default rule. Allocated when set (rarely, in init code), so a VU without it stays small.
  std::unique_ptr<ExpectedStatuses> expected_default;

  // ll.on_vu_end (vu_end.cpp): VUs only; a task registers on its VU.
  int end_hooks_ref = LUA_NOREF;  // table hook id -> function, created on first registration
  uint64_t next_end_hook = 1;
  size_t end_hook_count = 0;
  bool ending = false;  // its end hooks started (or ran): no iteration and no new hook after this

  VuHandle handle() const { return {key, generation}; }
};

class WorkerRuntime::Impl {
 public:
  Impl(uv_loop_t* loop, int worker_index, RuntimeConfig config);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Opens the Lua state, loads lua/, compiles the script, creates the TLS context and DNS cache.
  bool init(const ScriptSource& script, bool with_network, std::string* error);

  // VUs. new_vu runs the init code; nullptr and *error on a script error.
  VuState* new_vu(uint64_t vu_id, std::string* error);
  void retire(uint64_t key);
  VuState* find(uint64_t key);
  VuState* find(VuHandle handle);

  // Iterations (runner.cpp).
  void run_iteration(VuState& vu, const engine::schedule::IterationContext& context,
                     engine::schedule::VuBody::Done done);
  void interrupt(VuState& vu);
  void run_once(const char* function, const std::string* data_json, bool encode,
                std::function<void(bool ok, std::string value)> done);
  // Resumes the VU's coroutine with the nargs values on top of its stack. Loop thread, never from inside Lua.
  void resume(VuState& vu, int nargs);

  // Resumes the coroutine of `handle` on a later loop turn with `value`, if it still waits for `kind` then.
  void wake_later(VuHandle handle, PendingKind kind, bool value = false);
  // Raises a script error (naming `api`) unless the running coroutine can yield to the runner: not from a C
  // boundary (table.sort comparator, string.gsub callback, require...) nor inside a coroutine resumed from
  // one. Yielding bindings call it before they arm a timer or record a pending operation.
  void require_yieldable(lua_State* L, const char* api);
  // The rule require_yieldable enforces, for bindings that do something else where the VU cannot yield.
  bool can_yield(lua_State* L) const { return lua_isyieldable(L) && blocked_resumes_ == 0; }
  // coroutine.resume/wrap from where the caller cannot yield: +1 while that resume runs (lua/coroutine.lua).
  void add_blocked_resumes(int delta) { blocked_resumes_ += delta; }
  // The VU's reusable timer (ll.sleep, ev:wait timeouts), created on first use; closed when the VU retires.
  uv_timer_t* timer_for(VuState& vu);
  // The VU a task runs for (the VU itself when it is not a task).
  VuState& root_of(VuState& vu);
  // Ids of the stream_* metrics, defined on first use (stream.cpp).
  struct StreamMetrics {
    engine::metrics::MetricId time_to_first_event, events, duration, bytes;
  };
  const StreamMetrics& stream_metrics();
  // The worker's child processes (process_registry.cpp), created on first use; closed by retire() and close().
  ProcessRegistry& processes();

  // End hooks (vu_end.cpp). run_vu_end_hooks: once, when no iteration runs any more; every VU with hooks runs
  // them, concurrently, for at most `timeout_ns`. Returns whether any VU has hooks; `done` runs exactly once on a
  // later loop turn, unless the runtime closes first.
  bool run_vu_end_hooks(int64_t timeout_ns, std::function<void()> done);
  // Whether `vu` has end hooks that have not run.
  bool has_end_hooks(const VuState& vu) const;
  // Runs `vu`'s end hooks (it must not be running); `done` as an iteration's, with the hooks' outcome.
  void end_vu(VuState& vu, engine::schedule::VuBody::Done done);

  // The VU whose coroutine is running Lua right now (nullptr outside any resume/init).
  VuState* current() { return current_; }
  // Raises the init-context error unless the caller runs in a VU iteration, setup or teardown.
  VuState& require_vu(lua_State* L, const char* api);
  // require_vu and require_yieldable, for a binding about to wait: called before it starts anything (a request, a
  // timer, a waiter record), so that a refused wait leaves nothing behind. Also refuses once the VU called
  // ll.abort() where it could not yield, so nothing new starts before the runner ends it.
  VuState& require_waiting_vu(lua_State* L, const char* api);

  // Runs `fn` on a later loop turn.
  void defer(std::function<void()> fn);

  // Tags every sample carries: group, scenario, plus the script's tags (table at index `tags`, or 0).
  engine::metrics::Tags base_tags(const VuState& vu, lua_State* L, int tags);
  // base_tags() interned, for samples (requests, groups, custom metrics). Most carry no tags of their own and run
  // in a scenario without tags: their set comes from the request_tags() cache (keyed by group and scenario) without
  // building a tag list; the others go through base_tags().
  engine::metrics::TagSetId base_tag_set(const VuState& vu, lua_State* L, int tags);

  void record_error(const std::string& text);
  std::vector<WorkerRuntime::ScriptError> take_errors();

  void close(std::function<void()> on_closed);

  lua_State* L() { return L_; }
  LuaHeap& heap() { return heap_; }
  // The error an iteration or init code ended with, as reported: the memory limit's message when the heap refused
  // an allocation (LuaJIT says only "not enough memory"), else `message` itself.
  std::string reported_error(const std::string& message) const;
  // After a Lua run that hit the memory limit: collects the garbage it left so that the next run has room.
  void recover_heap();
  uv_loop_t* loop() { return loop_; }
  const RuntimeConfig& config() const { return config_; }
  engine::metrics::Registry& registry() { return registry_; }
  RequestTags& request_tags() { return request_tags_; }
  // One Request reused by every http.* call on this worker (filled, sent, done with before the VU yields), so
  // that building a request reuses string capacity instead of allocating.
  engine::http::Request& request_scratch() { return request_scratch_; }
  engine::http::Client& client_for(VuState& vu);
  void set_setup_data(std::string json) { setup_json_ = std::move(json); }
  bool has_function(VuState& vu, const char* name);
  const std::string& script_path() const { return script_path_; }
  // Expires when this Impl is destroyed; VU bodies hold it so that they never call into a dead runtime.
  std::weak_ptr<int> alive_token() const { return alive_; }

  // Registry refs of things lua/ provides, filled by open_state().
  struct LuaRefs {
    int chunk = LUA_NOREF;
    int env_mt = LUA_NOREF;
    int iterations = LUA_NOREF;
    int once = LUA_NOREF;
    int decode_data = LUA_NOREF;
    int response_json = LUA_NOREF;
    int headers_mt = LUA_NOREF;
    int response_mt = LUA_NOREF;  // luaload.Response's metatable
    int options_json = LUA_NOREF;
    int task = LUA_NOREF;
    int end_hooks = LUA_NOREF;
  } refs;

 private:
  bool start_coroutine(VuState& vu, int driver_ref, const char* function, bool encode);
  bool ensure_data(VuState& vu, const std::string& json);
  void drop_coroutine(VuState& vu);
  void cancel_pending(VuState& vu);
  void on_yield(VuState& vu);
  void on_done_marker(VuState& vu);
  void finish(VuState& vu, engine::schedule::IterationOutcome outcome, bool later);
  void close_vu_handles(VuState& vu);
  void release(VuState& vu);
  void maybe_free(uint64_t key);
  void check_closed();
  // vu_end.cpp
  void start_end_hooks(VuState& vu, engine::schedule::VuBody::Done done);
  void on_vu_ended(uint64_t key);
  void on_end_timeout();
  void close_end_timer();
  // task.cpp
  void on_task_resumed(VuState& task, int status);
  void finish_task(VuState& task, bool ok);
  void on_task_retired(VuState& task);
  void abort_from_task(VuState& task);
  // Stops the VU's open streams and interrupts its tasks: the end of an iteration (or of the VU).
  void end_background_work(VuState& vu);
  void stop_streams(VuState& vu);  // stream.cpp

 public:
  // A task of `root`, spawned by `caller` (the root or another of its tasks), with its coroutine created.
  VuState* new_task(VuState& root, const VuState& caller);

 private:
  static void on_idle_cb(uv_idle_t* idle);
  static void on_timer_closed_cb(uv_handle_t* handle);

  uv_loop_t* loop_;
  int worker_index_;
  RuntimeConfig config_;
  LuaHeap heap_{config_.lua_memory_limit};  // declared before L_: the state allocates from it until lua_close
  lua_State* L_ = nullptr;
  engine::metrics::Registry registry_;
  RequestTags request_tags_{registry_};
  std::unique_ptr<engine::tls::ClientContext> tls_;
  std::unique_ptr<engine::net::DnsCache> dns_;
  std::vector<char> read_buffer_;
  engine::http::Request request_scratch_;
  std::string setup_json_ = "null";
  std::string script_path_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::optional<StreamMetrics> stream_metrics_;
  std::unique_ptr<ProcessRegistry> processes_;
  bool processes_open_ = false;  // close(): waiting for the processes to be reaped

  std::unordered_map<uint64_t, std::unique_ptr<VuState>> vus_;
  uint64_t next_key_ = 1;
  VuState* current_ = nullptr;
  int blocked_resumes_ = 0;

  uv_idle_t idle_{};
  bool idle_open_ = false;
  bool idle_closing_ = false;
  bool dns_open_ = false;
  std::vector<std::function<void()>> deferred_;

  // The worker's end-hook phase (vu_end.cpp): VUs whose hooks have not ended, its timer and its `done`.
  bool end_phase_started_ = false;
  std::vector<uint64_t> end_waiting_;
  uv_timer_t* end_timer_ = nullptr;  // freed in its close callback
  int64_t end_timeout_ns_ = 0;
  bool end_timer_closing_ = false;
  std::function<void()> end_done_;

  std::vector<WorkerRuntime::ScriptError> errors_;
  std::unordered_map<std::string, size_t> error_index_;

  bool closing_ = false;
  std::function<void()> on_closed_;
};

// The start lag that requests of this iteration add for http_req_duration_corrected; negative in the closed model
// (and in setup/teardown), where there is no schedule to be late against and the metric is not recorded.
inline double corrected_lag_ms(const engine::schedule::IterationContext& context) {
  using engine::schedule::Executor;
  const bool open_model = context.config != nullptr && (context.config->executor == Executor::ConstantArrivalRate ||
                                                        context.config->executor == Executor::RampingArrivalRate);
  return open_model ? static_cast<double>(context.start_lag_ns) / 1e6 : -1.0;
}

// Lua state setup (lua_state.cpp): standard libraries, cjson, the embedded lua/ modules and the C++ functions of
// every module (`core`). Fills impl.refs.
bool open_state(WorkerRuntime::Impl& impl, std::string* error);

// Each adds its C functions to the table on top of the stack, with impl as upvalue 1.
void open_ll(lua_State* L, WorkerRuntime::Impl* impl);
void open_http(lua_State* L, WorkerRuntime::Impl* impl);
void open_response(lua_State* L, WorkerRuntime::Impl* impl);
void open_stream(lua_State* L, WorkerRuntime::Impl* impl);  // core.http_stream, core.stream_*
void open_task(lua_State* L, WorkerRuntime::Impl* impl);    // core.spawn, core.task_wait
void open_event(lua_State* L, WorkerRuntime::Impl* impl);   // core.event_new, luaload.Event
void open_shared(lua_State* L, WorkerRuntime::Impl* impl);  // core.shared_get, core.shared_set
void open_vu_end(lua_State* L, WorkerRuntime::Impl* impl);  // core.on_vu_end, core.vu_end_cancel
// Takes a coroutine waiting in ev:wait off its event's list (cancel and timeout paths; event.cpp).
void forget_event_wait(VuState& vu);
// Pushes the C function lua/coroutine.lua calls around resumes it makes from a non-yieldable context (runner.cpp).
void push_resume_guard(lua_State* L, WorkerRuntime::Impl* impl);

// Shared by http.cpp and stream.cpp: the request from core.http_request's argument layout (api, method, url, body,
// headers, timeout, redirects, tags, expected_statuses), the expected-statuses rule of a request (the list at
// `index`, else the VU's default, else none), and the samples of one finished exchange judged by `expected`.
void read_http_request(lua_State* L, const char* api, const RuntimeConfig& config, engine::http::Request* out);
void read_request_expected(lua_State* L, int index, WorkerRuntime::Impl& impl, VuState& vu,
                           std::optional<ExpectedStatuses>* out);
void record_http_exchange(WorkerRuntime::Impl& impl, const engine::http::Exchange& exchange,
                          engine::metrics::TagSetId base, double lag_ms,
                          const std::optional<ExpectedStatuses>& expected);
// A headers table as res.headers has it (case-insensitive lookup, repeated headers joined with ", ").
void push_header_table(lua_State* L, WorkerRuntime::Impl& impl, const engine::http::ResponseHeaders& headers);

// The sentinel every engine-yielding binding yields first, and the one the VU driver yields between iterations.
void* engine_yield_sentinel();
void* iteration_done_sentinel();

// The Impl stored as upvalue 1 of a binding.
inline WorkerRuntime::Impl& impl_of(lua_State* L) {
  return *static_cast<WorkerRuntime::Impl*>(lua_touserdata(L, lua_upvalueindex(1)));
}

// The `luaload.sse` module table, pushed on the stack (sse.cpp); SSE events as Lua tables.
void open_sse(lua_State* L);
// The `luaload.process` module table, pushed on the stack (process.cpp): child processes for the stdio transport.
void open_process(lua_State* L, WorkerRuntime::Impl* impl);
void push_sse_event(lua_State* L, const engine::http::SseEvent& event);
void push_sse_events(lua_State* L, const std::vector<engine::http::SseEvent>& events);

// Pushes a luaload.Response holding a copy of `response` (response.cpp).
void push_response(lua_State* L, WorkerRuntime::Impl& impl, const engine::http::Response& response);

}  // namespace luaload::bindings
