// The height key helpers of database.h. They live apart from the RocksDB
// code so that a binary that needs only them, such as the CLI through the
// state proof code, does not link RocksDB and run its static initializers.
#include "automata/storage/database.h"

namespace automata::storage {

Bytes encode_height(uint64_t height) {
  Bytes out(8);
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<uint8_t>(height & 0xff);
    height >>= 8;
  }
  return out;
}

uint64_t decode_height(ByteView bytes) {
  if (bytes.size() < 8) return 0;
  uint64_t height = 0;
  for (size_t i = 0; i < 8; ++i) height = (height << 8) | bytes[i];
  return height;
}

}  // namespace automata::storage
