#include "automata/p2p/network.h"

#include <charconv>

namespace automata::p2p {

PeerId peer_id_of(const crypto::PublicKey& pubkey) { return to_hex(pubkey); }

std::string_view channel_name(Channel channel) {
  switch (channel) {
    case Channel::kConsensus:
      return "consensus";
    case Channel::kBlocks:
      return "blocks";
    case Channel::kTransactions:
      return "transactions";
    case Channel::kEvidence:
      return "evidence";
    case Channel::kPeerExchange:
      return "peer_exchange";
    case Channel::kFragments:
      return "fragments";
  }
  return "unknown";
}

uint32_t FrameCaps::for_channel(Channel channel) const {
  switch (channel) {
    case Channel::kConsensus:
      return consensus;
    case Channel::kBlocks:
      return blocks;
    case Channel::kTransactions:
      return transactions;
    case Channel::kEvidence:
      return evidence;
    case Channel::kPeerExchange:
      return peer_exchange;
    case Channel::kFragments:
      return fragments;
  }
  return 0;
}

std::string PeerAddress::to_string() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return to_hex(pubkey) + "@" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Status parse_peer_address(std::string_view text, PeerAddress* out) {
  const std::string entry(text);
  const size_t at = text.find('@');
  if (at == std::string_view::npos) {
    return Status::invalid_argument("peer address '" + entry + "' has no '@': expected <pubkey hex>@host:port");
  }
  const auto key_bytes = from_hex(text.substr(0, at));
  if (!key_bytes || key_bytes->size() != 32) {
    return Status::invalid_argument("peer address '" + entry +
                                    "': the public key must be 64 hex characters (32-byte x-only key)");
  }

  std::string_view host_port = text.substr(at + 1);
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::invalid_argument("peer address '" + entry + "' has no host:port after '@'");
  }
  std::string_view host = host_port.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return Status::invalid_argument("peer address '" + entry + "': an IPv6 host must be in brackets");
    }
    host = host.substr(1, host.size() - 2);
  }

  const std::string_view port_text = host_port.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return Status::invalid_argument("peer address '" + entry + "': port must be a number from 1 to 65535");
  }
  std::copy(key_bytes->begin(), key_bytes->end(), out->pubkey.begin());
  out->host = std::string(host);
  out->port = static_cast<uint16_t>(port);
  return Status::ok();
}

}  // namespace automata::p2p
