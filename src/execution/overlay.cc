#include "automata/execution/overlay.h"

namespace automata::execution {

Status TreeReader::get(ByteView key, std::optional<Bytes>* value) {
  return tree_->get_latest(key, value);
}

Status CachingReader::get(ByteView key, std::optional<Bytes>* value) {
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    *value = it->second;
    return Status::ok();
  }
  Status status = parent_->get(key, value);
  if (!status.is_ok()) return status;
  cache_.emplace(Bytes(key.begin(), key.end()), *value);
  return Status::ok();
}

Status Overlay::get(ByteView key, std::optional<Bytes>* value) {
  auto it = writes_.find(key);
  if (it != writes_.end()) {
    *value = it->second;
    return Status::ok();
  }
  return parent_->get(key, value);
}

void Overlay::put(Bytes key, Bytes value) {
  writes_.insert_or_assign(std::move(key), std::optional<Bytes>(std::move(value)));
}

void Overlay::erase(Bytes key) {
  writes_.insert_or_assign(std::move(key), std::nullopt);
}

state::ChangeSet Overlay::take_writes() {
  // Both maps order keys the same way, so each node goes to the end of out
  // without a key copy or a search.
  state::ChangeSet out;
  while (!writes_.empty()) out.insert(out.end(), writes_.extract(writes_.begin()));
  return out;
}

void Overlay::merge_into(Overlay* parent) {
  // Node handles move keys and values without copying them.
  while (!writes_.empty()) {
    auto result = parent->writes_.insert(writes_.extract(writes_.begin()));
    if (!result.inserted) result.position->second = std::move(result.node.mapped());
  }
}

}  // namespace automata::execution
