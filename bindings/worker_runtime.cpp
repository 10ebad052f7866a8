// SPDX-License-Identifier: MIT
// WorkerRuntime's public face: VU bodies for the scheduler, setup/teardown, options reading.
#include "bindings/worker_runtime.hpp"

#include <utility>

#include "bindings/runtime.hpp"
#include "engine/core/assert.hpp"

namespace luaload::bindings {

namespace {

using engine::schedule::IterationContext;
using engine::schedule::VuBody;

// The scheduler's view of one Lua VU. It names the VU by key; destroying it retires the VU (pending operations
// cancelled, its handles closed). `alive` expires when the runtime is destroyed, so a body that outlives it is
// inert instead of dangling.
class LuaVuBody final : public VuBody {
 public:
  LuaVuBody(WorkerRuntime::Impl* impl, std::weak_ptr<int> alive, uint64_t key)
      : impl_(impl), alive_(std::move(alive)), key_(key) {}
  ~LuaVuBody() override {
    if (!alive_.expired()) {
      impl_->retire(key_);
    }
  }

  void run_iteration(const IterationContext& context, Done done) override {
    VuState* vu = state();
    LUALOAD_CHECK(vu != nullptr, "run_iteration on a VU whose runtime is closed");
    impl_->run_iteration(*vu, context, std::move(done));
  }

  void interrupt() override {
    if (VuState* vu = state()) {
      impl_->interrupt(*vu);
    }
  }

  std::string abort_message() const override {
    const VuState* vu = alive_.expired() ? nullptr : impl_->find(key_);
    return vu != nullptr ? vu->abort_message : std::string();
  }

 private:
  VuState* state() {
    if (alive_.expired()) {
      return nullptr;
    }
    VuState* vu = impl_->find(key_);
    return vu != nullptr && !vu->retired ? vu : nullptr;
  }

  WorkerRuntime::Impl* impl_;
  std::weak_ptr<int> alive_;
  uint64_t key_;
};

}  // namespace

WorkerRuntime::WorkerRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WorkerRuntime::~WorkerRuntime() = default;

std::unique_ptr<WorkerRuntime> WorkerRuntime::create(uv_loop_t* loop, int worker_index, const ScriptSource& script,
                                                     const RuntimeConfig& config, std::string* error) {
  auto impl = std::make_unique<Impl>(loop, worker_index, config);
  if (!impl->init(script, true, error)) {
    return nullptr;
  }
  return std::unique_ptr<WorkerRuntime>(new WorkerRuntime(std::move(impl)));
}

std::unique_ptr<engine::schedule::VuBody> WorkerRuntime::create_vu(uint64_t vu_id, std::string* error) {
  return create_vu_for(vu_id, "default", error);
}

std::unique_ptr<engine::schedule::VuBody> WorkerRuntime::create_vu_for(uint64_t vu_id, const std::string& exec,
                                                                       std::string* error) {
  VuState* vu = impl_->new_vu(vu_id, error);
  if (vu == nullptr) {
    return nullptr;
  }
  if (!impl_->has_function(*vu, exec.c_str())) {
    *error = exec == "default" ? impl_->script_path() + ": the script defines no default function"
                               : impl_->script_path() + ": the script defines no function \"" + exec + "\" (a scenario's exec)";
    impl_->retire(vu->key);
    return nullptr;
  }
  return std::make_unique<LuaVuBody>(impl_.get(), impl_->alive_token(), vu->key);
}

void WorkerRuntime::run_setup(std::function<void(std::optional<std::string> json, std::string error)> done) {
  impl_->run_once("setup", nullptr, true, [done = std::move(done)](bool ok, std::string value) {
    if (ok) {
      done(std::move(value), std::string());
    } else {
      done(std::nullopt, std::move(value));
    }
  });
}

void WorkerRuntime::run_teardown(const std::string& setup_json, std::function<void(std::string error)> done) {
  impl_->run_once("teardown", &setup_json, false, [done = std::move(done)](bool ok, std::string value) {
    done(ok ? std::string() : std::move(value));
  });
}

void WorkerRuntime::set_setup_data(std::string json) { impl_->set_setup_data(std::move(json)); }

bool WorkerRuntime::run_vu_end_hooks(int64_t timeout_ns, std::function<void()> done) {
  return impl_->run_vu_end_hooks(timeout_ns, std::move(done));
}

engine::metrics::Registry& WorkerRuntime::registry() { return impl_->registry(); }

std::vector<WorkerRuntime::ScriptError> WorkerRuntime::take_script_errors() { return impl_->take_errors(); }

void WorkerRuntime::close(std::function<void()> on_closed) { impl_->close(std::move(on_closed)); }

namespace {

// The init VU's global `options` as JSON; nullopt with *error when it cannot be encoded.
std::optional<std::string> options_json(WorkerRuntime::Impl& impl, VuState& vu, std::string* error) {
  lua_State* L = impl.L();
  lua_rawgeti(L, LUA_REGISTRYINDEX, impl.refs.options_json);
  lua_rawgeti(L, LUA_REGISTRYINDEX, vu.env_ref);
  lua_getfield(L, -1, "options");
  lua_remove(L, -2);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 2);
    return "{}";
  }
  if (lua_pcall(L, 1, 1, 0) != 0) {
    *error = std::string("options cannot be converted to JSON: ") + lua_tostring(L, -1);
    lua_pop(L, 1);
    return std::nullopt;
  }
  std::string json = lua_tostring(L, -1);
  lua_pop(L, 1);
  return json;
}

