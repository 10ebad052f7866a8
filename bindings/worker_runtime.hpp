// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bindings/shared_store.hpp"
#include "engine/metrics/registry.hpp"
#include "engine/schedule/vu.hpp"

namespace luaload::bindings {

struct ScriptSource {
  std::string path;  // as given on the command line; used in error messages (file:line)
  std::string code;
};

struct RuntimeConfig {
  std::map<std::string, std::string> env;  // -e KEY=VALUE; ll.env falls back to the process environment
  bool insecure_skip_tls_verify = false;
  std::string ca_file;                     // extra CA (PEM) besides the system store; empty for none
  int max_redirects = 10;
  std::string user_agent = "luaload/0.1";
  // ll.shared: copies of a config share one store, so every worker started from the run's config sees the same.
  std::shared_ptr<SharedStore> shared = std::make_shared<SharedStore>();
  // The most bytes this worker's Lua state may hold (--max-lua-memory); 0 for no limit. Past it the running
  // iteration (or init code) fails with "Lua memory limit of N MB reached in worker W".
  size_t lua_memory_limit = 0;
};

// Everything Lua on one worker: its lua_State (script compiled once), its VUs (one coroutine each, own globals),
// the per-worker DNS cache, TLS context and metric registry.
//
// Threading: construct, use and destroy on the worker's loop thread only.
// Lifecycle: create() -> create_vu()* / run_setup() / run_teardown() -> close(on_closed) -> destroy after on_closed.
class WorkerRuntime : public engine::schedule::VuFactory {
 public:
  // nullptr with *error set (message with file:line) if the script does not compile or the config is unusable.
  static std::unique_ptr<WorkerRuntime> create(uv_loop_t* loop, int worker_index, const ScriptSource& script,
                                               const RuntimeConfig& config, std::string* error);
  ~WorkerRuntime() override;

  // Runs the script's init code in a new VU (its own globals). Script errors -> nullptr, *error with traceback.
  std::unique_ptr<engine::schedule::VuBody> create_vu(uint64_t vu_id, std::string* error) override;
  // The same for a VU whose iterations call the global function `exec` (a scenario's exec) instead of default.
  std::unique_ptr<engine::schedule::VuBody> create_vu_for(uint64_t vu_id, const std::string& exec,
                                                          std::string* error) override;

  // Runs setup() (if defined) in a VU of its own; `done` gets the JSON of its result ("null" when there is no setup
  // or it returned nothing), or an error message with traceback. Exactly once, on the loop.
  void run_setup(std::function<void(std::optional<std::string> json, std::string error)> done);
  // Runs teardown(data) (if defined) the same way.
  void run_teardown(const std::string& setup_json, std::function<void(std::string error)> done);

  // Runs the end hooks (ll.on_vu_end) of every VU, concurrently, once no iteration runs any more (the scheduler
  // finished); those still running after `timeout_ns` are interrupted. Returns whether any VU has hooks. `done`
  // runs exactly once, on a later loop turn, unless the runtime closes first. Once per runtime.
  bool run_vu_end_hooks(int64_t timeout_ns, std::function<void()> done);

  // setup()'s result as JSON; every VU decodes its own copy before its first iteration. Call before iterations run.
  void set_setup_data(std::string json);

  engine::metrics::Registry& registry();

  // Errors raised inside iterations since the previous call, grouped by message (first line); the main thread
  // prints each distinct one once, with its traceback, and the counts at the end.
  struct ScriptError {
    std::string message;    // first line, e.g. "script.lua:12: attempt to index a nil value"
    std::string traceback;  // of the first occurrence
    uint64_t count = 0;
  };
  std::vector<ScriptError> take_script_errors();

  // Closes every VU's connections and timers; on_closed runs when all handles are closed.
  void close(std::function<void()> on_closed);

  class Impl;

 private:
  explicit WorkerRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What the init code left behind, besides the options.
struct ScriptFacts {
  // Every metric known once the init code ran: the builtins, the custom metrics the init code (and the modules it
  // requires) defined, and the stream metrics (defined on a stream's first use).
  std::vector<engine::metrics::MetricDef> metrics;
  // The script's global functions (what a scenario's exec may name).
  std::set<std::string> functions;
};

// Main thread, before any worker starts: compiles the script in a throw-away Lua state, runs its init code once
// and returns the global `options` converted to JSON ("{}" when absent). nullopt with *error (file:line and
// traceback) on a syntax or init error. Network calls are refused there like in any init code. `facts`, when
// given, receives what else the run checks before it starts, so that the init code runs only once for them.
//
// `stop_requested`, when given, is asked every few thousand Lua instructions (the throw-away state runs with the JIT
// off, since compiled loops skip hooks): once it says true, the init code is stopped with an error ending in
// kInitInterruptedMessage, so a Ctrl-C ends even an endless loop there.
inline constexpr const char* kInitInterruptedMessage = "interrupted (Ctrl-C) while the init code ran";
std::optional<std::string> read_script_options(const ScriptSource& script, const RuntimeConfig& config,
                                               std::string* error, ScriptFacts* facts = nullptr,
                                               std::function<bool()> stop_requested = {});

}  // namespace luaload::bindings
