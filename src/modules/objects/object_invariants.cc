#include "automata/modules/objects/object_invariants.h"

#include "automata/modules/objects/object_store.h"
#include "automata/types/state_keys.h"
#include "automata/v1/code_state.pb.h"

#include <fmt/format.h>

#include <algorithm>

namespace automata::objects {

namespace {

bool parse(const std::optional<Bytes>& value, v1::ObjectEnvelope* object) {
  return value && object->ParseFromArray(value->data(), static_cast<int>(value->size()));
}

// True when the composite stored under wrapper lists child among its
// children.
Status wrapper_lists(execution::StateReader& state, const std::string& wrapper, const std::string& child,
                     bool* listed) {
  *listed = false;
  v1::ObjectEnvelope object;
  bool found = false;
  Status status = read_record(state, keys::object(as_view(wrapper)), &object, &found);
  if (!status.is_ok() || !found) return status;
  v1::CodeAsset body;
  if (!body.ParseFromString(object.body())) return Status::ok();
  *listed = std::any_of(body.children().begin(), body.children().end(),
                        [&](const v1::ComposeChild& entry) { return entry.asset_id() == child; });
  return Status::ok();
}

Status check_wrapped(execution::Overlay& changes, const v1::ObjectEnvelope& object, std::string* problem) {
  std::string id_hex = to_hex(as_view(object.id()));
  if (!object.owner().empty()) {
    *problem = fmt::format("object {} is wrapped in {} but also owned by {}", id_hex,
                           to_hex(as_view(object.wrapped_by())), address_text(as_view(object.owner())));
    return Status::ok();
  }

  bool listed = false;
  Status status = wrapper_lists(changes, object.wrapped_by(), object.id(), &listed);
  if (!status.is_ok()) return status;
  if (!listed) {
    *problem = fmt::format("object {} is wrapped in {}, which does not list it as a child", id_hex,
                           to_hex(as_view(object.wrapped_by())));
    return Status::ok();
  }

  // Follow the wrappers upward; more steps than the nesting bound means a
  // cycle.
  std::string current = object.wrapped_by();
  for (int step = 0; step <= kMaxCompositeDepth; ++step) {
    if (current == object.id()) {
      *problem = fmt::format("object {} is wrapped, directly or not, in itself", id_hex);
      return Status::ok();
    }
    v1::ObjectEnvelope wrapper;
    bool found = false;
    status = read_record(changes, keys::object(as_view(current)), &wrapper, &found);
    if (!status.is_ok()) return status;
    if (!found || wrapper.wrapped_by().empty()) return Status::ok();
    current = wrapper.wrapped_by();
  }
  *problem = fmt::format("object {} sits under more than {} nested wrappers, or in an ownership cycle", id_hex,
                         kMaxCompositeDepth);
  return Status::ok();
}

}  // namespace

Status check_object_invariants(execution::Overlay& changes, std::string* problem) {
  problem->clear();
  for (const auto& [key, value] : changes.writes()) {
    if (key.empty() || key[0] != keys::kObjectTag) continue;
    std::optional<Bytes> previous_value;
    Status status = changes.parent()->get(key, &previous_value);
    if (!status.is_ok()) return status;
    std::string id_hex = to_hex(ByteView(key).subspan(1));

    v1::ObjectEnvelope before;
    v1::ObjectEnvelope after;
    bool had_before = parse(previous_value, &before);
    bool has_after = parse(value, &after);
    if (value && !has_after) {
      *problem = fmt::format("object {} was written with a value that does not parse", id_hex);
      return Status::ok();
    }
    bool was_wrapped = had_before && !before.wrapped_by().empty();
    if (was_wrapped) {
      bool still_listed = false;
      status = wrapper_lists(changes, before.wrapped_by(), before.id(), &still_listed);
      if (!status.is_ok()) return status;
      bool same_wrapper = has_after && after.wrapped_by() == before.wrapped_by();
      if (still_listed && !same_wrapper) {
        *problem = fmt::format("wrapped object {} was {} while composite {} still lists it", id_hex,
                               has_after ? "unwrapped or moved" : "deleted", to_hex(as_view(before.wrapped_by())));
        return Status::ok();
      }
      if (same_wrapper && (after.owner() != before.owner() || after.body() != before.body())) {
        *problem = fmt::format("wrapped object {} changed its owner or body inside composite {}", id_hex,
                               to_hex(as_view(before.wrapped_by())));
        return Status::ok();
      }
    }
    if (has_after && !after.wrapped_by().empty()) {
      status = check_wrapped(changes, after, problem);
      if (!status.is_ok() || !problem->empty()) return status;
    }
  }
  return Status::ok();
}

}  // namespace automata::objects
