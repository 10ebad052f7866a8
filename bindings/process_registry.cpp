// SPDX-License-Identifier: MIT
#include <algorithm>
#include <utility>

#include "bindings/process.hpp"
#include "bindings/runtime.hpp"

namespace luaload::bindings {

void close_process(const std::shared_ptr<ProcessHandle>& handle, std::function<void()> done) {
  ProcessHandle& h = *handle;
  if (h.closed) {
    if (done) h.impl->defer(std::move(done));
    return;
  }
  if (done) h.on_closed.push_back(std::move(done));
  if (h.closing) return;
  h.closing = true;
  // The completion holds the handle: it outlives the script's object and the registry's entry.
  h.process->close([handle] {
    ProcessHandle& closed = *handle;
    closed.closed = true;
    closed.process.reset();  // allowed from inside on_closed
    closed.registry->remove(closed);
    auto waiters = std::move(closed.on_closed);
    for (auto& waiter : waiters) waiter();
  });
}

void ProcessRegistry::add(const std::shared_ptr<ProcessHandle>& handle) { by_owner_[handle->owner].push_back(handle); }

void ProcessRegistry::remove(const ProcessHandle& handle) {
  auto it = by_owner_.find(handle.owner);
  if (it == by_owner_.end()) return;
  std::erase_if(it->second, [&handle](const auto& h) { return h.get() == &handle; });
  if (it->second.empty()) by_owner_.erase(it);
}

size_t ProcessRegistry::count(uint64_t owner) const {
  auto it = by_owner_.find(owner);
  return it == by_owner_.end() ? 0 : it->second.size();
}

bool ProcessRegistry::close_owner(uint64_t owner, std::function<void()> done) {
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end() || it->second.empty()) return false;
  close_list(it->second, std::move(done));
  return true;
}

void ProcessRegistry::close_all(std::function<void()> done) {
  closing_ = true;
  std::vector<std::shared_ptr<ProcessHandle>> all;
  for (const auto& [owner, list] : by_owner_) all.insert(all.end(), list.begin(), list.end());
  if (all.empty()) {
    impl_.defer(std::move(done));
    return;
  }
  close_list(std::move(all), std::move(done));
}

// `done` runs when the last of `list` is closed; the count lives in the shared closure.
void ProcessRegistry::close_list(std::vector<std::shared_ptr<ProcessHandle>> list, std::function<void()> done) {
  auto left = std::make_shared<size_t>(list.size());
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  for (const auto& handle : list) {
    close_process(handle, [left, finish] {
      if (--*left == 0 && *finish) (*finish)();
    });
  }
}

}  // namespace luaload::bindings
