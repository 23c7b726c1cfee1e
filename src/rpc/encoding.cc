#include "rpc/encoding.h"

#include "automata/crypto/bech32.h"
#include "automata/crypto/keys.h"
#include "automata/crypto/sha256.h"
#include "automata/execution/result_code.h"
#include "automata/rpc/handler.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/state.pb.h"
#include "automata/v1/tx.pb.h"
#include "rpc/params.h"

namespace automata::rpc {

using nlohmann::json;

namespace {

std::string hex_of(const std::string& raw) { return to_hex(as_view(raw)); }

template <typename Coins>
json encode_coins(const Coins& coins) {
  json out = json::array();
  for (const auto& coin : coins) out.push_back({{"denom", coin.denom()}, {"amount", coin.amount()}});
  return out;
}

// Encodes any message field by field with its proto field names: bytes of
// 20 bytes as atm1 addresses, other bytes as hex, 64-bit integers as JSON
// numbers. Used for ops that have no hand-written encoding.
json encode_message(const google::protobuf::Message& message);

json encode_field_value(const google::protobuf::Message& message, const google::protobuf::FieldDescriptor* field,
                        int index) {
  using google::protobuf::FieldDescriptor;
  const auto* reflection = message.GetReflection();
  bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string value = repeated ? reflection->GetRepeatedString(message, field, index)
                                   : reflection->GetString(message, field);
      if (field->type() != FieldDescriptor::TYPE_BYTES) return value;
      return value.size() == 20 ? address_text(value) : hex_of(value);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return encode_message(repeated ? reflection->GetRepeatedMessage(message, field, index)
                                     : reflection->GetMessage(message, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return repeated ? reflection->GetRepeatedBool(message, field, index) : reflection->GetBool(message, field);
    case FieldDescriptor::CPPTYPE_UINT32:
      return repeated ? reflection->GetRepeatedUInt32(message, field, index) : reflection->GetUInt32(message, field);
    case FieldDescriptor::CPPTYPE_UINT64:
      return repeated ? reflection->GetRepeatedUInt64(message, field, index) : reflection->GetUInt64(message, field);
    case FieldDescriptor::CPPTYPE_INT32:
      return repeated ? reflection->GetRepeatedInt32(message, field, index) : reflection->GetInt32(message, field);
    case FieldDescriptor::CPPTYPE_INT64:
      return repeated ? reflection->GetRepeatedInt64(message, field, index) : reflection->GetInt64(message, field);
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* value = repeated ? reflection->GetRepeatedEnum(message, field, index)
                                   : reflection->GetEnum(message, field);
      return value->name();
    }
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      break;  // no op carries floating point
  }
  return nullptr;
}

json encode_message(const google::protobuf::Message& message) {
  json out = json::object();
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (field->is_repeated()) {
      json items = json::array();
      for (int j = 0; j < reflection->FieldSize(message, field); ++j) items.push_back(encode_field_value(message, field, j));
      out[field->name()] = std::move(items);
    } else {
      out[field->name()] = encode_field_value(message, field, 0);
    }
  }
  return out;
}

json encode_op(const v1::Op& op) {
  switch (op.kind_case()) {
    case v1::Op::kTransfer:
      return {{"transfer", {{"to", address_text(op.transfer().to())}, {"amount", encode_coins(op.transfer().amount())}}}};
    case v1::Op::kMultiSend: {
      json outputs = json::array();
      for (const auto& output : op.multi_send().outputs()) {
        outputs.push_back({{"to", address_text(output.to())}, {"amount", encode_coins(output.amount())}});
      }
      return {{"multi_send", {{"outputs", outputs}}}};
    }
    case v1::Op::KIND_NOT_SET:
      return json::object();
    default:
      break;
  }
  // Every other op kind: {"<oneof field name>": {fields...}}.
  const auto* field = op.GetDescriptor()->FindFieldByNumber(static_cast<int>(op.kind_case()));
  if (field == nullptr) return json::object();
  return {{field->name(), encode_message(op.GetReflection()->GetMessage(op, field))}};
}

}  // namespace

std::string address_text(const std::string& raw) {
  auto address = to_array<20>(as_view(raw));
  if (!address) return hex_of(raw);
  return crypto::encode_address(*address);
}

json encode_header(const v1::BlockHeader& header) {
  return {
      {"chain_id", header.chain_id()},
      {"height", header.height()},
      {"time_ms", header.time_ms()},
      {"prev_hash", hex_of(header.prev_hash())},
      {"tx_root", hex_of(header.tx_root())},
      {"state_root", hex_of(header.state_root())},
      {"proposer", address_text(header.proposer())},
      {"validator_set_hash", hex_of(header.validator_set_hash())},
      {"tx_count", header.tx_count()},
      {"results_root", hex_of(header.results_root())},
  };
}

json encode_result(const v1::TxResult& result) {
  auto code = static_cast<execution::ResultCode>(result.code());
  return {
      {"hash", hex_of(result.tx_hash())},
      {"code", result.code()},
      {"name", std::string(execution::result_code_name(code))},
      {"log", result.log()},
      {"gas_used", result.gas_used()},
  };
}

json encode_block(const v1::Block& block, const v1::BlockResults& results) {
  v1::BlockHeader header;
  if (!header.ParseFromString(block.header_bytes())) {
    throw RpcError(kInternalError, "stored block header does not decode as automata.v1.BlockHeader");
  }
  Hash32 hash = crypto::sha256(as_view(block.header_bytes()));

  json txs = json::array();
  for (int i = 0; i < block.txs_size(); ++i) {
    v1::Tx tx;
    if (!tx.ParseFromString(block.txs(i))) {
      throw RpcError(kInternalError,
                     "stored tx " + std::to_string(i) + " of block " + std::to_string(header.height()) +
                         " does not decode as automata.v1.Tx");
    }
    txs.push_back(to_hex(crypto::sha256(as_view(tx.body_bytes()))));
  }

  json encoded_results = json::array();
  for (const auto& result : results.results()) encoded_results.push_back(encode_result(result));

  return {
      {"hash", to_hex(hash)},
      {"header", encode_header(header)},
      {"header_bytes", hex_of(block.header_bytes())},
      {"proposer_signature", hex_of(block.proposer_signature())},
      {"txs", txs},
      {"results", encoded_results},
  };
}

json encode_tx_body(const v1::TxBody& body) {
  std::string signer = hex_of(body.signer());
  if (auto pubkey = to_array<32>(as_view(body.signer()))) {
    signer = crypto::encode_address(crypto::address_of(*pubkey));
  }
  json ops = json::array();
  for (const auto& op : body.ops()) ops.push_back(encode_op(op));
  return {
      {"signer", signer},
      {"nonce", body.nonce()},
      {"fee", {{"denom", body.fee().denom()}, {"amount", body.fee().amount()}}},
      {"gas_limit", body.gas_limit()},
      {"expiry_height", body.expiry_height()},
      {"memo", body.memo()},
      {"ops", ops},
  };
}

json encode_balances(const v1::Account& account) { return encode_coins(account.balances()); }

}  // namespace automata::rpc
