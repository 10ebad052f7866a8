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

  // Lets a streaming exchange take the body in pieces instead of Response::body. Called from inside feed().
  class Listener {
   public:
    virtual ~Listener() = default;
    // The final (non-1xx) response's status and headers are in the Response. Return true to receive its body
    // through on_body (then neither buffered nor limited by max_response_body_bytes), false to buffer it.
    virtual bool on_head(int status) = 0;
    virtual void on_body(const char* data, size_t size) = 0;
  };

  ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  void begin(const RequestLimits& limits, bool head_request, Response* out, Listener* listener = nullptr);
  // Parses data. consumed() is how much of this call's data was used: after Complete, consumed() < size means the
  // server sent bytes beyond this response.
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
  Listener* listener_ = nullptr;
  bool streaming_ = false;  // the listener took this response's body
  RequestLimits limits_;
  bool head_request_ = false;
  bool in_value_ = false;  // the last header callback was a value: the next field starts a new header
  bool complete_ = false;
  bool keep_alive_ = false;
  int status_ = 0;
  size_t header_bytes_ = 0;
  size_t consumed_ = 0;
  ErrorCode error_code_ = ErrorCode::None;
  char last_byte_ = 0;  // the last byte of the previous feed(), to tell a bare LF at the start of the next
  std::string error_;
};

}  // namespace luaload::engine::http
