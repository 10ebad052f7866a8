// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// A deliberately naive HTTP/1.1 client for tests: one blocking socket to 127.0.0.1, independent of luaload's own
// client, so a server under test is checked by something that shares none of its code. Any thread; it blocks the
// calling thread, so the server must run on another thread or process.
namespace luaload::test {

// A blocking TCP socket connected to 127.0.0.1:port, with `timeout_ms` send and receive timeouts so a quiet peer
// fails the test instead of hanging it; -1 when the connection is refused. The caller closes it.
int connect_loopback(uint16_t port, int timeout_ms = 5000);

// Connects to 127.0.0.1:port, sends `request` as it is, and returns every byte read until the server closes the
// connection or 5 s pass without data; "" when the connection is refused.
std::string blocking_exchange(uint16_t port, std::string_view request);

// blocking_exchange of "GET <path> HTTP/1.1" with Connection: close: the whole raw response.
std::string blocking_get(uint16_t port, std::string_view path);

}  // namespace luaload::test
