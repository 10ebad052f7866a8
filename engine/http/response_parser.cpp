// SPDX-License-Identifier: MIT
#include "engine/http/response_parser.hpp"

namespace luaload::engine::http {
namespace {

ResponseParser* self_of(llhttp_t* parser) { return static_cast<ResponseParser*>(parser->data); }

}  // namespace

const llhttp_settings_t ResponseParser::kSettings = [] {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_message_begin = on_message_begin_cb;
  settings.on_status = on_status_cb;
  settings.on_header_field = on_header_field_cb;
  settings.on_header_value = on_header_value_cb;
  settings.on_header_value_complete = on_header_value_complete_cb;
  settings.on_headers_complete = on_headers_complete_cb;
  settings.on_body = on_body_cb;
  settings.on_message_complete = on_message_complete_cb;
  return settings;
}();

ResponseParser::ResponseParser() {
  llhttp_init(&parser_, HTTP_RESPONSE, &kSettings);
  parser_.data = this;
}

void ResponseParser::begin(const RequestLimits& limits, bool head_request, Response* out, Listener* listener) {
  llhttp_reset(&parser_);
  out_ = out;
  listener_ = listener;
  streaming_ = false;
  limits_ = limits;
  head_request_ = head_request;
  complete_ = false;
  last_byte_ = 0;
  keep_alive_ = false;
  status_ = 0;
  consumed_ = 0;
  error_code_ = ErrorCode::None;
  error_.clear();
}

int ResponseParser::on_message_begin_cb(llhttp_t* parser) {
  auto* self = self_of(parser);
  self->out_->headers.clear();
  self->out_->body.clear();
  self->in_value_ = false;
  self->header_bytes_ = 0;
  return 0;
}

int ResponseParser::count_header_bytes(size_t length) {
  header_bytes_ += length;
  if (header_bytes_ <= limits_.max_response_header_bytes) return 0;
  error_code_ = ErrorCode::ResponseHeadersTooLarge;
  error_ = "response headers exceed " + std::to_string(limits_.max_response_header_bytes) + " bytes";
  return HPE_USER;
}

int ResponseParser::on_status_cb(llhttp_t* parser, const char* at, size_t length) {
  return self_of(parser)->count_header_bytes(length);
}

int ResponseParser::on_header_field_cb(llhttp_t* parser, const char* at, size_t length) {
  auto* self = self_of(parser);
  auto& headers = self->out_->headers;
  if (self->in_value_ || headers.empty()) headers.start_header();
  self->in_value_ = false;
  headers.append_name({at, length});
  return self->count_header_bytes(length);
}

int ResponseParser::on_header_value_cb(llhttp_t* parser, const char* at, size_t length) {
  auto* self = self_of(parser);
  self->in_value_ = true;
  self->out_->headers.append_value({at, length});
  return self->count_header_bytes(length);
}

int ResponseParser::on_header_value_complete_cb(llhttp_t* parser) {
  auto* self = self_of(parser);
  // An empty value fires no on_header_value; the next field must still start a new header.
  self->in_value_ = true;
  self->out_->headers.trim_value_end();
  return 0;
}

int ResponseParser::on_headers_complete_cb(llhttp_t* parser) {
  auto* self = self_of(parser);
  self->status_ = parser->status_code;
  if (parser->status_code / 100 == 1) return 0;  // interim: llhttp parses it as a bodyless message
  self->streaming_ = self->listener_ != nullptr && self->listener_->on_head(parser->status_code);
  // RFC 9110: these never have a body, whatever Content-Length says (a 304 repeats the cached entity's length).
  if (self->head_request_ || parser->status_code == 204 || parser->status_code == 304) return 1;
  uint64_t length = parser->content_length;
  if (self->streaming_) return 0;
  if ((parser->flags & F_CONTENT_LENGTH) != 0 && length > self->limits_.max_response_body_bytes) {
    self->error_code_ = ErrorCode::ResponseBodyTooLarge;
    self->error_ = "response body of " + std::to_string(length) + " bytes exceeds the limit";
    return -1;
  }
  if ((parser->flags & F_CONTENT_LENGTH) != 0) self->out_->body.reserve(length);
  return 0;
}

int ResponseParser::on_body_cb(llhttp_t* parser, const char* at, size_t length) {
  auto* self = self_of(parser);
  if (self->streaming_) {
    self->listener_->on_body(at, length);
    return 0;
  }
  std::string& body = self->out_->body;
  if (body.size() + length > self->limits_.max_response_body_bytes) {
    self->error_code_ = ErrorCode::ResponseBodyTooLarge;
    self->error_ = "response body exceeds " + std::to_string(self->limits_.max_response_body_bytes) + " bytes";
    return HPE_USER;
  }
  body.append(at, length);
  return 0;
}

int ResponseParser::on_message_complete_cb(llhttp_t* parser) {
  auto* self = self_of(parser);
  // 101 Switching Protocols ends the HTTP exchange; other 1xx are followed by the real response.
  if (parser->status_code / 100 == 1 && parser->status_code != 101) return 0;
  self->complete_ = true;
  self->keep_alive_ = llhttp_should_keep_alive(parser) != 0 && parser->status_code != 101;
  // Stop at the end of this response: anything after it is not an answer to our request.
  return HPE_PAUSED;
}

ResponseParser::State ResponseParser::feed(const char* data, size_t size) {
  llhttp_errno_t rc = llhttp_execute(&parser_, data, size);
  if (rc == HPE_OK) {
    consumed_ = size;
    if (size > 0) last_byte_ = data[size - 1];
    return State::Incomplete;
  }
  if (rc == HPE_PAUSED && complete_) {
    consumed_ = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    return State::Complete;
  }
  if (error_code_ != ErrorCode::None) return State::Failed;
  std::string reason = llhttp_get_error_reason(&parser_);
  // llhttp names the character it choked on, not why: a line ended by LF alone is the usual cause (a hand-written
  // server), so say so.
  const char* at = llhttp_get_error_pos(&parser_);
  if (status_ == 0 && at != nullptr && at >= data && at < data + size) {  // in the head: body bytes may hold LFs
    for (const char* p = data; p <= at; ++p) {
      if (*p != '\n' || (p > data ? p[-1] : last_byte_) == '\r') continue;
      reason += " (a line ended with a bare LF; HTTP/1.1 lines must end with CRLF)";
      break;
    }
  }
  return fail(ErrorCode::MalformedResponse, reason);
}

ResponseParser::State ResponseParser::finish() {
  if (complete_) return State::Complete;
  llhttp_errno_t rc = llhttp_finish(&parser_);
  if (complete_) {
    // A close-delimited body ends here; the connection is done whatever the headers said.
    keep_alive_ = false;
    return State::Complete;
  }
  if (rc != HPE_OK && rc != HPE_INVALID_EOF_STATE && error_code_ != ErrorCode::None) return State::Failed;
  return fail(ErrorCode::ConnectionClosedEarly, "server closed the connection before the response was complete");
}

ResponseParser::State ResponseParser::fail(ErrorCode code, std::string detail) {
  error_code_ = code;
  error_ = std::move(detail);
  return State::Failed;
}

}  // namespace luaload::engine::http
