// Stateless shape checks of the model ops (stage 1).
#include "automata/crypto/model_content.h"
#include "automata/modules/model/model.h"
#include "automata/modules/model/placement.h"
#include "automata/v1/model.pb.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace automata::model {

namespace {

ResultCode invalid(std::string* log, std::string message) {
  *log = std::move(message);
  return ResultCode::kInvalidOp;
}

ResultCode check_id(const std::string& id, std::string_view field, std::string* log) {
  if (id.size() != 32) return invalid(log, fmt::format("{} is {} bytes; a model id is 32 bytes", field, id.size()));
  return ResultCode::kOk;
}

ResultCode check_address(const std::string& address, std::string_view field, std::string* log) {
  if (address.size() != 20) {
    *log = fmt::format("{} is {} bytes; an address is 20 bytes", field, address.size());
    return ResultCode::kInvalidAddress;
  }
  return ResultCode::kOk;
}

ResultCode check_format(const std::string& format, std::string_view field, std::string* log) {
  if (std::find(std::begin(kFormats), std::end(kFormats), format) == std::end(kFormats)) {
    return invalid(log, fmt::format("{} '{}' is not one of onnx, safetensors, gguf, other", field, format));
  }
  return ResultCode::kOk;
}

ResultCode check_string(const std::string& value, std::string_view field, std::string* log) {
  if (value.size() > kMaxMetadataStringBytes) {
    return invalid(log, fmt::format("{} is {} bytes; the maximum is {}", field, value.size(), kMaxMetadataStringBytes));
  }
  return ResultCode::kOk;
}

template <typename Repeated>
ResultCode check_count(const Repeated& entries, std::string_view field, std::string* log) {
  if (static_cast<size_t>(entries.size()) > kMaxMetadataEntries) {
    return invalid(log, fmt::format("{} has {} entries; the maximum is {}", field, entries.size(),
                                    kMaxMetadataEntries));
  }
  return ResultCode::kOk;
}

ResultCode check_tensors(const google::protobuf::RepeatedPtrField<v1::TensorInfo>& tensors, std::string_view field,
                         std::string* log) {
  ResultCode code = check_count(tensors, field, log);
  if (code != ResultCode::kOk) return code;
  for (int i = 0; i < tensors.size(); ++i) {
    const v1::TensorInfo& tensor = tensors[i];
    std::string prefix = fmt::format("{}[{}]", field, i);
    if ((code = check_string(tensor.name(), prefix + ".name", log)) != ResultCode::kOk) return code;
    if ((code = check_string(tensor.elem_type(), prefix + ".elem_type", log)) != ResultCode::kOk) return code;
    if ((code = check_count(tensor.dims(), prefix + ".dims", log)) != ResultCode::kOk) return code;
    for (int d = 0; d < tensor.dims_size(); ++d) {
      code = check_string(tensor.dims(d), fmt::format("{}.dims[{}]", prefix, d), log);
      if (code != ResultCode::kOk) return code;
    }
  }
  return ResultCode::kOk;
}

// The manifest and envelopes of a rekey or update: the owner envelope and
// lease envelopes, at most one per recipient. model_id is checked by the
// caller because only the standalone op carries one.
ResultCode check_content(const v1::ModelRekey& content, std::string_view field, std::string* log) {
  if (!content.has_manifest()) return invalid(log, fmt::format("{}.manifest is missing", field));
  ResultCode code = check_manifest(content.manifest(), fmt::format("{}.manifest", field), log);
  if (code != ResultCode::kOk) return code;
  if (!content.has_owner_envelope()) return invalid(log, fmt::format("{}.owner_envelope is missing", field));
  code = check_envelope(content.owner_envelope(), fmt::format("{}.owner_envelope", field), log);
  if (code != ResultCode::kOk) return code;
  std::set<std::string> recipients{content.owner_envelope().recipient()};
  for (int i = 0; i < content.lease_envelopes_size(); ++i) {
    std::string name = fmt::format("{}.lease_envelopes[{}]", field, i);
    code = check_envelope(content.lease_envelopes(i), name, log);
    if (code != ResultCode::kOk) return code;
    if (!recipients.insert(content.lease_envelopes(i).recipient()).second) {
      return invalid(log, fmt::format("{}.recipient repeats a recipient; each recipient gets one envelope", name));
    }
  }
  return ResultCode::kOk;
}

// Content embedded in a transfer or update is named by the outer op, so a
// model_id of its own would be a second, possibly different, name.
ResultCode check_embedded_content(const v1::ModelRekey& content, std::string_view field, std::string* log) {
  if (content.model_id().empty()) return ResultCode::kOk;
  return invalid(log, fmt::format("{}.model_id is set ({} bytes); it must be empty inside {}, which names the model "
                                  "in its own model_id",
                                  field, content.model_id().size(), field.substr(0, field.find('.'))));
}

}  // namespace

