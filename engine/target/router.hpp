// SPDX-License-Identifier: MIT
#pragma once

#include "engine/target/request.hpp"
#include "engine/target/responder.hpp"

namespace luaload::engine::target {

struct ServerState;

// Hands a complete request to its route handler (routes.hpp), or answers 404. Same contract as the handlers:
// the exchange ends through `responder`, now or later. Loop thread of the connection.
void route_request(const Request& request, Responder& responder, ServerState& state);

}  // namespace luaload::engine::target
