// SPDX-License-Identifier: MIT
#include "engine/net/dns_cache.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "engine/core/assert.hpp"
#include "engine/core/clock.hpp"

namespace luaload::engine::net {

// One query in flight for one name, with everyone waiting for it.
struct DnsCache::Lookup {
  uv_getaddrinfo_t req{};
  DnsCache* cache = nullptr;
  std::string host;
  std::vector<Callback> waiters;
  bool started = false;
};

namespace {

// Appends `addr` unless the list already has it: /etc/hosts and some resolvers repeat an address.
void add_unique(AddressList* list, const sockaddr_storage& addr) {
  for (const auto& known : *list)
    if (same_address(known, addr)) return;
  list->push_back(addr);
}

}  // namespace

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
  }
  if (a.ss_family != AF_INET6) return false;
  const auto& a6 = reinterpret_cast<const sockaddr_in6&>(a);
  const auto& b6 = reinterpret_cast<const sockaddr_in6&>(b);
  return a6.sin6_scope_id == b6.sin6_scope_id && std::memcmp(&a6.sin6_addr, &b6.sin6_addr, sizeof a6.sin6_addr) == 0;
}

DnsCache::DnsCache(uv_loop_t* loop, double ttl_s)
    : loop_(loop), ttl_ns_(static_cast<int64_t>(ttl_s * 1e9)), deferred_(loop) {}

DnsCache::~DnsCache() { LUALOAD_CHECK(closing_ && pending_.empty(), "DnsCache destroyed before close completed"); }

void DnsCache::resolve(std::string_view host_view, Callback done) {
  LUALOAD_ASSERT(!closing_);
  std::string host(host_view);
  auto it = entries_.find(host);
  if (it == entries_.end() && resolve_literal(host, done)) return;
  if (it != entries_.end() && (it->second.pinned || it->second.expires_ns > core::mono_now_ns())) {
    deferred_.post([answer = it->second.answer, done = std::move(done)] { done(answer); });
    return;
  }
  if (it != entries_.end()) entries_.erase(it);
  auto pending = pending_.find(host);
  if (pending != pending_.end()) {
    pending->second->waiters.push_back(std::move(done));
    return;
  }
  start_lookup(host, std::move(done));
}

bool DnsCache::resolve_literal(const std::string& host, const Callback& done) {
  sockaddr_storage addr{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (uv_inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 0) {
    v4->sin_family = AF_INET;
  } else if (uv_inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 0) {
    v6->sin6_family = AF_INET6;
  } else {
    return false;
  }
  DnsAnswer answer;
  answer.addresses = std::make_shared<const AddressList>(AddressList{addr});
  deferred_.post([answer = std::move(answer), done] { done(answer); });
  return true;
}

void DnsCache::start_lookup(const std::string& host, Callback done) {
  auto* lookup = new Lookup;
  lookup->cache = this;
  lookup->host = host;
  lookup->req.data = lookup;
  lookup->waiters.push_back(std::move(done));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  ++lookups_;
  int rc = uv_getaddrinfo(loop_, &lookup->req, on_resolved_cb, host.c_str(), nullptr, &hints);
  pending_.emplace(host, lookup);
  lookup->started = rc == 0;
  if (rc != 0) {
    // The query never started, so no callback will come: report the failure on a later turn ourselves.
    deferred_.post([this, lookup, rc] { finish_lookup(lookup, rc, nullptr); });
  }
}

void DnsCache::on_resolved_cb(uv_getaddrinfo_t* req, int status, addrinfo* result) {
  auto* lookup = static_cast<Lookup*>(req->data);
  lookup->cache->finish_lookup(lookup, status, result);
}

void DnsCache::finish_lookup(Lookup* lookup, int status, addrinfo* result) {
  std::unique_ptr<Lookup> owned(lookup);
  pending_.erase(lookup->host);
  DnsAnswer answer;
  auto list = std::make_shared<AddressList>();
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    sockaddr_storage addr{};
    std::memcpy(&addr, ai->ai_addr, std::min<size_t>(ai->ai_addrlen, sizeof addr));
    add_unique(list.get(), addr);
  }
  if (result != nullptr) uv_freeaddrinfo(result);
  if (closing_) status = UV_ECANCELED;
  answer.status = (status == 0 && list->empty()) ? UV_EAI_NODATA : status;
  if (answer.status == 0) {
    answer.addresses = std::move(list);
    auto& entry = entries_[lookup->host];
    // A name pinned while its lookup ran keeps the pinned answer; the waiters still get the resolver's.
    if (!entry.pinned) entry = Entry{answer, core::mono_now_ns() + ttl_ns_};
  }
  for (auto& waiter : lookup->waiters) waiter(answer);
  maybe_closed();
}

void DnsCache::pin(std::string_view host, const AddressList& addresses) {
  if (addresses.empty()) {
    entries_.erase(std::string(host));
    return;
  }
  auto list = std::make_shared<AddressList>();
  for (const auto& addr : addresses) add_unique(list.get(), addr);
  Entry entry;
  entry.answer.addresses = std::move(list);
  entry.expires_ns = std::numeric_limits<int64_t>::max();
  entry.pinned = true;
  entries_[std::string(host)] = std::move(entry);
}

void DnsCache::prefer(std::string_view host, const sockaddr_storage& address) {
  auto it = entries_.find(std::string(host));
  if (it == entries_.end() || it->second.answer.status != 0) return;
  const AddressList& current = *it->second.answer.addresses;
  auto found = std::find_if(current.begin(), current.end(), [&](const auto& a) { return same_address(a, address); });
  if (found == current.end() || found == current.begin()) return;
  // Copy-on-write: connections iterating the old list keep it.
  auto list = std::make_shared<AddressList>(current);
  std::rotate(list->begin(), list->begin() + (found - current.begin()), list->begin() + (found - current.begin()) + 1);
  it->second.answer.addresses = std::move(list);
}

void DnsCache::clear() {
  std::erase_if(entries_, [](const auto& item) { return !item.second.pinned; });
}

void DnsCache::close(std::function<void()> on_closed) {
  LUALOAD_ASSERT(!closing_);
  closing_ = true;
  on_closed_ = std::move(on_closed);
  entries_.clear();
  // A cancelled query still calls back (with UV_ECANCELED); one already running on the pool finishes first.
  for (auto& [host, lookup] : pending_)
    if (lookup->started) uv_cancel(reinterpret_cast<uv_req_t*>(&lookup->req));
  deferred_.close([this] {
    deferred_closed_ = true;
    maybe_closed();
  });
}

void DnsCache::maybe_closed() {
  if (!closing_ || !deferred_closed_ || !pending_.empty() || !on_closed_) return;
  auto done = std::move(on_closed_);
  on_closed_ = nullptr;
  done();
}

}  // namespace luaload::engine::net