ResultCode check_manifest(const v1::ModelManifest& manifest, std::string_view field, std::string* log) {
  uint64_t size = manifest.fragment_size();
  if (size < kMinFragmentSize || size > kMaxFragmentSize) {
    return invalid(log, fmt::format("{}.fragment_size {} is outside [{}, {}] bytes", field, size, kMinFragmentSize,
                                    kMaxFragmentSize));
  }
  if (manifest.total_size() == 0) return invalid(log, fmt::format("{}.total_size is 0; a model has content", field));
  uint64_t expected = manifest.total_size() / size + (manifest.total_size() % size != 0 ? 1 : 0);
  if (manifest.fragment_count() != expected) {
    return invalid(log, fmt::format("{}.fragment_count {} is not ceil(total_size {} / fragment_size {}) = {}", field,
                                    manifest.fragment_count(), manifest.total_size(), size, expected));
  }
  if (manifest.fragment_count() > kMaxFragmentCount) {
    return invalid(log, fmt::format("{}.fragment_count {} is above the maximum {}", field, manifest.fragment_count(),
                                    kMaxFragmentCount));
  }
  if (manifest.fragments_root().size() != 32) {
    return invalid(log, fmt::format("{}.fragments_root is {} bytes; a Merkle root is 32 bytes", field,
                                    manifest.fragments_root().size()));
  }
  if (manifest.plaintext_sha256().size() != 32) {
    return invalid(log, fmt::format("{}.plaintext_sha256 is {} bytes; a SHA-256 digest is 32 bytes", field,
                                    manifest.plaintext_sha256().size()));
  }
  if (manifest.cipher_suite() != crypto::kModelCipherSuite) {
    return invalid(log, fmt::format("{}.cipher_suite '{}' is not the supported suite '{}'", field,
                                    manifest.cipher_suite(), crypto::kModelCipherSuite));
  }
  return ResultCode::kOk;
}

ResultCode check_metadata(const v1::ModelMetadata& metadata, std::string_view field, std::string* log) {
  std::string prefix(field);
  ResultCode code = ResultCode::kOk;
  if ((code = check_string(metadata.producer_name(), prefix + ".producer_name", log)) != ResultCode::kOk) return code;
  if ((code = check_string(metadata.producer_version(), prefix + ".producer_version", log)) != ResultCode::kOk) {
    return code;
  }
  if ((code = check_string(metadata.architecture(), prefix + ".architecture", log)) != ResultCode::kOk) return code;
  if ((code = check_string(metadata.model_name(), prefix + ".model_name", log)) != ResultCode::kOk) return code;
  if ((code = check_count(metadata.opsets(), prefix + ".opsets", log)) != ResultCode::kOk) return code;
  for (int i = 0; i < metadata.opsets_size(); ++i) {
    code = check_string(metadata.opsets(i).domain(), fmt::format("{}.opsets[{}].domain", field, i), log);
    if (code != ResultCode::kOk) return code;
  }
  if ((code = check_count(metadata.dtypes(), prefix + ".dtypes", log)) != ResultCode::kOk) return code;
  for (int i = 0; i < metadata.dtypes_size(); ++i) {
    code = check_string(metadata.dtypes(i), fmt::format("{}.dtypes[{}]", field, i), log);
    if (code != ResultCode::kOk) return code;
  }
  if ((code = check_tensors(metadata.inputs(), prefix + ".inputs", log)) != ResultCode::kOk) return code;
  return check_tensors(metadata.outputs(), prefix + ".outputs", log);
}

ResultCode check_envelope(const v1::KeyEnvelope& envelope, std::string_view field, std::string* log) {
  ResultCode code = check_address(envelope.recipient(), fmt::format("{}.recipient", field), log);
  if (code != ResultCode::kOk) return code;
  if (envelope.ephemeral_pubkey().size() != kEphemeralPubkeyBytes) {
    return invalid(log, fmt::format("{}.ephemeral_pubkey is {} bytes; a compressed public key is {} bytes", field,
                                    envelope.ephemeral_pubkey().size(), kEphemeralPubkeyBytes));
  }
  if (envelope.sealed_key().size() != kSealedKeyBytes) {
    return invalid(log, fmt::format("{}.sealed_key is {} bytes; a sealed content key is {} bytes", field,
                                    envelope.sealed_key().size(), kSealedKeyBytes));
  }
  return ResultCode::kOk;
}

