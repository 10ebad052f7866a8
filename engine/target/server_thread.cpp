// SPDX-License-Identifier: MIT
#include "engine/target/server_thread.hpp"

#include <unistd.h>

#include <vector>

namespace luaload::engine::target {
namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;
constexpr int kBacklog = 1024;

void connection_cb(uv_stream_t* server, int status) {
  static_cast<ServerThread*>(server->data)->on_connection(status);
}

void connection_closed_cb(void* owner, Connection* connection) {
  static_cast<ServerThread*>(owner)->on_connection_closed(connection);
}

}  // namespace

ServerThread::ServerThread(ServerState& state, tls::ServerContext* tls)
    : state_(state), tls_(tls), read_buffer_(kReadBufferBytes, '\0') {}

bool ServerThread::open(uv_loop_t* loop, int fd) {
  loop_ = loop;
  uv_tcp_init(loop, &listener_);
  listener_.data = this;
  listening_ = true;
  if (uv_tcp_open(&listener_, fd) != 0) {
    ::close(fd);
    close();
    return false;
  }
  if (uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kBacklog, connection_cb) != 0) {
    close();
    return false;
  }
  return true;
}

void ServerThread::close() {
  if (listening_) {
    listening_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  }
  // Connection::close() does not remove from the set (that happens in the close callbacks), but copy anyway so
  // that nothing here depends on it.
  std::vector<Connection*> open(connections_.begin(), connections_.end());
  for (Connection* c : open) c->close();
}

void ServerThread::on_connection(int status) {
  if (status < 0 || !listening_) return;
  ConnectionEnv env;
  env.state = &state_;
  env.tls = tls_;
  env.read_buffer = &read_buffer_;
  env.on_closed = connection_closed_cb;
  env.owner = this;
  auto* connection = new Connection(loop_, env);
  connections_.insert(connection);
  connection->accept(reinterpret_cast<uv_stream_t*>(&listener_));
}

void ServerThread::on_connection_closed(Connection* connection) {
  connections_.erase(connection);
  delete connection;
}

}  // namespace luaload::engine::target
