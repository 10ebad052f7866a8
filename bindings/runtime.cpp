// SPDX-License-Identifier: MIT
// WorkerRuntime::Impl: the Lua state, the VU table, deferred calls, script errors and shutdown. The coroutine
// runner is in runner.cpp.
#include "bindings/runtime.hpp"

#include <algorithm>
#include <utility>

#include "bindings/process.hpp"
#include "engine/core/assert.hpp"
#include "engine/net/dns_cache.hpp"
#include "engine/tls/client_context.hpp"

namespace luaload::bindings {

namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;
// As many as the run's table keeps (app/error_table.hpp): one busy second must not cut what the report shows.
constexpr size_t kMaxDistinctErrors = 1000;
constexpr size_t kMaxErrorMessageBytes = 1000;
constexpr size_t kMaxErrorTracebackBytes = 4000;

// Message handler for init code: the error with a traceback of the script's frames.
int traceback_cb(lua_State* L) {
  const char* message = lua_tostring(L, 1);
  luaL_traceback(L, L, message != nullptr ? message : "(error object is not a string)", 1);
  return 1;
}

}  // namespace

WorkerRuntime::Impl::Impl(uv_loop_t* loop, int worker_index, RuntimeConfig config)
    : loop_(loop), worker_index_(worker_index), config_(std::move(config)), read_buffer_(kReadBufferBytes) {}

WorkerRuntime::Impl::~Impl() {
  LUALOAD_CHECK(!idle_open_, "WorkerRuntime destroyed before close() completed");
  vus_.clear();
  if (L_ != nullptr) {
    lua_close(L_);
  }
}

bool WorkerRuntime::Impl::init(const ScriptSource& script, bool with_network, std::string* error) {
  script_path_ = script.path;
  L_ = lua_newstate(&LuaHeap::allocate, &heap_);
  if (L_ == nullptr) {
    *error = "cannot create a Lua state (out of memory)";
    return false;
  }
  if (!open_state(*this, error)) {
    return false;
  }
  const std::string chunkname = "@" + script.path;
  if (luaL_loadbuffer(L_, script.code.data(), script.code.size(), chunkname.c_str()) != 0) {
    *error = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    return false;
  }
  refs.chunk = luaL_ref(L_, LUA_REGISTRYINDEX);
  if (!with_network) {
    return true;
  }
  engine::tls::ClientOptions tls_options;
  tls_options.verify_peer = !config_.insecure_skip_tls_verify;
  tls_options.ca_file = config_.ca_file;
  tls_ = engine::tls::ClientContext::create(tls_options, error);
  if (tls_ == nullptr) {
    return false;
  }
  dns_ = std::make_unique<engine::net::DnsCache>(loop_);
  return true;
}

VuState* WorkerRuntime::Impl::new_vu(uint64_t vu_id, std::string* error) {
  auto vu = std::make_unique<VuState>();
  vu->owner = this;
  vu->key = next_key_++;
  vu->id = vu_id;

  // The VU's globals: its own table, falling back to the shared _G (libraries, modules).
  lua_pushcfunction(L_, traceback_cb);
  lua_newtable(L_);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, refs.env_mt);
  lua_setmetatable(L_, -2);
  lua_pushvalue(L_, -1);
  vu->env_ref = luaL_ref(L_, LUA_REGISTRYINDEX);

  // One compiled chunk for all VUs: closures it creates inherit the environment it runs with, so this VU's
  // functions and top-level locals are its own while the bytecode is shared.
  lua_rawgeti(L_, LUA_REGISTRYINDEX, refs.chunk);
  lua_insert(L_, -2);
  lua_setfenv(L_, -2);
  VuState* previous = current_;
  current_ = vu.get();
  int status = 0;
  {
    LuaHeap::Enforce enforce(heap_);
    status = lua_pcall(L_, 0, 0, -2);
  }
  current_ = previous;
  if (status != 0) {
    *error = reported_error(lua_isstring(L_, -1) ? lua_tostring(L_, -1) : "init code raised a non-string error");
    lua_pop(L_, 2);
    luaL_unref(L_, LUA_REGISTRYINDEX, vu->env_ref);
    luaL_unref(L_, LUA_REGISTRYINDEX, vu->end_hooks_ref);
    recover_heap();
    return nullptr;
  }
  lua_pop(L_, 1);
  vu->in_init = false;
  VuState* raw = vu.get();
  vus_.emplace(raw->key, std::move(vu));
  return raw;
}

bool WorkerRuntime::Impl::has_function(VuState& vu, const char* name) {
  lua_rawgeti(L_, LUA_REGISTRYINDEX, vu.env_ref);
  lua_getfield(L_, -1, name);
  const bool is_function = lua_isfunction(L_, -1);
  lua_pop(L_, 2);
  return is_function;
}

VuState* WorkerRuntime::Impl::find(uint64_t key) {
  auto it = vus_.find(key);
  return it == vus_.end() ? nullptr : it->second.get();
}

VuState* WorkerRuntime::Impl::find(VuHandle handle) {
  VuState* vu = find(handle.key);
  if (vu == nullptr || vu->retired || vu->generation != handle.generation) {
    return nullptr;
  }
  return vu;
}

