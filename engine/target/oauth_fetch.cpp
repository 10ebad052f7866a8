// SPDX-License-Identifier: MIT
#include "engine/target/oauth_fetch.hpp"

#include <uv.h>

#include "engine/http/client.hpp"
#include "engine/net/dns_cache.hpp"
#include "engine/tls/client_context.hpp"

namespace luaload::engine::target {
namespace {

// One GET on a private loop; returns once the client and the DNS cache have closed, so the loop closes cleanly.
void fetch_on_private_loop(const std::string& url, DocumentFetcher::Fetch* out) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    net::DnsCache dns(&loop);
    std::string error;
    auto tls = tls::ClientContext::create(tls::ClientOptions{}, &error);
    std::vector<char> read_buffer(64 * 1024);
    http::ClientEnvironment env{&loop, &dns, tls.get(), &read_buffer};
    http::Client client(env);
    http::Request request;
    request.url = url;
    request.timeout_s = DocumentFetcher::kTimeoutS;
    request.max_redirects = 0;
    request.headers.push_back({"Accept", "application/json"});
    request.limits.max_response_body_bytes = DocumentFetcher::kMaxBytes;
    client.send(request, [&](http::Response&& response) {
      out->status = response.final.status;
      out->error = response.final.error;
      out->body = std::move(response.body);
      client.close([] {});
      dns.close([] {});
    });
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop);
}

}  // namespace

DocumentFetcher::~DocumentFetcher() {
  std::lock_guard lock(mutex_);
  for (Running& r : running_) r.thread.join();
}

void DocumentFetcher::join_finished_locked() {
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->fetch->done.load(std::memory_order_acquire)) {
      it->thread.join();
      it = running_.erase(it);
    } else {
      ++it;
    }
  }
}

std::shared_ptr<DocumentFetcher::Fetch> DocumentFetcher::start(std::string url) {
  auto fetch = std::make_shared<Fetch>();
  std::lock_guard lock(mutex_);
  join_finished_locked();
  if (running_.size() >= kMaxInFlight) {
    fetch->error = "too many fetches in flight";
    fetch->done.store(true, std::memory_order_release);
    return fetch;
  }
  running_.push_back({std::thread([url = std::move(url), fetch] {
                        fetch_on_private_loop(url, fetch.get());
                        fetch->done.store(true, std::memory_order_release);
                      }),
                      fetch});
  return fetch;
}

}  // namespace luaload::engine::target
