// SPDX-License-Identifier: MIT
#include "engine/tls/client_context.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "engine/core/assert.hpp"
#include "engine/tls/client_context_impl.hpp"

namespace luaload::engine::tls {
namespace {

// Where an SSL keeps a pointer to its SslLink (owned by the ClientSession).
int link_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// OpenSSL calls this whenever the server hands us a resumable session: at the end of a TLS 1.2 handshake, and for
// each NewSessionTicket in TLS 1.3, which arrives after the handshake and is seen by SSL_read. Returning 1 keeps
// the reference OpenSSL passed in, which the cache then owns.
int on_new_session_cb(SSL* ssl, SSL_SESSION* session) {
  auto* impl = static_cast<ClientContext::Impl*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  const auto* link = static_cast<const SslLink*>(SSL_get_ex_data(ssl, link_index()));
  if (impl == nullptr || link == nullptr || link->session_key.empty() || SSL_SESSION_is_resumable(session) != 1) {
    return 0;
  }
  impl->sessions().store(link->session_key, session);
  return 1;
}

std::string ip_text(const unsigned char* bytes, int size) {
  char text[INET6_ADDRSTRLEN] = {};
  const int family = size == 4 ? AF_INET : size == 16 ? AF_INET6 : AF_UNSPEC;
  if (family == AF_UNSPEC || inet_ntop(family, bytes, text, sizeof text) == nullptr) {
    return {};
  }
  return text;
}

// "localhost, 127.0.0.1": the DNS and IP subject alternative names of a certificate.
std::string subject_alt_names(X509* cert) {
  std::string names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    std::string text;
    if (name->type == GEN_DNS) {
      text.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                  static_cast<size_t>(ASN1_STRING_length(name->d.dNSName)));
    } else if (name->type == GEN_IPADD) {
      text = ip_text(ASN1_STRING_get0_data(name->d.iPAddress), ASN1_STRING_length(name->d.iPAddress));
    }
    if (!text.empty()) {
      names += (names.empty() ? "" : ", ") + text;
    }
  }
  GENERAL_NAMES_free(sans);
  return names;
}

// Only observes: the verdict stays OpenSSL's. A failed hostname check is the one place where the certificate's
// names are at hand, and "valid for X, not Y" is what a user needs to fix the script or the target.
int on_verify_cb(int preverify_ok, X509_STORE_CTX* store) {
  const int error = X509_STORE_CTX_get_error(store);
  if (preverify_ok == 1 || (error != X509_V_ERR_HOSTNAME_MISMATCH && error != X509_V_ERR_IP_ADDRESS_MISMATCH)) {
    return preverify_ok;
  }
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* link = ssl != nullptr ? static_cast<SslLink*>(SSL_get_ex_data(ssl, link_index())) : nullptr;
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  if (link != nullptr && cert != nullptr) {
    link->peer_names = subject_alt_names(cert);
  }
  return preverify_ok;
}

std::string alpn_wire_format(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& protocol : protocols) {
    if (protocol.empty() || protocol.size() > 255) {
      continue;
    }
    wire.push_back(static_cast<char>(protocol.size()));
    wire += protocol;
  }
  return wire;
}

std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  return reason != nullptr ? reason : "unknown error";
}

bool configure(SSL_CTX* ctx, const ClientOptions& options, std::string* error) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Idle connections of thousands of VUs add up; OpenSSL can drop its 34 KiB of record buffers between reads.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_verify(ctx, options.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, on_verify_cb);
  if (!options.ca_file.empty() && SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
    *error = "cannot load CA file '" + options.ca_file + "': " + openssl_reason();
    return false;
  }
  const std::string alpn = alpn_wire_format(options.alpn);
  if (!alpn.empty() && SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(alpn.data()),
                                                static_cast<unsigned int>(alpn.size())) != 0) {
    *error = "cannot set ALPN protocols: " + openssl_reason();
    return false;
  }
  // We keep client sessions ourselves, keyed by host:port; OpenSSL's internal store is for servers.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session_cb);
  return true;
}

}  // namespace

ClientContext::Impl::Impl(SSL_CTX* ctx, bool verify_peer, size_t session_cache_size)
    : ctx_(ctx), verify_peer_(verify_peer), sessions_(session_cache_size) {
  SSL_CTX_set_app_data(ctx_, this);
}

ClientContext::Impl::~Impl() {
  LUALOAD_CHECK(live_sessions_ == 0, "ClientContext destroyed before its ClientSessions");
  SSL_CTX_free(ctx_);
}

void ClientContext::Impl::load_system_store_once() {
  if (system_store_loaded_ || !verify_peer_) return;
  system_store_loaded_ = true;
  if (SSL_CTX_set_default_verify_paths(ctx_) != 1) {
    ERR_clear_error();  // No system store is not fatal: --ca may be all the user needs.
  }
}

SSL* ClientContext::Impl::new_ssl(SslLink* link) {
  load_system_store_once();
  SSL* ssl = SSL_new(ctx_);
  LUALOAD_CHECK(ssl != nullptr, "SSL_new failed");
  SSL_set_ex_data(ssl, link_index(), link);
  ++live_sessions_;
  return ssl;
}

std::unique_ptr<ClientContext> ClientContext::create(const ClientOptions& options, std::string* error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    *error = "cannot create TLS context: " + openssl_reason();
    return nullptr;
  }
  if (!configure(ctx, options, error)) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  const size_t cache_size = options.session_cache_size > 0 ? options.session_cache_size : 1;
  return std::unique_ptr<ClientContext>(
      new ClientContext(std::make_unique<Impl>(ctx, options.verify_peer, cache_size)));
}

ClientContext::ClientContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClientContext::~ClientContext() = default;

SSL_CTX* ClientContext::native() const { return impl_->ctx(); }

bool ClientContext::verify_peer() const { return impl_->verify_peer(); }

size_t ClientContext::cached_sessions() const { return impl_->sessions().size(); }

}  // namespace luaload::engine::tls
