// Node access shared by the `automata code` commands: signing a series of
// txs from one key, waiting for them, uploading missing blobs and reading
// trees, blobs and versions over JSON-RPC.
#pragma once

#include "automata/cli/code_tree.h"
#include "automata/cli/code_tx.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace automata::cli {

struct Context;

// Options of every `automata code` command that signs a tx.
struct CodeTxOptions {
  std::string from;                  // key name
  std::string fee;                   // empty: gas * min_gas_price
  std::optional<uint64_t> gas;       // empty: estimate_ops_gas()
  bool wait = false;
  uint64_t timeout_seconds = 60;
  uint64_t max_tx_bytes = 1 << 20;   // the chain's max_tx_bytes
  // Target size of one blob upload tx. Kept well under max_tx_bytes because
  // every tx byte costs gas and a tx may use at most max_gas_per_tx.
  uint64_t upload_tx_bytes = 384 * 1024;
};

// A key and its next nonce, for signing several txs in a row without
// waiting for each to commit. Reads the chain id, min gas price and the
// account nonce once when opened.
class CodeSigner {
 public:
  // Loads the key named by options.from. Returns invalid_argument when it
  // is empty or --fee is invalid, and the keyring's or the node's error
  // when the key or node_status and account_get cannot be read.
  static Status open(Context& ctx, const CodeTxOptions& options, std::unique_ptr<CodeSigner>* out);
  ~CodeSigner();

  // Signs ops with the next nonce and submits them with tx_submit. Stores
  // the tx hash. Without --gas the gas limit comes from estimate_ops_gas()
  // with the hint. A node rejection (-32002) becomes invalid_argument with
  // the result code name and log.
  Status submit(std::vector<EncodedOp> ops, const GasHint& hint, Hash32* hash);
  // The two halves of submit(). sign() only reads the signer, so another
  // thread may sign the next tx with next_nonce() + 1 while send() submits
  // this one. send() advances next_nonce() when the node accepts the tx.
  Status sign(std::vector<EncodedOp> ops, const GasHint& hint, uint64_t nonce, SignedTx* tx) const;
  Status send(const SignedTx& tx, Hash32* hash);
  // Polls until the tx is committed or the timeout passes, and stores its
  // result: code, name, log, gas_used, height, index and created, without
  // the tx body. Uses tx_results, or tx_get on a node without it.
  Status wait(const Hash32& hash, nlohmann::json* committed);
  // Polls until the txs hashes[0] to hashes[count - 1] are committed or the
  // timeout passes. *committed has one entry per hash. Entry i receives the
  // result of tx i once it is seen committed, also past count, and a tx
  // whose entry is not null is not queried again.
  Status wait_committed(const std::vector<Hash32>& hashes, size_t count, std::vector<nlohmann::json>* committed);

  const Address& address() const;
  const CodeTxOptions& options() const;
  // The code tree limits that node_status reported, or the defaults of
  // CodeTreeLimits for a node that reports none.
  const CodeTreeLimits& tree_limits() const;
  // The nonce the next submit() signs with.
  uint64_t next_nonce() const;

 private:
  struct State;
  explicit CodeSigner(std::unique_ptr<State> state);
  // Runs one round of wait_committed(), querying every tx whose entry is null.
  Status poll_results(const std::vector<Hash32>& hashes, std::vector<nlohmann::json>* committed);
  std::unique_ptr<State> state_;
};

// Room in a tx for everything but the blobs or the version's tree: the body
// fields, the op and ops framing and the 64-byte signature.
inline constexpr uint64_t kTxOverheadBytes = 2048;

// An object that op op_index of a tx creates, whose id the CLI derives from
// the tx hash before the tx is committed.
struct ExpectedObject {
  std::string kind;  // "asset", "offer"...
  uint32_t op_index = 0;
};

// Prints the outcome of a submitted tx. Without --wait that is "pending",
// and the JSON output lists the expected object's id under "created". With
// --wait, the committed height and result code follow, then one "created
// KIND ID" line per object in tx_get's "created" list. A tx included with a
// non-zero code sets the context's failure exit code. The committed result
// (null without --wait) goes to *committed when non-null.
Status finish_tx(Context& ctx, CodeSigner& signer, const Hash32& hash, nlohmann::json* committed = nullptr,
                 const std::optional<ExpectedObject>& expected = std::nullopt);

// The id listed for op_index in a committed tx's "created" list, or an
// empty string.
std::string created_id(const nlohmann::json& committed, uint32_t op_index, const std::string& kind = "");

// A CodeUploadBlobs op to send in the same tx as the version op, before it.
struct InlineUpload {
  EncodedOp op;
  GasHint hint;
};

// Asks blobs_missing which of the scan's blobs the chain lacks, leaving out
// the hashes in on_chain, which the caller knows the chain stores. When they
// fit in one tx beside a version op of version_op_bytes bytes, returns them
// in *inline_upload and sends nothing. Otherwise uploads them in
// CodeUploadBlobs txs under the upload tx size, printing a progress line
// per tx to the context's error stream, and waits until all upload txs are
// committed. Returns the first failure.
Status upload_missing_blobs(Context& ctx, CodeSigner& signer, const CodeScan& scan, uint64_t version_op_bytes,
                            std::optional<InlineUpload>* inline_upload, const std::set<Hash32>& on_chain = {});

// Parses a 32-byte hex id. Returns invalid_argument naming `what` and the
// text otherwise.
Status parse_id(const std::string& text, const std::string& what, Hash32* out);

// Resolves VERSION text for an asset: 64 hex digits are a version id,
// anything else a branch name looked up with code_get.
// When asset_out is non-null and the node was asked (text is a branch
// name), the code_get result goes there.
Status resolve_version(Context& ctx, const std::string& asset_hex, const std::string& text, std::string* version_hex,
                       nlohmann::json* asset_out = nullptr);

// Checks a code_get result before a tx that changes the asset on its own:
// the asset must not be wrapped in a composite, and signer must own it.
// Returns invalid_argument naming the composite or the owner and what to
// do, so that the tx is not sent only to fail on chain and cost its fee.
// Fields the node did not report are not checked.
Status check_asset_owner(const nlohmann::json& asset, const std::string& asset_hex, const CodeSigner& signer,
                         const std::string& action);

// Reads a version's files with code_tree (blob_hash, mode and size).
Status fetch_tree(Context& ctx, const std::string& version_hex, std::vector<CodeFile>* files);

// Reads a blob with code_blob and checks its SHA-256 against the hash.
Status fetch_blob(Context& ctx, const Hash32& hash, std::string* data);

// Decodes standard base64 with padding. Returns false on any other input.
bool decode_base64(const std::string& text, std::string* out);

}  // namespace automata::cli
