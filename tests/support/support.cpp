// SPDX-License-Identifier: MIT
// Anchor for the shared test-support library; fixtures live in their own files beside this one.