VuState& WorkerRuntime::Impl::require_vu(lua_State* L, const char* api) {
  if (current_ == nullptr || current_->in_init) {
    luaL_error(L, "%s cannot be called in the init context (top-level code); call it from default(), setup() or "
               "teardown()", api);
  }
  // luaL_error does not return.
  return *current_;
}

std::string WorkerRuntime::Impl::reported_error(const std::string& message) const {
  // The limit's message first (the report's line), then LuaJIT's with its traceback.
  return heap_.limit_hit() ? heap_.limit_message(worker_index_) + "\n" + message : message;
}

void WorkerRuntime::Impl::recover_heap() {
  if (!heap_.limit_hit()) return;
  lua_gc(L_, LUA_GCCOLLECT, 0);
  heap_.recover();
}

VuState& WorkerRuntime::Impl::require_waiting_vu(lua_State* L, const char* api) {
  VuState& vu = require_vu(L, api);
  require_yieldable(L, api);
  if (vu.aborted || root_of(vu).aborted) {
    luaL_error(L, "%s: the test was aborted (ll.abort)", api);
  }
  return vu;
}

engine::http::Client& WorkerRuntime::Impl::client_for(VuState& task_or_vu) {
  VuState& vu = root_of(task_or_vu);  // a task uses its VU's connections
  if (vu.client == nullptr) {
    engine::http::ClientEnvironment env;
    env.loop = loop_;
    env.dns = dns_.get();
    env.tls = tls_.get();
    env.read_buffer = &read_buffer_;
    vu.client = std::make_unique<engine::http::Client>(env);
  }
  return *vu.client;
}

engine::metrics::Tags WorkerRuntime::Impl::base_tags(const VuState& vu, lua_State* L, int tags) {
  engine::metrics::Tags result;
  if (tags != 0 && lua_istable(L, tags)) {
    lua_pushnil(L);
    while (lua_next(L, tags) != 0) {
      // Only string/number keys and values make tags; lua_tolstring would convert a number key in place and
      // confuse lua_next, so the key is copied first.
      lua_pushvalue(L, -2);
      if (lua_isstring(L, -1) && lua_isstring(L, -2)) {
        result.emplace_back(lua_tostring(L, -1), lua_tostring(L, -2));
      }
      lua_pop(L, 2);
    }
  }
  auto add_default = [&result](const char* key, const std::string& value) {
    auto same = [key](const engine::metrics::Tag& t) { return t.first == key; };
    if (std::none_of(result.begin(), result.end(), same)) {
      result.emplace_back(key, value);
    }
  };
  add_default("group", vu.group_path);
  if (!vu.context.scenario.empty()) {
    add_default("scenario", vu.context.scenario);
  }
  if (vu.context.config) {
    for (const auto& [key, value] : vu.context.config->tags) add_default(key.c_str(), value);
  }
  return result;
}

engine::metrics::TagSetId WorkerRuntime::Impl::base_tag_set(const VuState& vu, lua_State* L, int tags) {
  const bool own_tags = tags != 0 && lua_istable(L, tags);
  const bool scenario_tags = vu.context.config && !vu.context.config->tags.empty();
  if (own_tags || scenario_tags) return registry().intern(base_tags(vu, L, own_tags ? tags : 0));
  return request_tags().defaults(vu.group_path, vu.context.scenario);
}

namespace {

// Cuts `text` to `limit` bytes, saying how long it was.
std::string cut(std::string text, size_t limit) {
  if (text.size() <= limit) return text;
  const size_t size = text.size();
  text.resize(limit);
  return text + "... (" + std::to_string(size) + " bytes)";
}

}  // namespace

void WorkerRuntime::Impl::record_error(const std::string& text) {
  // An error message can be a whole response body: the report keeps a readable start of it, not megabytes.
  std::string message = cut(text.substr(0, text.find('\n')), kMaxErrorMessageBytes);
  // Messages that embed changing values (ids, counters) would grow the table without bound between two takes.
  if (error_index_.size() >= kMaxDistinctErrors && error_index_.count(message) == 0) {
    message = "(more distinct errors than the report keeps)";
  }
  auto it = error_index_.find(message);
  if (it != error_index_.end()) {
    errors_[it->second].count++;
    return;
  }
  error_index_.emplace(message, errors_.size());
  errors_.push_back({message, cut(text, kMaxErrorTracebackBytes), 1});
}

std::vector<WorkerRuntime::ScriptError> WorkerRuntime::Impl::take_errors() {
  error_index_.clear();
  return std::exchange(errors_, {});
}

void WorkerRuntime::Impl::defer(std::function<void()> fn) {
  LUALOAD_CHECK(!idle_closing_, "deferred call after the runtime closed");
  if (!idle_open_) {
    uv_idle_init(loop_, &idle_);
    idle_.data = this;
    idle_open_ = true;
  }
  deferred_.push_back(std::move(fn));
  uv_idle_start(&idle_, on_idle_cb);
}

