// SPDX-License-Identifier: MIT
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/net/deferred_queue.hpp"

namespace luaload::engine::net {

// The addresses one name resolved to, in resolver order (IPv4 and IPv6 mixed), without duplicates; ports are 0
// (the caller sets its own).
using AddressList = std::vector<sockaddr_storage>;

// True when `a` and `b` are the same IPv4 or IPv6 address (ports ignored; IPv6 scope ids compared).
bool same_address(const sockaddr_storage& a, const sockaddr_storage& b);

struct DnsAnswer {
  int status = 0;  // 0, or a libuv error: UV_EAI_NONAME (no such host), UV_ECANCELED (cache closed), other UV_EAI_*
  std::shared_ptr<const AddressList> addresses;  // non-empty when status == 0
};

// Per-worker name resolution: asynchronous (uv_getaddrinfo on libuv's thread pool), successful answers cached for
// `ttl_s`, concurrent lookups of one name coalesced into one query, IP literals answered without a lookup. Every
// address the resolver returns is kept (IPv4 and IPv6, resolver order, duplicates dropped) so a connection can try
// them in turn. Failures are not cached, so a name that starts resolving is retried on the next request.
//
// Threading: loop thread only. Completion: `done` runs exactly once, on the loop, never from inside resolve() (a
// cache hit is delivered on the next loop turn). close() completes pending lookups with UV_ECANCELED.
// Lifecycle: construct -> resolve()* -> close(on_closed) -> destroy after on_closed.
class DnsCache {
 public:
  using Callback = std::function<void(const DnsAnswer&)>;
  static constexpr double kDefaultTtlSeconds = 300.0;

  explicit DnsCache(uv_loop_t* loop, double ttl_s = kDefaultTtlSeconds);
  DnsCache(const DnsCache&) = delete;
  DnsCache& operator=(const DnsCache&) = delete;
  ~DnsCache();

  void resolve(std::string_view host, Callback done);
  void close(std::function<void()> on_closed);

  // Answers `host` with `addresses` (de-duplicated, order kept) from now on: no lookup, no expiry, kept by clear().
  // Like a hosts-file line (k6's `hosts` option); tests inject address lists with it. Empty `addresses` unpins.
  void pin(std::string_view host, const AddressList& addresses);
  // Moves `address` to the front of `host`'s current answer, if it has one listing it: after a connection had to
  // fall back past addresses that failed, later connections start with the one that worked. Answers already
  // handed out are not changed (each holds its own list).
  void prefer(std::string_view host, const sockaddr_storage& address);

  // Lookups sent to the resolver so far (cache misses); for tests and stats.
  uint64_t lookups() const { return lookups_; }
  // Forgets every cached answer except pinned ones (lookups in flight are unaffected).
  void clear();

 private:
  struct Entry {
    DnsAnswer answer;
    int64_t expires_ns = 0;
    bool pinned = false;
  };
  struct Lookup;

  static void on_resolved_cb(uv_getaddrinfo_t* req, int status, addrinfo* result);
  bool resolve_literal(const std::string& host, const Callback& done);
  void start_lookup(const std::string& host, Callback done);
  void finish_lookup(Lookup* lookup, int status, addrinfo* result);
  void maybe_closed();

  uv_loop_t* loop_;
  int64_t ttl_ns_;
  DeferredQueue deferred_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, Lookup*> pending_;
  uint64_t lookups_ = 0;
  bool closing_ = false;
  bool deferred_closed_ = false;
  std::function<void()> on_closed_;
};

}  // namespace luaload::engine::net
