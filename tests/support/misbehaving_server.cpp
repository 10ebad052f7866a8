// SPDX-License-Identifier: MIT
#include "support/misbehaving_server.hpp"

#include <netinet/in.h>
#include <strings.h>

#include <chrono>
#include <cstdlib>

namespace luaload::test {

struct MisbehavingServer::Peer {
  MisbehavingServer* server = nullptr;
  uv_tcp_t tcp{};
  uv_timer_t drip_timer{};
  uv_shutdown_t shutdown{};
  std::string head;           // the request head being read
  size_t body_left = 0;       // Content-Length bytes still to read
  bool in_body = false;
  bool closing = false;
  int handles_open = 2;
  std::string drip_data;      // bytes still to drip
  size_t drip_bytes = 0;
  int drip_interval_ms = 0;
  bool close_after_drip = false;
};

namespace {

struct Write {
  uv_write_t req{};
  std::string data;
};

void on_write_cb(uv_write_t* req, int) { delete static_cast<Write*>(req->data); }

void write_bytes(uv_tcp_t* tcp, std::string data) {
  auto* write = new Write;
  write->data = std::move(data);
  write->req.data = write;
  uv_buf_t buf = uv_buf_init(write->data.data(), static_cast<unsigned>(write->data.size()));
  if (uv_write(&write->req, reinterpret_cast<uv_stream_t*>(tcp), &buf, 1, on_write_cb) != 0) delete write;
}

size_t content_length_of(const std::string& head) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    if (strncasecmp(head.c_str() + pos, "content-length:", 15) == 0) return std::strtoull(head.c_str() + pos + 15, nullptr, 10);
  }
  return 0;
}

}  // namespace

struct ServerCallbacks {
  using Peer = MisbehavingServer::Peer;
  static void on_connection(uv_stream_t* listener, int status) {
    if (status == 0) static_cast<MisbehavingServer*>(listener->data)->on_connection();
  }
  static void on_alloc(uv_handle_t*, size_t suggested, uv_buf_t* buf) {
    *buf = uv_buf_init(new char[suggested], static_cast<unsigned>(suggested));
  }
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* peer = static_cast<Peer*>(stream->data);
    if (nread < 0) {
      peer->server->close_peer(peer, false, false);
    } else if (nread > 0) {
      consume(peer, buf->base, static_cast<size_t>(nread));
    }
    delete[] buf->base;
  }
  // Splits the byte stream into requests: head up to the blank line, then Content-Length body bytes.
  static void consume(Peer* peer, const char* data, size_t size) {
    while (size > 0 && !peer->closing) {
      if (peer->in_body) {
        size_t take = std::min(size, peer->body_left);
        peer->body_left -= take, data += take, size -= take;
        peer->server->last_body_bytes_ += take;
        peer->server->seen_.back().body_bytes += take;
        if (peer->body_left == 0) finish_request(peer);
        continue;
      }
      peer->head.push_back(*data++);
      --size;
      if (peer->head.size() >= 4 && peer->head.compare(peer->head.size() - 4, 4, "\r\n\r\n") == 0) {
        peer->server->last_head_ = peer->head;
        peer->server->last_body_bytes_ = 0;
        peer->server->seen_.push_back({peer->head, 0});
        peer->body_left = content_length_of(peer->head);
        peer->in_body = true;
        if (peer->body_left == 0) finish_request(peer);
      }
    }
  }
  static void finish_request(Peer* peer) {
    peer->head.clear();
    peer->in_body = false;
    peer->server->on_request(peer);
  }
  static void on_drip(uv_timer_t* timer) {
    auto* peer = static_cast<Peer*>(timer->data);
    peer->server->drip(peer);
  }
  // uv_close would drop queued writes: a graceful close shuts the write side first, so the bytes go out before
  // the FIN, and closes once that is done.
  static void on_shutdown(uv_shutdown_t* req, int) {
    auto* peer = static_cast<Peer*>(req->data);
    uv_close(reinterpret_cast<uv_handle_t*>(&peer->tcp), on_peer_closed);
  }
  static void on_peer_closed(uv_handle_t* handle) {
    auto* peer = static_cast<Peer*>(handle->data);
    if (--peer->handles_open == 0) peer->server->on_peer_closed(peer);
  }
  static void on_listener_closed(uv_handle_t* handle) {
    auto* server = static_cast<MisbehavingServer*>(handle->data);
    server->listener_closed_ = true;
    server->maybe_closed();
  }
};

std::string http_response(int status, std::string_view body, std::string_view extra_headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " Status\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n";
  out.append(extra_headers);
  out.append("\r\n");
  out.append(body);
  return out;
}

MisbehavingServer::MisbehavingServer(uv_loop_t* loop, std::vector<Reply> replies)
    : MisbehavingServer(loop, std::move(replies), "127.0.0.1") {}

MisbehavingServer::MisbehavingServer(uv_loop_t* loop, std::vector<Reply> replies, std::string_view host, uint16_t port)
    : loop_(loop), replies_(std::move(replies)), host_(host) {
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  sockaddr_storage addr{};
  if (uv_ip4_addr(host_.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(host_.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    return;
  }
  if (uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0) != 0 ||
      uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 128, ServerCallbacks::on_connection) != 0) {
    return;
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listening_ = true;
}

MisbehavingServer::~MisbehavingServer() = default;

std::string MisbehavingServer::url(std::string_view path) const {
  const bool ipv6 = host_.find(':') != std::string::npos;
  return "http://" + (ipv6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_) + std::string(path);
}

void MisbehavingServer::on_connection() {
  auto peer = std::make_unique<Peer>();
  peer->server = this;
  uv_tcp_init(loop_, &peer->tcp);
  uv_timer_init(loop_, &peer->drip_timer);
  peer->tcp.data = peer->drip_timer.data = peer->shutdown.data = peer.get();
  uv_accept(reinterpret_cast<uv_stream_t*>(&listener_), reinterpret_cast<uv_stream_t*>(&peer->tcp));
  ++accepts_;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&peer->tcp), ServerCallbacks::on_alloc, ServerCallbacks::on_read);
  peers_.push_back(std::move(peer));
}

