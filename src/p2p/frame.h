// Frame layout: u32 big-endian length (of the type byte plus payload), u8
// message type, payload. Types below 0x10 are this layer's own messages.
#pragma once

#include "automata/p2p/network.h"

#include <array>
#include <cstdint>
#include <optional>

namespace automata::p2p {

inline constexpr uint8_t kTypeHandshake = 0x01;
inline constexpr uint8_t kTypePing = 0x02;
inline constexpr uint8_t kTypePong = 0x03;

inline constexpr size_t kFrameHeaderSize = 5;
inline constexpr uint32_t kHandshakeCap = 4096;
inline constexpr uint32_t kPingCap = 64;

// Returns the header for a payload of payload_size bytes.
std::array<uint8_t, kFrameHeaderSize> encode_frame_header(uint8_t type, uint32_t payload_size);

// Builds a whole frame: header plus payload.
Bytes encode_frame(uint8_t type, ByteView payload);

struct FrameHeader {
  uint8_t type = 0;
  uint32_t payload_size = 0;
};

// Decodes a header. Returns nullopt when the length field is 0, because every
// frame has at least its type byte.
std::optional<FrameHeader> decode_frame_header(const std::array<uint8_t, kFrameHeaderSize>& header);

// The payload cap of a message type, or nullopt for an unknown type.
std::optional<uint32_t> frame_cap(const FrameCaps& caps, uint8_t type);

}  // namespace automata::p2p
