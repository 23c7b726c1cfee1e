// The code module: code assets as git-like repositories (content-addressed
// blobs, content trees, versions with parents, branch refs), review rules
// that gate protected branches, and composites that wrap pinned versions of
// other assets. Records and keys: proto/automata/v1/code_state.proto and
// include/automata/types/state_keys.h.
#pragma once

#include "automata/modules/objects/object_ops.h"
#include "automata/modules/objects/object_store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace automata::v1 {
class CodeBranch;
class CodeCommit;
class CodeCompose;
class CodeDecompose;
class CodeMerge;
class CodePropose;
class CodePublish;
class CodeReview;
class CodeSetRules;
class CodeUploadBlobs;
class TreeEntry;
}  // namespace automata::v1

namespace automata::code {

using objects::ObjectContext;
using objects::OpResult;
using execution::ResultCode;

// Bounds on what one op may carry. The first three are chain parameters
// (execution::ChainParameters); the rest are fixed.
struct CodeLimits {
  uint64_t max_blob_bytes = 256 * 1024;
  uint64_t max_files_per_version = 10'000;
  uint64_t max_path_bytes = 512;
};

inline constexpr size_t kMaxNameBytes = 128;
inline constexpr size_t kMaxLicenseBytes = 64;
inline constexpr size_t kMaxLanguageTags = 16;
inline constexpr size_t kMaxLanguageTagBytes = 32;
inline constexpr size_t kMaxMessageBytes = 4096;
inline constexpr size_t kMaxBranchNameBytes = 255;
inline constexpr size_t kMaxReviewers = 32;
inline constexpr size_t kMaxChildren = 64;
inline constexpr uint32_t kMaxRoyaltyBps = 10'000;
// File modes a tree entry may carry (octal 0644 and 0755).
inline constexpr uint32_t kModeRegular = 0644;
inline constexpr uint32_t kModeExecutable = 0755;

// Checks one tree path: relative, '/'-separated, at most max_path_bytes,
// no empty, "." or ".." segment, no leading or trailing '/', no backslash
// and no NUL. Returns an empty string when valid, else the rule it breaks.
std::string path_problem(std::string_view path, uint64_t max_path_bytes);

// Checks a branch name: 1-255 bytes of [A-Za-z0-9._/-], not starting with
// '-' or '/', no "..", no empty segment. Empty string when valid.
std::string branch_name_problem(std::string_view name);

// RFC 6962 Merkle root over the serialized TreeEntry messages sorted by
// path. REQUIRES: entries are sorted by path.
Hash32 tree_hash(const std::vector<v1::TreeEntry>& sorted_entries);
// The same hash over entries held elsewhere, sorted by path.
Hash32 tree_hash(const std::vector<const v1::TreeEntry*>& sorted_entries);

// Stateless shape checks (stage 1). kOk, or the code with log naming the
// field, the value and the bound or rule it breaks.
ResultCode check_upload_blobs(const v1::CodeUploadBlobs& op, const CodeLimits& limits, std::string* log);
ResultCode check_publish(const v1::CodePublish& op, const CodeLimits& limits, std::string* log);
ResultCode check_commit(const v1::CodeCommit& op, const CodeLimits& limits, std::string* log);
ResultCode check_branch(const v1::CodeBranch& op, std::string* log);
ResultCode check_merge(const v1::CodeMerge& op, const CodeLimits& limits, std::string* log);
ResultCode check_set_rules(const v1::CodeSetRules& op, std::string* log);
ResultCode check_propose(const v1::CodePropose& op, const CodeLimits& limits, std::string* log);
ResultCode check_review(const v1::CodeReview& op, std::string* log);
ResultCode check_compose(const v1::CodeCompose& op, std::string* log);
ResultCode check_decompose(const v1::CodeDecompose& op, std::string* log);

// Apply steps. Each returns a non-ok Status only when state cannot be read;
// otherwise result is kOk or the failure, and on failure the caller
// discards the op overlay. REQUIRES: the op passed its shape check.
//
// UploadBlobs stores each blob under its SHA-256, skipping blobs already
// stored. A tree may only name blobs already stored, including ones
// uploaded by an earlier op of the same tx.
Status apply_upload_blobs(const v1::CodeUploadBlobs& op, ObjectContext& context, OpResult* result);
// Publish creates the asset (id from tx hash and op index) with its first
// version on branch "main", owned and authored by the signer.
Status apply_publish(const v1::CodePublish& op, ObjectContext& context, OpResult* result);
// Commit and Merge add a version on an unprotected branch of an asset the
// signer owns; the parents are the branch head (and other_version).
Status apply_commit(const v1::CodeCommit& op, ObjectContext& context, OpResult* result);
Status apply_merge(const v1::CodeMerge& op, ObjectContext& context, OpResult* result);
// Branch creates, moves or deletes an unprotected branch ref.
Status apply_branch(const v1::CodeBranch& op, ObjectContext& context, OpResult* result);
// SetRules replaces one branch's review rules and records the change.
Status apply_set_rules(const v1::CodeSetRules& op, ObjectContext& context, OpResult* result);
// Propose opens a proposal on a protected branch (anyone may propose).
Status apply_propose(const v1::CodePropose& op, ObjectContext& context, OpResult* result);
// Review records a listed reviewer's approval or rejection, and lands the
// proposal on the current branch head once approvals from distinct
// current reviewers reach required_approvals. A proposal is rejected for
// good once too few reviewers remain who could approve it.
Status apply_review(const v1::CodeReview& op, ObjectContext& context, OpResult* result);
// Compose wraps owned, unwrapped children into a new composite owned by
// the signer; Decompose returns the children to the composite's owner and
// leaves the composite empty.
Status apply_compose(const v1::CodeCompose& op, ObjectContext& context, OpResult* result);
Status apply_decompose(const v1::CodeDecompose& op, ObjectContext& context, OpResult* result);

// Offer commitment, royalties and owner-change rules of code assets.
const objects::ObjectRules& object_rules();

}  // namespace automata::code
