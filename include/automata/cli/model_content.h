// Client side of model NFT content: reading a model record over JSON-RPC,
// opening and wrapping the content key (ECIES key envelopes), encrypting a
// file into an upload spool, uploading the spool with resume, and checking
// and decrypting fetched fragments.
#pragma once

#include "automata/crypto/keys.h"
#include "automata/types/bytes.h"
#include "automata/types/status.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace automata::v1 {
class ModelNft;
class ModelManifest;
class KeyEnvelope;
}  // namespace automata::v1

namespace automata::cli {

struct Context;
class ProgressBar;

// Default plaintext bytes per fragment (1 MiB). The chain accepts
// fragment sizes in [kMinFragmentSize, kMaxFragmentSize].
inline constexpr uint64_t kDefaultFragmentSize = uint64_t{1} << 20;
inline constexpr uint64_t kMinFragmentSize = uint64_t{64} << 10;
inline constexpr uint64_t kMaxFragmentSize = uint64_t{2} << 20;
inline constexpr uint64_t kMaxFragmentCount = uint64_t{1} << 20;
// Bytes of a content key (AES-256).
inline constexpr size_t kContentKeySize = 32;

// One lease as model_get lists it.
struct ModelLeaseInfo {
  Address grantee{};
  uint64_t expiry_height = 0;  // last height of the lease, inclusive
};

// A model NFT as model_get returns it. Owns its ModelNft body.
class ModelRecord {
 public:
  ModelRecord();
  ~ModelRecord();
  ModelRecord(ModelRecord&&) noexcept;
  ModelRecord& operator=(ModelRecord&&) noexcept;

  Hash32 id{};
  Address owner{};
  uint64_t version = 0;
  uint64_t created_height = 0;
  uint64_t updated_height = 0;
  std::vector<ModelLeaseInfo> leases;
  // The raw model_get result, for --output json and for fields the body
  // does not carry.
  std::unique_ptr<nlohmann::json> raw;

  v1::ModelNft& nft() { return *nft_; }
  const v1::ModelNft& nft() const { return *nft_; }

 private:
  std::unique_ptr<v1::ModelNft> nft_;
};

// Decodes a model_get result into *out. Returns invalid_argument naming
// the field when a member is missing or malformed (bad hex, bad address,
// wrong length).
Status parse_model_record(const nlohmann::json& result, ModelRecord* out);

// Calls model_get for id and decodes it. Returns not_found "model <id> not
// found on the node" when the node has no such model.
Status load_model(Context& ctx, const Hash32& id, ModelRecord* out);

// Parses a 32-byte model id in hex. Returns invalid_argument naming the
// text otherwise.
Status parse_model_id(const std::string& text, Hash32* out);

// Finds the envelope of holder in the model: the owner's, the seller's in
// key_pending_from (kept until it delivers the buyer's), or an active
// lessee's (a lease whose expiry_height >= current_height). Returns
// not_found "no key for this model: atm1... holds no key envelope for
// model <id>" when there is none. An envelope of any other holder is
// rejected with not_found "no key for this model: ...", which names the
// expiry height when model.leases lists the holder's expired lease.
Status find_envelope(const ModelRecord& model, const Address& holder, uint64_t current_height,
                     const v1::KeyEnvelope** out);

// Opens the holder's envelope (find_envelope) with its key and returns the
// 32-byte content key. Returns invalid_argument when ECIES fails to open
// it (a wrong key or a corrupt envelope).
Status open_content_key(const ModelRecord& model, const crypto::PrivateKey& key, uint64_t current_height,
                        Bytes* content_key);

// Wraps content_key to recipient_xonly with ECIES bound to model_id, as
// a KeyEnvelope for recipient = address_of(recipient_xonly). Returns
// invalid_argument when the public key is not on the curve or the content
// key is not 32 bytes.
Status wrap_content_key(const crypto::PublicKey& recipient_xonly, ByteView content_key, const Hash32& model_id,
                        v1::KeyEnvelope* out);

// The x-only public key of recipient. With pubkey_hex non-empty, parses it
// and checks that it hashes to recipient. Otherwise reads it from
// account_get, and returns not_found "recipient atm1... has no public key
// on chain yet; it must send a transaction first, or pass --to-pubkey HEX"
// when the account is unknown or has never signed a tx.
Status recipient_pubkey(Context& ctx, const Address& recipient, const std::string& pubkey_hex,
                        crypto::PublicKey* out);

// The encrypted content of one model, kept on disk until every fragment is
// uploaded: <dir>/fragments.bin holds the sealed fragments back to back,
// <dir>/index.json the fields below. The content key is never written.
struct ModelSpool {
  std::string dir;
  Hash32 model_id{};
  uint64_t fragment_size = 0;
  uint64_t total_size = 0;
  Hash32 plaintext_sha256{};
  Hash32 fragments_root{};
  // RFC 6962 leaf hash of each sealed fragment, in index order.
  std::vector<Hash32> leaf_hashes;
  // Byte offset of each sealed fragment in fragments.bin, plus the file
  // size as the last entry (fragment_count + 1 entries).
  std::vector<uint64_t> offsets;