ResultCode check_register(const v1::ModelRegister& op, std::string* log) {
  if (op.name().empty() || op.name().size() > kMaxNameBytes) {
    return invalid(log, fmt::format("model_register.name is {} bytes; it must be 1 to {} bytes", op.name().size(),
                                    kMaxNameBytes));
  }
  ResultCode code = check_format(op.format(), "model_register.format", log);
  if (code != ResultCode::kOk) return code;
  code = check_metadata(op.metadata(), "model_register.metadata", log);
  if (code != ResultCode::kOk) return code;
  if (op.license().size() > kMaxLicenseBytes) {
    return invalid(log, fmt::format("model_register.license is {} bytes; the maximum is {}", op.license().size(),
                                    kMaxLicenseBytes));
  }
  if (static_cast<size_t>(op.base_models_size()) > kMaxBaseModels) {
    return invalid(log, fmt::format("model_register.base_models has {} entries; the maximum is {}",
                                    op.base_models_size(), kMaxBaseModels));
  }
  std::set<std::string> seen;
  for (int i = 0; i < op.base_models_size(); ++i) {
    code = check_id(op.base_models(i), fmt::format("model_register.base_models[{}]", i), log);
    if (code != ResultCode::kOk) return code;
    if (!seen.insert(op.base_models(i)).second) {
      return invalid(log, fmt::format("model_register.base_models[{}] {} is listed twice", i,
                                      to_hex(as_view(op.base_models(i)))));
    }
  }
  if (op.royalty_bps() > kMaxRoyaltyBps) {
    return invalid(log, fmt::format("model_register.royalty_bps {} is above the maximum {}", op.royalty_bps(),
                                    kMaxRoyaltyBps));
  }
  if (!op.has_manifest()) return invalid(log, "model_register.manifest is missing");
  code = check_manifest(op.manifest(), "model_register.manifest", log);
  if (code != ResultCode::kOk) return code;
  if (!op.has_owner_envelope()) return invalid(log, "model_register.owner_envelope is missing");
  return check_envelope(op.owner_envelope(), "model_register.owner_envelope", log);
}

ResultCode check_transfer(const v1::ModelTransfer& op, std::string* log) {
  ResultCode code = check_id(op.model_id(), "model_transfer.model_id", log);
  if (code != ResultCode::kOk) return code;
  code = check_address(op.to(), "model_transfer.to", log);
  if (code != ResultCode::kOk) return code;
  if (!op.has_new_owner_envelope()) return invalid(log, "model_transfer.new_owner_envelope is missing");
  code = check_envelope(op.new_owner_envelope(), "model_transfer.new_owner_envelope", log);
  if (code != ResultCode::kOk) return code;
  if (!op.has_rekey()) return ResultCode::kOk;
  code = check_embedded_content(op.rekey(), "model_transfer.rekey", log);
  if (code != ResultCode::kOk) return code;
  return check_content(op.rekey(), "model_transfer.rekey", log);
}

ResultCode check_lease(const v1::ModelLease& op, std::string* log) {
  ResultCode code = check_id(op.model_id(), "model_lease.model_id", log);
  if (code != ResultCode::kOk) return code;
  code = check_address(op.grantee(), "model_lease.grantee", log);
  if (code != ResultCode::kOk) return code;
  if (op.expiry_height() == 0) return invalid(log, "model_lease.expiry_height is 0; a lease needs a last height");
  if (!op.has_envelope()) return invalid(log, "model_lease.envelope is missing");
  return check_envelope(op.envelope(), "model_lease.envelope", log);
}

ResultCode check_deliver_key(const v1::ModelDeliverKey& op, std::string* log) {
  ResultCode code = check_id(op.model_id(), "model_deliver_key.model_id", log);
  if (code != ResultCode::kOk) return code;
  if (!op.has_envelope()) return invalid(log, "model_deliver_key.envelope is missing");
  return check_envelope(op.envelope(), "model_deliver_key.envelope", log);
}

ResultCode check_burn(const v1::ModelBurn& op, std::string* log) {
  return check_id(op.model_id(), "model_burn.model_id", log);
}

ResultCode check_update(const v1::ModelUpdate& op, std::string* log) {
  ResultCode code = check_id(op.model_id(), "model_update.model_id", log);
  if (code != ResultCode::kOk) return code;
  code = check_format(op.format(), "model_update.format", log);
  if (code != ResultCode::kOk) return code;
  code = check_metadata(op.metadata(), "model_update.metadata", log);
  if (code != ResultCode::kOk) return code;
  if (!op.has_content()) return invalid(log, "model_update.content is missing");
  code = check_embedded_content(op.content(), "model_update.content", log);
  if (code != ResultCode::kOk) return code;
  return check_content(op.content(), "model_update.content", log);
}

ResultCode check_rekey(const v1::ModelRekey& op, std::string* log) {
  if (op.model_id().empty()) {
    return invalid(log, "model_rekey.model_id is missing; the standalone op must name the model to rekey");
  }
  ResultCode code = check_id(op.model_id(), "model_rekey.model_id", log);
  if (code != ResultCode::kOk) return code;
  return check_content(op, "model_rekey", log);
}

ResultCode check_attest(const v1::ModelAttest& op, std::string* log) {
  ResultCode code = check_id(op.model_id(), "model_attest.model_id", log);
  if (code != ResultCode::kOk) return code;
  if (op.indices_size() == 0) return invalid(log, "model_attest.indices is empty; attest at least one fragment");
  if (static_cast<size_t>(op.indices_size()) > kMaxAttestIndices) {
    return invalid(log, fmt::format("model_attest.indices has {} entries; the maximum is {}", op.indices_size(),
                                    kMaxAttestIndices));
  }
  for (int i = 1; i < op.indices_size(); ++i) {
    if (op.indices(i) <= op.indices(i - 1)) {
      return invalid(log, fmt::format("model_attest.indices[{}] {} does not follow {}; indices must be sorted "
                                      "ascending and distinct",
                                      i, op.indices(i), op.indices(i - 1)));
    }
  }
  return ResultCode::kOk;
}

}  // namespace automata::model
