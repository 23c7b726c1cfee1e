#include "automata/execution/fee_collector.h"

#include "automata/crypto/sha256.h"

#include <algorithm>

namespace automata::execution {

const Address& fee_collector_address() {
  static const Address address = [] {
    Hash32 digest = crypto::sha256(as_view(kFeeCollectorSeed));
    Address out{};
    std::copy_n(digest.begin(), out.size(), out.begin());
    return out;
  }();
  return address;
}

}  // namespace automata::execution