void WorkerRuntime::Impl::on_idle_cb(uv_idle_t* idle) {
  auto* self = static_cast<Impl*>(idle->data);
  std::vector<std::function<void()>> batch;
  batch.swap(self->deferred_);
  for (auto& fn : batch) {
    fn();
  }
  if (self->deferred_.empty()) {
    uv_idle_stop(idle);
    self->check_closed();
  }
}

// Retiring a VU cancels what it waits for and closes its handles; the state is freed once they are closed, on a
// later loop turn, because the caller may be a completion running on that VU's behalf.
void WorkerRuntime::Impl::retire(uint64_t key) {
  VuState* vu = find(key);
  if (vu == nullptr || vu->retired) {
    return;
  }
  if (vu->root_key != 0) {
    on_task_retired(*vu);
  } else {
    end_background_work(*vu);
  }
  vu->retired = true;
  vu->running = false;
  vu->done = nullptr;
  cancel_pending(*vu);
  drop_coroutine(*vu);
  release(*vu);
  close_vu_handles(*vu);
  maybe_free(key);
  // A VU destroyed while it runs its end hooks counts as ended for the worker's end phase.
  if (std::find(end_waiting_.begin(), end_waiting_.end(), key) != end_waiting_.end()) on_vu_ended(key);
}

void WorkerRuntime::Impl::release(VuState& vu) {
  luaL_unref(L_, LUA_REGISTRYINDEX, vu.env_ref);
  luaL_unref(L_, LUA_REGISTRYINDEX, vu.data_ref);
  luaL_unref(L_, LUA_REGISTRYINDEX, vu.task_ref);
  luaL_unref(L_, LUA_REGISTRYINDEX, vu.end_hooks_ref);
  vu.task_ref = LUA_NOREF;
  vu.end_hooks_ref = LUA_NOREF;
  vu.env_ref = LUA_NOREF;
  vu.data_ref = LUA_NOREF;
}

void WorkerRuntime::Impl::on_timer_closed_cb(uv_handle_t* handle) {
  auto* vu = static_cast<VuState*>(handle->data);
  delete reinterpret_cast<uv_timer_t*>(handle);
  vu->timer = nullptr;
  vu->open_handles--;
  vu->owner->maybe_free(vu->key);
}

uv_timer_t* WorkerRuntime::Impl::timer_for(VuState& vu) {
  if (vu.timer == nullptr) {
    vu.timer = new uv_timer_t;
    uv_timer_init(loop_, vu.timer);
    vu.timer->data = &vu;
  }
  return vu.timer;
}

void WorkerRuntime::Impl::close_vu_handles(VuState& vu) {
  if (vu.timer != nullptr) {
    vu.open_handles++;
    uv_close(reinterpret_cast<uv_handle_t*>(vu.timer), on_timer_closed_cb);
  }
  if (vu.client != nullptr) {
    vu.open_handles++;
    const uint64_t key = vu.key;
    vu.client->close([this, key] {
      VuState* closed = find(key);
      closed->open_handles--;
      maybe_free(key);
    });
  }
  const uint64_t key = vu.key;
  if (processes_ != nullptr && processes_->close_owner(key, [this, key] {
        find(key)->open_handles--;
        maybe_free(key);
      })) {
    vu.open_handles++;
  }
}

ProcessRegistry& WorkerRuntime::Impl::processes() {
  if (processes_ == nullptr) processes_ = std::make_unique<ProcessRegistry>(*this);
  return *processes_;
}

void WorkerRuntime::Impl::maybe_free(uint64_t key) {
  VuState* vu = find(key);
  if (vu == nullptr || !vu->retired || vu->open_handles != 0) {
    return;
  }
  defer([this, key] { vus_.erase(key); });
}

void WorkerRuntime::Impl::close(std::function<void()> on_closed) {
  LUALOAD_CHECK(!closing_, "WorkerRuntime::close called twice");
  closing_ = true;
  on_closed_ = std::move(on_closed);
  end_done_ = nullptr;  // an end phase cut short by the close does not report
  close_end_timer();
  std::vector<uint64_t> keys;
  for (const auto& [key, vu] : vus_) {
    keys.push_back(key);
  }
  for (uint64_t key : keys) {
    retire(key);
  }
  if (dns_ != nullptr) {
    dns_open_ = true;
    dns_->close([this] {
      dns_open_ = false;
      defer([] {});
    });
  }
  if (processes_ != nullptr) {
    processes_open_ = true;
    processes_->close_all([this] {
      processes_open_ = false;
      defer([] {});
    });
  }
  // Makes sure the idle callback runs at least once, so that check_closed() sees the end even with no VU.
  defer([] {});
}

void WorkerRuntime::Impl::check_closed() {
  if (!closing_ || !vus_.empty() || dns_open_ || processes_open_ || end_timer_closing_ || !deferred_.empty() ||
      !idle_open_ || idle_closing_) {
    return;
  }
  idle_closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), [](uv_handle_t* handle) {
    auto* self = static_cast<Impl*>(handle->data);
    self->idle_open_ = false;
    auto on_closed = std::move(self->on_closed_);
    if (on_closed) {
      on_closed();
    }
  });
}

}  // namespace luaload::bindings
