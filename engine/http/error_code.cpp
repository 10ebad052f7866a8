// SPDX-License-Identifier: MIT
#include "engine/http/error_code.hpp"

namespace luaload::engine::http {

std::string_view default_message(ErrorCode code) {
  switch (code) {
    case ErrorCode::None: return "";
    case ErrorCode::Generic: return "unknown error";
    case ErrorCode::NonTcpNetwork: return "non-tcp network error";
    case ErrorCode::InvalidUrl: return "invalid URL";
    case ErrorCode::RequestTimeout: return "request timeout";
    case ErrorCode::Dns: return "lookup: dns error";
    case ErrorCode::DnsNoSuchHost: return "lookup: no such host";
    case ErrorCode::Tcp: return "tcp: network error";
    case ErrorCode::TcpBrokenPipe: return "write: broken pipe";
    case ErrorCode::TcpUnknownErrno: return "tcp: unknown errno";
    case ErrorCode::TcpDial: return "dial: network error";
    case ErrorCode::TcpDialTimeout: return "dial: i/o timeout";
    case ErrorCode::TcpDialRefused: return "dial: connection refused";
    case ErrorCode::TcpDialUnknownErrno: return "dial: unknown errno";
    case ErrorCode::TcpResetByPeer: return "read: connection reset by peer";
    case ErrorCode::Tls: return "tls: handshake or record error";
    case ErrorCode::TlsUnknownAuthority: return "x509: certificate signed by unknown authority";
    case ErrorCode::TlsHostname: return "x509: certificate is not valid for this host";
    case ErrorCode::MalformedResponse: return "malformed HTTP response";
    case ErrorCode::ResponseHeadersTooLarge: return "response headers too large";
    case ErrorCode::ResponseBodyTooLarge: return "response body too large";
    case ErrorCode::ConnectionClosedEarly: return "connection closed before the response was complete";
    case ErrorCode::TooManyRedirects: return "stopped after too many redirects";
    case ErrorCode::RequestTooLarge: return "request too large";
    case ErrorCode::Cancelled: return "request cancelled";
  }
  return "unknown error";
}

}  // namespace luaload::engine::http
