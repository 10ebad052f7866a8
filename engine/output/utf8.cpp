// SPDX-License-Identifier: MIT
#include "engine/output/utf8.hpp"

namespace luaload::engine::output {
namespace {

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Sequence length announced by a lead byte, 0 for bytes that never start a well-formed sequence: continuation
// bytes, C0/C1 (always overlong) and F5..FF (always above U+10FFFF).
size_t announced_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// The lead bytes E0, ED, F0 and F4 narrow the range of the byte after them (RFC 3629 section 4); the others allow
// any continuation byte there.
bool second_byte_allowed(unsigned char lead, unsigned char second) {
  switch (lead) {
    case 0xE0: return second >= 0xA0;  // below is an overlong two-byte form
    case 0xED: return second < 0xA0;   // above is a UTF-16 surrogate
    case 0xF0: return second >= 0x90;  // below is an overlong three-byte form
    case 0xF4: return second < 0x90;   // above is beyond U+10FFFF
    default: return true;
  }
}

}  // namespace

size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const size_t n = announced_length(lead);
  if (n == 0 || n > text.size() - i) return 0;
  for (size_t k = 1; k < n; ++k) {
    if (!is_continuation(static_cast<unsigned char>(text[i + k]))) return 0;
  }
  if (n > 1 && !second_byte_allowed(lead, static_cast<unsigned char>(text[i + 1]))) return 0;
  return n;
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out += kReplacementCharacter;
      ++i;
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

size_t display_width(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += !is_continuation(static_cast<unsigned char>(c));
  return n;
}

std::string pad_to_width(std::string_view text, size_t width, bool right) {
  const size_t w = display_width(text);
  if (w >= width) return std::string(text);
  const std::string fill(width - w, ' ');
  return right ? fill + std::string(text) : std::string(text) + fill;
}

}  // namespace luaload::engine::output
