// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace luaload::engine::target {

// Fetches small documents for the authorization server (Client ID Metadata Documents, a client's jwks_uri) without
// blocking a server loop: each fetch is one GET on its own short-lived thread, with its own uv loop and the engine's
// HTTP client (TLS verified against the system trust store). Routes poll Fetch::done from Responder::after().
//
// Threading: start() from any thread; a Fetch's fields are written by its thread before `done` is set (release)
// and read by others only after they saw it set (acquire). The destructor joins every fetch thread (each is bounded
// by kTimeoutS).
class DocumentFetcher {
 public:
  static constexpr double kTimeoutS = 5.0;
  static constexpr size_t kMaxBytes = 64 * 1024;
  // More fetches than this at once fail right away (error "too many fetches in flight"): each one is a thread.
  static constexpr size_t kMaxInFlight = 32;

  struct Fetch {
    std::atomic<bool> done{false};
    int status = 0;      // 0: the request failed (see error)
    std::string body;
    std::string error;
  };

  DocumentFetcher() = default;
  DocumentFetcher(const DocumentFetcher&) = delete;
  DocumentFetcher& operator=(const DocumentFetcher&) = delete;
  ~DocumentFetcher();

  std::shared_ptr<Fetch> start(std::string url);

 private:
  struct Running {
    std::thread thread;
    std::shared_ptr<Fetch> fetch;
  };
  void join_finished_locked();

  std::mutex mutex_;
  std::vector<Running> running_;
};

}  // namespace luaload::engine::target
