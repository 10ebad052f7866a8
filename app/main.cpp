// SPDX-License-Identifier: MIT
#include <csignal>

#include "app/cli.hpp"

int main(int argc, char** argv) {
  // A peer that closes its socket must make our next write fail with EPIPE (a network result), not kill the
  // process: libuv writes without MSG_NOSIGNAL. This matters to `luaload target` when a client stops reading a
  // stream, and to `luaload run` when a server closes mid-request.
  std::signal(SIGPIPE, SIG_IGN);
  return luaload::app::run_cli(argc, argv);
}
