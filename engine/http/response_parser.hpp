// SPDX-License-Identifier: MIT
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <string>

#include "engine/http/types.hpp"

namespace luaload::engine::http {

// Parses one HTTP/1.1 response after another on one connection (llhttp behind our own interface). The llhttp
// settings are one static const table shared by every parser; the llhttp_t state is per parser.
//
// Use: begin() before each request, then feed() every chunk read from the socket until it returns Complete or
// Failed; finish() on EOF (completes close-delimited bodies). Interim 1xx responses are skipped. A HEAD request,
// 204 and 304 have no body. Status, headers and body go straight into the caller's Response, which must outlive
// the exchange. Not thread-aware: one connection's loop only.
class ResponseParser {
 public:
  enum class State { Incomplete, Complete, Failed };

  ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  void begin(const RequestLimits& limits, bool head_request, Response* out);
  // Parses data. After Complete, consumed() < size means the server sent bytes beyond this response.
  State feed(const char* data, size_t size);
  State finish();

  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  size_t consumed() const { return consumed_; }
  ErrorCode error_code() const { return error_code_; }
  const std::string& error() const { return error_; }

 private:
  static const llhttp_settings_t kSettings;
  static int on_message_begin_cb(llhttp_t* parser);
  static int on_status_cb(llhttp_t* parser, const char* at, size_t length);
  static int on_header_field_cb(llhttp_t* parser, const char* at, size_t length);
  static int on_header_value_cb(llhttp_t* parser, const char* at, size_t length);
  static int on_header_value_complete_cb(llhttp_t* parser);
  static int on_headers_complete_cb(llhttp_t* parser);
  static int on_body_cb(llhttp_t* parser, const char* at, size_t length);
  static int on_message_complete_cb(llhttp_t* parser);

  int count_header_bytes(size_t length);
  State fail(ErrorCode code, std::string detail);

  llhttp_t parser_{};
  Response* out_ = nullptr;
  RequestLimits limits_;
  bool head_request_ = false;
  bool in_value_ = false;  // the last header callback was a value: the next field starts a new header
  bool complete_ = false;
  bool keep_alive_ = false;
  int status_ = 0;
  size_t header_bytes_ = 0;
  size_t consumed_ = 0;
  ErrorCode error_code_ = ErrorCode::None;
  std::string error_;
};

}  // namespace luaload::engine::http
