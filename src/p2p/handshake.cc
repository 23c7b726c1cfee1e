#include "p2p/handshake.h"

#include "automata/crypto/sha256.h"
#include "automata/p2p/network.h"
#include "automata/v1/p2p.pb.h"

namespace automata::p2p {
namespace {

constexpr std::string_view kDomainTag = "automata/p2p/handshake/v1";

}  // namespace

Hash32 handshake_sign_digest(const Hash32& keying_material) {
  return crypto::sha256_concat({as_view(kDomainTag), ByteView(keying_material)});
}

Bytes encode_handshake(const crypto::PrivateKey& key, const std::string& chain_id, const std::string& listen_address,
                       const Hash32& keying_material) {
  const Hash32 digest = handshake_sign_digest(keying_material);
  const crypto::Signature signature = key.sign(digest);
  const crypto::PublicKey pubkey = key.public_key();

  v1::P2pHandshake message;
  message.set_node_pubkey(pubkey.data(), pubkey.size());
  message.set_chain_id(chain_id);
  message.set_protocol_version(kProtocolVersion);
  message.set_listen_address(listen_address);
  message.set_signature(signature.data(), signature.size());
  return to_bytes(message.SerializeAsString());
}

std::optional<HandshakeFields> check_handshake(ByteView payload, const Hash32& keying_material,
                                               const std::string& chain_id, std::string* reason) {
  v1::P2pHandshake message;
  if (!message.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    *reason = "malformed handshake: not a P2pHandshake message";
    return std::nullopt;
  }
  const auto pubkey = to_array<32>(as_view(message.node_pubkey()));
  if (!pubkey) {
    *reason = "malformed handshake: node_pubkey is " + std::to_string(message.node_pubkey().size()) +
              " bytes, expected 32";
    return std::nullopt;
  }
  if (message.protocol_version() != kProtocolVersion) {
    *reason = "protocol version " + std::to_string(message.protocol_version()) + " differs from ours (" +
              std::to_string(kProtocolVersion) + ")";
    return std::nullopt;
  }
  if (message.chain_id() != chain_id) {
    *reason = "chain id '" + message.chain_id() + "' differs from ours ('" + chain_id + "')";
    return std::nullopt;
  }
  const Hash32 digest = handshake_sign_digest(keying_material);
  if (!crypto::verify(ByteView(*pubkey), digest, as_view(message.signature()))) {
    *reason = "invalid handshake signature for node key " + to_hex(*pubkey);
    return std::nullopt;
  }
  return HandshakeFields{*pubkey, message.chain_id(), message.protocol_version(), message.listen_address()};
}

}  // namespace automata::p2p
