#include "verified_set.h"

namespace automata::execution {

void VerifiedSet::insert(const Hash32& tx_hash, const crypto::Signature& signature) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] = entries_.insert_or_assign(tx_hash, signature);
  if (!inserted) return;
  order_.push_back(tx_hash);
  while (order_.size() > capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

bool VerifiedSet::contains(const Hash32& tx_hash, const crypto::Signature& signature) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(tx_hash);
  return it != entries_.end() && it->second == signature;
}

size_t VerifiedSet::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

}  // namespace automata::execution
