// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string_view>

namespace luaload::engine::http {

// Stable numbers shown to users as error_code. Where k6 has a code for the same failure we use its number
// (k6 lib/netext/httpext/error_codes.go), so dashboards and thresholds carry over; 14xx are luaload's own for
// HTTP/1.1 protocol failures, which k6 folds into 1000. Documented in docs/http.md.
enum class ErrorCode : uint32_t {
  None = 0,
  Generic = 1000,
  NonTcpNetwork = 1010,
  InvalidUrl = 1020,
  RequestTimeout = 1050,
  Dns = 1100,
  DnsNoSuchHost = 1101,
  Tcp = 1200,
  TcpBrokenPipe = 1201,
  TcpUnknownErrno = 1202,
  TcpDial = 1210,
  TcpDialTimeout = 1211,
  TcpDialRefused = 1212,
  TcpDialUnknownErrno = 1213,
  TcpResetByPeer = 1220,
  Tls = 1300,
  TlsUnknownAuthority = 1310,
  TlsHostname = 1311,
  MalformedResponse = 1400,
  ResponseHeadersTooLarge = 1401,
  ResponseBodyTooLarge = 1402,
  ConnectionClosedEarly = 1403,
  TooManyRedirects = 1404,
  RequestTooLarge = 1405,
  Cancelled = 1406,
};

// A fixed, short message for the code (k6-style, e.g. "dial: connection refused"). Detail goes in Response::error.
std::string_view default_message(ErrorCode code);

}  // namespace luaload::engine::http
