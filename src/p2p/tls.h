// The TLS 1.3 context of a network and the keying material export that
// binds the node handshake to one TLS session.
#pragma once

#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <optional>

typedef struct ssl_st SSL;

namespace automata::p2p {

// Makes a context for both client and server roles, limited to TLS 1.3,
// with a fresh self-signed P-256 certificate. Peer certificates are not
// verified, because the node handshake authenticates the peer instead.
// Returns nullptr and sets *error when OpenSSL fails.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(Status* error);

// Returns 32 bytes exported from the TLS session (RFC 5705 and RFC 8446
// section 7.5) under this layer's fixed label, or nullopt when OpenSSL fails.
std::optional<Hash32> export_keying_material(SSL* ssl);

}  // namespace automata::p2p