// The init VU's global functions: string keys of its environment whose value is a function.
std::set<std::string> global_functions(WorkerRuntime::Impl& impl, VuState& vu) {
  lua_State* L = impl.L();
  std::set<std::string> names;
  lua_rawgeti(L, LUA_REGISTRYINDEX, vu.env_ref);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    // lua_tostring only on string keys: converting a key in place would confuse lua_next.
    if (lua_type(L, -2) == LUA_TSTRING && lua_isfunction(L, -1)) names.insert(lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return names;
}

// Hooks take no user data, and read_script_options runs once at a time per thread: a thread_local will do.
thread_local const std::function<bool()>* t_stop_requested = nullptr;

void stop_hook(lua_State* L, lua_Debug*) {
  if (t_stop_requested != nullptr && (*t_stop_requested)()) luaL_error(L, "%s", kInitInterruptedMessage);
}

constexpr int kStopCheckInstructions = 4096;

}  // namespace

std::optional<std::string> read_script_options(const ScriptSource& script, const RuntimeConfig& config,
                                               std::string* error, ScriptFacts* facts,
                                               std::function<bool()> stop_requested) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::optional<std::string> result;
  // The throw-away run of the init code gets a store of its own: what it sets must not reach the run.
  RuntimeConfig own_config = config;
  own_config.shared = std::make_shared<SharedStore>();
  {
    WorkerRuntime::Impl impl(&loop, -1, own_config);
    if (impl.init(script, false, error)) {
      if (stop_requested) {
        luaJIT_setmode(impl.L(), 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
        t_stop_requested = &stop_requested;
        lua_sethook(impl.L(), stop_hook, LUA_MASKCOUNT, kStopCheckInstructions);
      }
      VuState* vu = impl.new_vu(0, error);
      if (stop_requested) {
        lua_sethook(impl.L(), nullptr, 0, 0);
        t_stop_requested = nullptr;
      }
      if (vu != nullptr) {
        result = options_json(impl, *vu, error);
        if (result && facts) {
          impl.stream_metrics();
          facts->metrics = impl.registry().take_delta().definitions;
          facts->functions = global_functions(impl, *vu);
        }
      }
    }
    impl.close([] {});
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  const int rc = uv_loop_close(&loop);
  LUALOAD_CHECK(rc == 0, "read_script_options left a handle open");
  return result;
}

}  // namespace luaload::bindings
