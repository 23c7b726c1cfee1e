#include "p2p/frame.h"

namespace automata::p2p {

std::array<uint8_t, kFrameHeaderSize> encode_frame_header(uint8_t type, uint32_t payload_size) {
  const uint32_t length = payload_size + 1;
  return {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16), static_cast<uint8_t>(length >> 8),
          static_cast<uint8_t>(length), type};
}

Bytes encode_frame(uint8_t type, ByteView payload) {
  const auto header = encode_frame_header(type, static_cast<uint32_t>(payload.size()));
  Bytes frame(header.begin(), header.end());
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

std::optional<FrameHeader> decode_frame_header(const std::array<uint8_t, kFrameHeaderSize>& header) {
  const uint32_t length = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) | (uint32_t{header[2]} << 8) |
                          uint32_t{header[3]};
  if (length == 0) return std::nullopt;
  return FrameHeader{header[4], length - 1};
}

std::optional<uint32_t> frame_cap(const FrameCaps& caps, uint8_t type) {
  switch (type) {
    case kTypeHandshake:
      return kHandshakeCap;
    case kTypePing:
    case kTypePong:
      return kPingCap;
    default:
      break;
  }
  for (Channel channel : kAllChannels) {
    if (static_cast<uint8_t>(channel) == type) return caps.for_channel(channel);
  }
  return std::nullopt;
}

}  // namespace automata::p2p
