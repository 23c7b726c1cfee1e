// Signing and checking the node handshake that follows the TLS handshake.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"

#include <string>

namespace automata::p2p {

// SHA-256(domain tag || keying material): the message each side signs.
// Both sides of one TLS session derive the same keying material, and no
// other session does, so the signature cannot be replayed elsewhere.
Hash32 handshake_sign_digest(const Hash32& keying_material);

struct HandshakeFields {
  crypto::PublicKey node_pubkey{};
  std::string chain_id;
  uint32_t protocol_version = 0;
  std::string listen_address;
};

// Encodes a signed P2pHandshake payload.
Bytes encode_handshake(const crypto::PrivateKey& key, const std::string& chain_id, const std::string& listen_address,
                       const Hash32& keying_material);

// Decodes and checks a peer's P2pHandshake payload against this session's
// keying material and this node's chain id. Returns the fields, or an empty
// optional with *reason set to why the handshake is rejected.
std::optional<HandshakeFields> check_handshake(ByteView payload, const Hash32& keying_material,
                                               const std::string& chain_id, std::string* reason);

}  // namespace automata::p2p
