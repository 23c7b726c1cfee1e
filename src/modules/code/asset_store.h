// Helpers the code ops share: loading and storing an asset (envelope plus
// CodeAsset body), content trees, versions and branch refs. Every helper
// charges its own gas.
#pragma once

#include "automata/modules/code/code.h"
#include "automata/v1/code.pb.h"
#include "automata/v1/code_state.pb.h"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace automata::code::detail {

struct Asset {
  v1::ObjectEnvelope object;
  v1::CodeAsset body;
};

// A validated content tree: its hash and the record to store.
struct BuiltTree {
  Hash32 hash{};
  v1::CodeTree stored;
};

// Loads the asset id. kObjectNotFound when absent; corruption when the
// body does not parse.
Status load_asset(ObjectContext& context, ByteView id, Asset* asset, OpResult* result);

// Loads a repository the signer owns directly and that is not wrapped.
// action names the op for the log. kWrongObjectKind for a composite.
Status load_owned_repository(ObjectContext& context, ByteView id, std::string_view action, Asset* asset,
                             OpResult* result);

// Serializes the body into the envelope and stores it.
OpResult store_asset(ObjectContext& context, Asset* asset);

// Loads a version. kObjectNotFound when absent or, when asset_id is not
// empty, when it belongs to another asset.
Status load_version(ObjectContext& context, ByteView id, ByteView asset_id, v1::StoredVersion* version,
                    OpResult* result);

// Loads a stored content tree by hash; kObjectNotFound when absent.
Status load_tree(ObjectContext& context, ByteView hash, v1::CodeTree* tree, OpResult* result);

// Blob sizes already recorded in stored trees. The keys are blob hash
// bytes that point into the trees kept here. Only looked up, never
// iterated, so the hash map's order cannot reach the state.
struct KnownBlobSizes {
  std::vector<std::unique_ptr<v1::CodeTree>> trees;
  std::unordered_map<std::string_view, uint64_t> sizes;
};

// Adds the blob sizes of the tree of version_id to sizes. A version or
// tree that is absent adds nothing; the op that names it reports that.
// Charges no gas: build_tree charges every distinct blob as a read
// whether or not its size came from here.
Status add_known_blob_sizes(ObjectContext& context, ByteView version_id, KnownBlobSizes* sizes);

// Sorts the entries by path, checks that every blob is stored (kBlobMissing
// naming the path and hash otherwise), records blob sizes and computes
// the tree hash. A blob in known is stored, because blobs are never
// deleted, so its size is taken from there instead of reading the blob.
// known may be null.
Status build_tree(ObjectContext& context, const google::protobuf::RepeatedPtrField<v1::TreeEntry>& entries,
                  const KnownBlobSizes* known, BuiltTree* tree, OpResult* result);

// Adds the version {asset, parents, tree hash, author, message, height},
// storing the tree when it is new, and records it as created. id receives
// the version id. A version identical in every field (possible within one
// block) is kept once.
Status add_version(ObjectContext& context, Asset* asset, const std::vector<std::string>& parents,
                   const BuiltTree& tree, const Address& author, const std::string& message, Hash32* id,
                   OpResult* result);

// Sum of the sizes of files in `tree` that are new or changed against the
// tree of version base (all files when base is empty).
Status change_bytes(ObjectContext& context, const std::string& base, const v1::CodeTree& tree, uint64_t* bytes,
                    OpResult* result);

// The branch ref named name, or null.
v1::BranchRef* find_branch(v1::CodeAsset* body, std::string_view name);
// Points branch name at version, inserting the ref in sorted place.
void set_branch(v1::CodeAsset* body, std::string_view name, ByteView version);
// The rules of branch, or null when it has none.
const v1::BranchRules* find_rules(const v1::CodeAsset& body, std::string_view branch);
bool is_protected(const v1::CodeAsset& body, std::string_view branch);

// Adds a version with parents {branch head} (plus other_version when not
// empty) on an existing branch and moves the branch to it.
// id receives the new version id.
Status advance_branch(ObjectContext& context, Asset* asset, std::string_view branch, const std::string& other_version,
                      const BuiltTree& tree, const Address& author, const std::string& message, Hash32* id,
                      OpResult* result);

// Fails with kBranchNotFound naming the asset when branch is absent.
OpResult branch_not_found(const Asset& asset, std::string_view branch);

}  // namespace automata::code::detail
