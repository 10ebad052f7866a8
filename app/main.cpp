// SPDX-License-Identifier: MIT
#include "app/cli.hpp"

int main(int argc, char** argv) { return luaload::app::run_cli(argc, argv); }
