// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace luaload::test {

// PEM files for TLS tests, generated with the OpenSSL API the first time tls_files() is called in a process, in a
// temporary directory removed at exit. Keys are ECDSA P-256; certificates are valid from yesterday for 30 days
// unless said otherwise. Any thread (first-call initialisation is thread-safe); the paths never change afterwards.
struct TlsFiles {
  std::string dir;

  std::string ca_cert;  // "luaload test CA": trust it with ClientOptions::ca_file or --ca

  // Signed by the CA, SAN DNS:localhost, IP:127.0.0.1, IP:::1 — what a correct test server presents.
  std::string server_cert;
  std::string server_key;

  // Self-signed "localhost" (same names), trusted by nobody: verification fails with unknown authority.
  std::string self_signed_cert;
  std::string self_signed_key;

  // Signed by the CA but only for DNS:wrong.example: verification of "localhost" or 127.0.0.1 fails on the name.
  std::string wrong_name_cert;
  std::string wrong_name_key;

  // Signed by the CA for localhost, but expired two days ago: fails verification as a generic TLS error.
  std::string expired_cert;
  std::string expired_key;
};

const TlsFiles& tls_files();

}  // namespace luaload::test
