// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// The one UTF-8 validator of the output writers. Tag values, check names and script paths can hold any bytes, but
// JSON, NDJSON and XML files must be valid UTF-8, so every writer asks this rule which bytes it may copy. Pure
// functions: any thread.
namespace luaload::engine::output {

// U+FFFD REPLACEMENT CHARACTER, what the writers put in place of each byte that is not valid UTF-8.
inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// Length (1 to 4) of the well-formed UTF-8 sequence that starts at text[i], 0 when the bytes there are not one.
// Well-formed is RFC 3629's rule: no overlong forms (C0, C1, E0 80..9F, F0 80..8F), no UTF-16 surrogates
// (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF), no stray continuation byte, no sequence cut short by the
// end of `text`. Requires i < text.size().
size_t utf8_sequence_length(std::string_view text, size_t i);

// `text` with each byte that does not belong to a well-formed sequence replaced by U+FFFD (one per byte, so a
// truncated three-byte sequence becomes two or three replacement characters). Valid input comes back unchanged.
std::string sanitize_utf8(std::string_view text);

}  // namespace luaload::engine::output
