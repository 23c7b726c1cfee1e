// Ownable objects: the shared envelope {id, type, version, owner,
// created_height, updated_height, body}, its state record and owner index,
// object id derivation, and the gas that object ops pay. Code assets use it
// now and model NFTs will reuse it.
#pragma once

#include "automata/execution/gas.h"
#include "automata/execution/overlay.h"
#include "automata/execution/result_code.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace automata::v1 {
class CreatedObject;
class ObjectEnvelope;
}  // namespace automata::v1

namespace automata::objects {

using execution::ResultCode;

// Gas of object and code ops, charged on top of gas::kPerOp. docs/gas.md
// lists the same table.
namespace gas {
// Per object, version, tree, proposal or offer record read from state.
inline constexpr uint64_t kPerObjectRead = 300;
// Per such record written or deleted.
inline constexpr uint64_t kPerObjectWrite = 1'500;
// Per byte of a blob newly stored (a blob already on chain costs one read).
inline constexpr uint64_t kPerBlobByte = 4;
// Per entry of a content tree that an op validates and hashes.
inline constexpr uint64_t kPerTreeEntry = 150;
}  // namespace gas

// Object types stored in ObjectEnvelope.type.
inline constexpr std::string_view kTypeRepository = "code.repository";
inline constexpr std::string_view kTypeComposite = "code.composite";

// Maximum nesting of composites walked by royalties and cycle checks.
inline constexpr int kMaxCompositeDepth = 8;

// Everything an object or code op may touch while it runs.
struct ObjectContext {
  execution::Overlay* state = nullptr;  // the op's overlay; discarded on failure
  execution::GasMeter* gas = nullptr;
  Address signer{};
  Hash32 tx_hash{};
  uint64_t tx_nonce = 0;                // the nonce the tx was signed with
  uint32_t op_index = 0;
  uint64_t height = 0;                  // height of the block being applied
  // Objects the op creates are appended here (kind and id); may be null.
  std::vector<v1::CreatedObject>* created = nullptr;
};

// The outcome of an op that did not hit a storage error: kOk, or a code
// and a log naming the value and the rule.
struct OpResult {
  ResultCode code = ResultCode::kOk;
  std::string log;

  bool ok() const { return code == ResultCode::kOk; }
};

inline OpResult fail(ResultCode code, std::string log) { return {code, std::move(log)}; }

// SHA-256("automata/object" || tx_hash || big-endian u32 op_index): the id
// of the object, proposal or offer created by that op.
Hash32 derive_object_id(const Hash32& tx_hash, uint32_t op_index);

// Records an object the op created in context.created (when set).
void record_created(ObjectContext& context, std::string_view kind, ByteView id);

// Writes an index entry (key -> 0x01).
void put_index(execution::Overlay& state, Bytes key);

// Consumes amount gas. kOutOfGas naming what was being paid for when the
// limit is reached.
OpResult charge(ObjectContext& context, uint64_t amount, std::string_view what);

// Reads a protobuf record stored under key into message. found is false for
// an absent key. Returns corruption, naming the key, for a value that does
// not parse, and the storage error when the read fails.
template <typename Message>
Status read_record(execution::StateReader& state, const Bytes& key, Message* message, bool* found) {
  std::optional<Bytes> value;
  Status status = state.get(key, &value);
  *found = false;
  if (!status.is_ok()) return status;
  if (!value) return Status::ok();
  if (!message->ParseFromArray(value->data(), static_cast<int>(value->size()))) {
    return Status::corruption("state value under key " + to_hex(key) + " does not parse as " +
                              message->GetTypeName());
  }
  *found = true;
  return Status::ok();
}

// Serializes message under key.
template <typename Message>
void write_record(execution::Overlay& state, Bytes key, const Message& message) {
  Bytes value(message.ByteSizeLong());
  message.SerializeWithCachedSizesToArray(value.data());
  state.put(std::move(key), std::move(value));
}

// Loads the envelope of id, charging one object read. result is
// kObjectNotFound when absent.
Status load_object(ObjectContext& context, ByteView id, v1::ObjectEnvelope* object, OpResult* result);

// Writes the envelope, bumping version and updated_height, and charging one
// object write.
OpResult store_object(ObjectContext& context, v1::ObjectEnvelope* object);

// Checks that the signer owns object directly and that it is not wrapped
// in a composite. action names the op in the log ("transfer", "commit").
OpResult require_owner(const ObjectContext& context, const v1::ObjectEnvelope& object, std::string_view action);

// Moves the owner index entry of object from its current owner to
// new_owner (empty for "no owner", as while wrapped) and sets the owner.
void set_owner(ObjectContext& context, v1::ObjectEnvelope* object, ByteView new_owner);

// Bech32m address text of 20 raw bytes, or their hex when the length is
// wrong (for logs).
std::string address_text(ByteView raw);

Address to_address(ByteView raw);

}  // namespace automata::objects
