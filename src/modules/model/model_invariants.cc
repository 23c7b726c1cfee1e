// Stage 4 checks of model NFTs: the index entries follow the model.
#include "automata/types/state_keys.h"
#include "model_store.h"

#include <fmt/format.h>

namespace automata::model {

namespace {

bool parse_model(const std::optional<Bytes>& value, v1::ObjectEnvelope* object, v1::ModelNft* body) {
  if (!value || !object->ParseFromArray(value->data(), static_cast<int>(value->size()))) return false;
  if (object->type() != kTypeModel) return false;
  return body->ParseFromString(object->body());
}

Status present(execution::StateReader& state, const Bytes& key, bool* found) {
  std::optional<Bytes> value;
  Status status = state.get(key, &value);
  *found = value.has_value();
  return status;
}

// Checks that each key's presence matches expected; problem names the
// first entry that does not.
Status expect_entries(execution::StateReader& state, const std::vector<std::pair<Bytes, std::string>>& entries,
                      bool expected, const std::string& model_hex, std::string* problem) {
  for (const auto& [key, name] : entries) {
    bool found = false;
    Status status = present(state, key, &found);
    if (!status.is_ok()) return status;
    if (found != expected) {
      *problem = fmt::format("model {} {} its {} entry", model_hex, expected ? "lacks" : "was deleted but keeps", name);
      return Status::ok();
    }
  }
  return Status::ok();
}

}  // namespace

Status check_model_invariants(execution::Overlay& changes, std::string* problem) {
  problem->clear();
  for (const auto& [key, value] : changes.writes()) {
    if (key.empty() || key[0] != keys::kObjectTag) continue;
    ByteView id = ByteView(key).subspan(1);
    std::string model_hex = to_hex(id);
    std::optional<Bytes> previous_value;
    Status status = changes.parent()->get(key, &previous_value);
    if (!status.is_ok()) return status;

    v1::ObjectEnvelope before;
    v1::ModelNft before_body;
    v1::ObjectEnvelope after;
    v1::ModelNft after_body;
    bool was_model = parse_model(previous_value, &before, &before_body);
    bool is_model = parse_model(value, &after, &after_body);
    if (!was_model && !is_model) continue;

    if (is_model) {
      if (after.owner().size() != 20) {
        *problem = fmt::format("model {} has an owner of {} bytes; a model is always owned by one address", model_hex,
                               after.owner().size());
        return Status::ok();
      }
      status = expect_entries(changes,
                              {{keys::owner_index(as_view(after.owner()), id), "owner index"},
                               {keys::model_index(id), "model index"},
                               {keys::creator_index(as_view(after_body.creator()), id), "creator index"}},
                              true, model_hex, problem);
      if (!status.is_ok() || !problem->empty()) return status;
      for (int i = 1; i < after_body.envelopes_size(); ++i) {
        if (after_body.envelopes(i - 1).recipient() >= after_body.envelopes(i).recipient()) {
          *problem = fmt::format("model {} has key envelopes out of order or repeated at position {}", model_hex, i);
          return Status::ok();
        }
      }
    }
    if (was_model && (!is_model || before.owner() != after.owner())) {
      status = expect_entries(changes, {{keys::owner_index(as_view(before.owner()), id), "previous owner index"}},
                              false, model_hex, problem);
      if (!status.is_ok() || !problem->empty()) return status;
    }
    if (was_model && !is_model) {
      status = expect_entries(changes,
                              {{keys::model_index(id), "model index"},
                               {keys::creator_index(as_view(before_body.creator()), id), "creator index"}},
                              false, model_hex, problem);
      if (!status.is_ok() || !problem->empty()) return status;
    }
  }
  return Status::ok();
}

}  // namespace automata::model