  uint64_t fragment_count() const { return leaf_hashes.size(); }
  // Writes the manifest fields (cipher suite included) into *manifest.
  void fill_manifest(v1::ModelManifest* manifest) const;
};

// <parent of keyring_dir>/uploads/<model id hex>, where register keeps the
// spool of a model until it is uploaded.
std::string spool_dir_for(const std::string& keyring_dir, const Hash32& model_id);

// Checks a fragment size against the chain's bounds and the count of
// fragments it makes of total_size bytes. Returns invalid_argument naming
// the value and the bound.
Status check_fragment_plan(uint64_t total_size, uint64_t fragment_size);

// Reads the file at path once, in fragment_size pieces. Hashes the
// plaintext, seals each piece with crypto::seal_fragment under content_key
// and model_id, and writes the spool into dir, replacing any spool there.
// Returns io_error naming the path on a read or write failure, and
// invalid_argument for an empty file or a bad fragment size.
Status encrypt_to_spool(const std::string& path, const Hash32& model_id, ByteView content_key,
                        uint64_t fragment_size, const std::string& dir, ModelSpool* out);

// Reads the spool index in dir and checks that its leaf hashes give its
// root and its offsets match fragments.bin. Returns not_found when dir has
// no spool and corruption naming the file otherwise.
Status load_spool(const std::string& dir, ModelSpool* out);

// Reads sealed fragment index from the spool.
Status read_spool_fragment(const ModelSpool& spool, uint64_t index, Bytes* sealed);

// Counts of an upload.
struct UploadReport {
  uint64_t already_held = 0;  // fragments the node held before the upload
  uint64_t sent = 0;          // fragments sent with model_fragment_put
  uint64_t stored = 0;        // of those, newly stored by the node
};

// Uploads the spool's fragments that model_fragments_held does not list,
// each with its audit path, with a few model_fragment_put requests in
// flight on separate connections. Adds sent bytes to progress when it is
// non-null. On success every fragment is held by the node; the caller
// deletes the spool. Returns the first failure, naming the fragment index.
Status upload_spool(Context& ctx, const ModelSpool& spool, ProgressBar* progress, UploadReport* report);

// Checks one fragment as model_fragment returns it: the proof must place
// the sealed bytes at index under manifest.fragments_root, and the
// fragment must open under content_key. Returns corruption naming the
// index and the failed check otherwise.
Status open_fetched_fragment(const v1::ModelManifest& manifest, const Hash32& model_id, uint64_t index,
                             ByteView sealed, const std::vector<Hash32>& proof, ByteView content_key,
                             Bytes* plaintext);

// Fetches every fragment of the model with model_fragment, checks and
// opens each (open_fetched_fragment), writes it at index * fragment_size
// in out_path, then compares the file's SHA-256 with the manifest. On any
// failure the output file is removed and the error names the fragment.
Status fetch_content(Context& ctx, const ModelRecord& model, ByteView content_key, const std::string& out_path,
                     ProgressBar* progress);

}  // namespace automata::cli
