// JSON views of chain records, in the encodings of the JSON-RPC contract:
// lowercase hex without 0x, atm1... addresses, decimal-string amounts.
#pragma once

#include <nlohmann/json.hpp>

namespace automata::v1 {
class Account;
class Block;
class BlockHeader;
class BlockResults;
class TxBody;
class TxResult;
}  // namespace automata::v1

namespace automata::rpc {

// {"hash","header":{...},"header_bytes","proposer_signature","txs","results"}.
// Raises RpcError(kInternalError) when a stored header or tx does not decode.
nlohmann::json encode_block(const v1::Block& block, const v1::BlockResults& results);

nlohmann::json encode_header(const v1::BlockHeader& header);

// {"hash","code","name","log","gas_used"}.
nlohmann::json encode_result(const v1::TxResult& result);

// {"signer","nonce","fee","gas_limit","expiry_height","memo","ops"}.
nlohmann::json encode_tx_body(const v1::TxBody& body);

// [{"denom","amount"}...] of the account's balances.
nlohmann::json encode_balances(const v1::Account& account);

// Address text of 20 raw bytes, or their hex when the length is wrong.
std::string address_text(const std::string& raw);

}  // namespace automata::rpc