void MisbehavingServer::on_request(Peer* peer) {
  const Reply& reply = replies_[std::min(requests_, replies_.size() - 1)];
  ++requests_;
  switch (reply.action) {
    case Reply::Action::Respond: send_reply(peer, reply); break;
    case Reply::Action::Close: close_peer(peer, false, true); break;
    case Reply::Action::Reset: close_peer(peer, true, false); break;
    case Reply::Action::NeverAnswer: break;
  }
}

void MisbehavingServer::stall_window(uint64_t from_ms, uint64_t length_ms, uint64_t delay_ms) {
  stall_from_ms_ = from_ms;
  stall_length_ms_ = length_ms;
  stall_delay_ms_ = delay_ms;
}

void MisbehavingServer::send_reply(Peer* peer, const Reply& reply) {
  const uint64_t now = uv_now(loop_);
  if (requests_ == 1) first_request_ms_ = now;
  if (stall_delay_ms_ > 0 && now >= first_request_ms_ + stall_from_ms_ &&
      now < first_request_ms_ + stall_from_ms_ + stall_length_ms_ && reply.drip_bytes == 0) {
    // The whole reply as one drip piece, sent when the timer fires.
    ++stalled_;
    peer->drip_data = reply.bytes;
    peer->drip_bytes = reply.bytes.size();
    peer->close_after_drip = reply.close_after;
    uv_timer_start(&peer->drip_timer, ServerCallbacks::on_drip, stall_delay_ms_, 0);
    return;
  }
  if (reply.drip_bytes > 0) {
    peer->drip_data = reply.bytes;
    peer->drip_bytes = reply.drip_bytes;
    peer->drip_interval_ms = reply.drip_interval_ms;
    peer->close_after_drip = reply.close_after;
    drip(peer);
    return;
  }
  write_bytes(&peer->tcp, reply.bytes);
  if (reply.close_after) close_peer(peer, false, true);
}

void MisbehavingServer::drip(Peer* peer) {
  if (peer->closing) return;
  size_t take = std::min(peer->drip_bytes, peer->drip_data.size());
  write_bytes(&peer->tcp, peer->drip_data.substr(0, take));
  peer->drip_data.erase(0, take);
  if (!peer->drip_data.empty()) {
    uv_timer_start(&peer->drip_timer, ServerCallbacks::on_drip, static_cast<uint64_t>(peer->drip_interval_ms), 0);
  } else if (peer->close_after_drip) {
    close_peer(peer, false, true);
  }
}

void MisbehavingServer::close_peer(Peer* peer, bool reset, bool graceful) {
  if (peer->closing) return;
  peer->closing = true;
  uv_timer_stop(&peer->drip_timer);
  if (reset) {
    uv_tcp_close_reset(&peer->tcp, ServerCallbacks::on_peer_closed);
  } else if (!graceful || uv_shutdown(&peer->shutdown, reinterpret_cast<uv_stream_t*>(&peer->tcp),
                                      ServerCallbacks::on_shutdown) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&peer->tcp), ServerCallbacks::on_peer_closed);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&peer->drip_timer), ServerCallbacks::on_peer_closed);
}

void MisbehavingServer::on_peer_closed(Peer* peer) {
  std::erase_if(peers_, [peer](const auto& owned) { return owned.get() == peer; });
  maybe_closed();
}

void MisbehavingServer::close(std::function<void()> on_closed) {
  closing_ = true;
  on_closed_ = std::move(on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), ServerCallbacks::on_listener_closed);
  std::vector<Peer*> open;
  for (auto& peer : peers_) open.push_back(peer.get());
  for (Peer* peer : open) close_peer(peer, false, false);
}

void MisbehavingServer::maybe_closed() {
  if (!closing_ || !listener_closed_ || !peers_.empty() || !on_closed_) return;
  auto done = std::move(on_closed_);
  on_closed_ = nullptr;
  done();
}

uint16_t unused_port() {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_tcp_t tcp;
  uv_tcp_init(&loop, &tcp);
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", 0, &addr);
  uv_tcp_bind(&tcp, reinterpret_cast<const sockaddr*>(&addr), 0);
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&tcp, reinterpret_cast<sockaddr*>(&bound), &len);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

bool run_until(uv_loop_t* loop, const std::function<bool()>& done, int timeout_ms) {
  // A repeating wake-up timer keeps uv_run(ONCE) from blocking past the deadline when nothing else is pending.
  uv_timer_t wake;
  uv_timer_init(loop, &wake);
  uv_timer_start(&wake, [](uv_timer_t*) {}, 5, 5);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done() && std::chrono::steady_clock::now() < deadline) uv_run(loop, UV_RUN_ONCE);
  bool closed = false;
  wake.data = &closed;
  uv_close(reinterpret_cast<uv_handle_t*>(&wake), [](uv_handle_t* h) { *static_cast<bool*>(h->data) = true; });
  while (!closed) uv_run(loop, UV_RUN_ONCE);
  return done();
}

}  // namespace luaload::test
