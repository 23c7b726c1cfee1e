// Stateless shape checks of the code ops, and the tree hash.
#include "automata/crypto/merkle.h"
#include "automata/modules/code/code.h"
#include "automata/v1/code.pb.h"

#include <fmt/format.h>

#include <set>

namespace automata::code {

namespace {

using google::protobuf::RepeatedPtrField;

ResultCode invalid(std::string* log, std::string message, ResultCode code = ResultCode::kInvalidOp) {
  *log = std::move(message);
  return code;
}

ResultCode check_id(const std::string& id, std::string_view field, std::string* log) {
  if (id.size() != 32) return invalid(log, fmt::format("{} is {} bytes; an id is 32 bytes", field, id.size()));
  return ResultCode::kOk;
}

ResultCode check_text(const std::string& text, size_t max_bytes, bool required, std::string_view field,
                      std::string* log) {
  if (required && text.empty()) return invalid(log, fmt::format("{} is empty; it is required", field));
  if (text.size() > max_bytes) {
    return invalid(log, fmt::format("{} is {} bytes; the maximum is {}", field, text.size(), max_bytes));
  }
  return ResultCode::kOk;
}

ResultCode check_royalty(uint32_t bps, std::string_view field, std::string* log) {
  if (bps > kMaxRoyaltyBps) {
    return invalid(log, fmt::format("{} is {}; the maximum is {} basis points (100%)", field, bps, kMaxRoyaltyBps));
  }
  return ResultCode::kOk;
}

ResultCode check_tree(const RepeatedPtrField<v1::TreeEntry>& tree, const CodeLimits& limits, std::string_view field,
                      std::string* log) {
  if (tree.empty()) return invalid(log, fmt::format("{} is empty; a version has at least one file", field));
  if (static_cast<uint64_t>(tree.size()) > limits.max_files_per_version) {
    return invalid(log,
                   fmt::format("{} has {} files; the bound max_files_per_version is {}", field, tree.size(),
                               limits.max_files_per_version),
                   ResultCode::kTooManyFiles);
  }
  std::set<std::string_view> paths;
  for (int i = 0; i < tree.size(); ++i) {
    const v1::TreeEntry& entry = tree[i];
    std::string problem = path_problem(entry.path(), limits.max_path_bytes);
    if (!problem.empty()) {
      return invalid(log, fmt::format("{}[{}].path '{}' is invalid: {}", field, i, entry.path(), problem),
                     ResultCode::kInvalidPath);
    }
    if (!paths.insert(entry.path()).second) {
      return invalid(log, fmt::format("{}[{}].path '{}' appears more than once; paths must be unique", field, i,
                                      entry.path()),
                     ResultCode::kInvalidPath);
    }
    if (entry.blob_hash().size() != 32) {
      return invalid(log, fmt::format("{}[{}].blob_hash is {} bytes; a SHA-256 hash is 32 bytes", field, i,
                                      entry.blob_hash().size()));
    }
    if (entry.mode() != kModeRegular && entry.mode() != kModeExecutable) {
      return invalid(log, fmt::format("{}[{}].mode is {:o} (octal); it must be 644 or 755", field, i, entry.mode()));
    }
  }
  return ResultCode::kOk;
}

bool is_branch_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '/';
}

}  // namespace

std::string path_problem(std::string_view path, uint64_t max_path_bytes) {
  if (path.empty()) return "the path is empty";
  if (path.size() > max_path_bytes) {
    return fmt::format("it is {} bytes; the bound max_path_bytes is {}", path.size(), max_path_bytes);
  }
  if (path.front() == '/') return "it starts with '/'; paths are relative";
  if (path.back() == '/') return "it ends with '/'";
  for (char c : path) {
    if (c == '\0') return "it contains a NUL byte";
    if (c == '\\') return "it contains a backslash; use '/' between segments";
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment.empty()) return "it has an empty segment ('//')";
    if (segment == ".") return "it has a '.' segment";
    if (segment == "..") return "it has a '..' segment";
    start = end + 1;
  }
  return "";
}

std::string branch_name_problem(std::string_view name) {
  if (name.empty()) return "the branch name is empty";
  if (name.size() > kMaxBranchNameBytes) {
    return fmt::format("it is {} bytes; the maximum is {}", name.size(), kMaxBranchNameBytes);
  }
  for (char c : name) {
    if (!is_branch_char(c)) return "it contains a character outside [A-Za-z0-9._/-]";
  }
  if (name.front() == '-' || name.front() == '/') return "it starts with '-' or '/'";
  if (name.back() == '/') return "it ends with '/'";
  if (name.find("..") != std::string_view::npos) return "it contains '..'";
  if (name.find("//") != std::string_view::npos) return "it has an empty segment ('//')";
  return "";
}

Hash32 tree_hash(const std::vector<v1::TreeEntry>& sorted_entries) {
  std::vector<const v1::TreeEntry*> pointers;
  pointers.reserve(sorted_entries.size());
  for (const v1::TreeEntry& entry : sorted_entries) pointers.push_back(&entry);
  return tree_hash(pointers);
}

Hash32 tree_hash(const std::vector<const v1::TreeEntry*>& sorted_entries) {
  // Each entry is serialized into one reused buffer and hashed as a leaf
  // right away, rather than kept as a byte vector per entry.
  std::vector<Hash32> leaves;
  leaves.reserve(sorted_entries.size());
  Bytes buffer;
  for (const v1::TreeEntry* entry : sorted_entries) {
    buffer.resize(entry->ByteSizeLong());
    entry->SerializeWithCachedSizesToArray(buffer.data());
    leaves.push_back(crypto::merkle_leaf_hash(buffer));
  }
  return crypto::merkle_root_from_leaves(leaves);
}

ResultCode check_upload_blobs(const v1::CodeUploadBlobs& op, const CodeLimits& limits, std::string* log) {
  if (op.blobs().empty()) return invalid(log, "code_upload_blobs.blobs is empty; upload at least one blob");
  for (int i = 0; i < op.blobs_size(); ++i) {
    if (op.blobs(i).size() > limits.max_blob_bytes) {
      return invalid(log,
                     fmt::format("code_upload_blobs.blobs[{}] is {} bytes; the bound max_blob_bytes is {}", i,
                                 op.blobs(i).size(), limits.max_blob_bytes),
                     ResultCode::kBlobTooLarge);
    }
  }
  return ResultCode::kOk;
}

ResultCode check_publish(const v1::CodePublish& op, const CodeLimits& limits, std::string* log) {
  ResultCode code = check_text(op.name(), kMaxNameBytes, true, "code_publish.name", log);
  if (code == ResultCode::kOk) code = check_text(op.license(), kMaxLicenseBytes, false, "code_publish.license", log);
  if (code == ResultCode::kOk) code = check_text(op.message(), kMaxMessageBytes, false, "code_publish.message", log);
  if (code == ResultCode::kOk) code = check_royalty(op.royalty_bps(), "code_publish.royalty_bps", log);
  if (code != ResultCode::kOk) return code;
  if (static_cast<size_t>(op.language_tags_size()) > kMaxLanguageTags) {
    return invalid(log, fmt::format("code_publish.language_tags has {} tags; the maximum is {}",
                                    op.language_tags_size(), kMaxLanguageTags));
  }
  for (int i = 0; i < op.language_tags_size(); ++i) {
    code = check_text(op.language_tags(i), kMaxLanguageTagBytes, true, fmt::format("code_publish.language_tags[{}]", i),
                      log);
    if (code != ResultCode::kOk) return code;
  }
  return check_tree(op.tree(), limits, "code_publish.tree", log);
}

ResultCode check_commit(const v1::CodeCommit& op, const CodeLimits& limits, std::string* log) {
  ResultCode code = check_id(op.asset_id(), "code_commit.asset_id", log);
  if (code != ResultCode::kOk) return code;
  std::string problem = branch_name_problem(op.branch());
  if (!problem.empty()) return invalid(log, fmt::format("code_commit.branch '{}' is invalid: {}", op.branch(), problem));
  if (!op.expected_head().empty()) {
    code = check_id(op.expected_head(), "code_commit.expected_head", log);
    if (code != ResultCode::kOk) return code;
  }
  code = check_text(op.message(), kMaxMessageBytes, false, "code_commit.message", log);
  if (code != ResultCode::kOk) return code;
  return check_tree(op.tree(), limits, "code_commit.tree", log);
}

ResultCode check_branch(const v1::CodeBranch& op, std::string* log) {
  ResultCode code = check_id(op.asset_id(), "code_branch.asset_id", log);
  if (code != ResultCode::kOk) return code;
  std::string problem = branch_name_problem(op.name());
  if (!problem.empty()) return invalid(log, fmt::format("code_branch.name '{}' is invalid: {}", op.name(), problem));
  switch (op.action()) {
    case v1::CodeBranch::ACTION_CREATE:
    case v1::CodeBranch::ACTION_MOVE:
      return check_id(op.target_version(), "code_branch.target_version", log);
    case v1::CodeBranch::ACTION_DELETE:
      if (!op.target_version().empty()) return invalid(log, "code_branch.target_version must be empty for delete");
      return ResultCode::kOk;
    default:
      return invalid(log, fmt::format("code_branch.action {} is not create (1), move (2) or delete (3)",
                                      static_cast<int>(op.action())));
  }
}

ResultCode check_merge(const v1::CodeMerge& op, const CodeLimits& limits, std::string* log) {
  ResultCode code = check_id(op.asset_id(), "code_merge.asset_id", log);
  if (code == ResultCode::kOk) code = check_id(op.other_version(), "code_merge.other_version", log);
  if (code != ResultCode::kOk) return code;
  std::string problem = branch_name_problem(op.branch());
  if (!problem.empty()) return invalid(log, fmt::format("code_merge.branch '{}' is invalid: {}", op.branch(), problem));
  code = check_text(op.message(), kMaxMessageBytes, false, "code_merge.message", log);
  if (code != ResultCode::kOk) return code;
  return check_tree(op.tree(), limits, "code_merge.tree", log);
}

ResultCode check_set_rules(const v1::CodeSetRules& op, std::string* log) {
  ResultCode code = check_id(op.asset_id(), "code_set_rules.asset_id", log);
  if (code != ResultCode::kOk) return code;
  std::string problem = branch_name_problem(op.branch());
  if (!problem.empty()) {
    return invalid(log, fmt::format("code_set_rules.branch '{}' is invalid: {}", op.branch(), problem));
  }
  if (static_cast<size_t>(op.reviewers_size()) > kMaxReviewers) {
    return invalid(log, fmt::format("code_set_rules.reviewers has {} entries; the maximum is {}", op.reviewers_size(),
                                    kMaxReviewers));
  }
  std::set<std::string_view> reviewers;
  for (int i = 0; i < op.reviewers_size(); ++i) {
    if (op.reviewers(i).size() != 20) {
      return invalid(log,
                     fmt::format("code_set_rules.reviewers[{}] is {} bytes; an address is 20 bytes", i,
                                 op.reviewers(i).size()),
                     ResultCode::kInvalidAddress);
    }
    if (!reviewers.insert(op.reviewers(i)).second) {
      return invalid(log, fmt::format("code_set_rules.reviewers[{}] appears more than once", i));
    }
  }
  if (op.required_approvals() > static_cast<uint32_t>(op.reviewers_size())) {
    return invalid(log, fmt::format("code_set_rules.required_approvals {} is above the {} listed reviewers",
                                    op.required_approvals(), op.reviewers_size()));
  }
  for (int i = 0; i < op.license_allow_list_size(); ++i) {
    code = check_text(op.license_allow_list(i), kMaxLicenseBytes, true,
                      fmt::format("code_set_rules.license_allow_list[{}]", i), log);
    if (code != ResultCode::kOk) return code;
  }
  return ResultCode::kOk;
}

ResultCode check_propose(const v1::CodePropose& op, const CodeLimits& limits, std::string* log) {
  ResultCode code = check_id(op.asset_id(), "code_propose.asset_id", log);
  if (code != ResultCode::kOk) return code;
  if (!op.other_version().empty()) {
    code = check_id(op.other_version(), "code_propose.other_version", log);
    if (code != ResultCode::kOk) return code;
  }
  std::string problem = branch_name_problem(op.branch());
  if (!problem.empty()) {
    return invalid(log, fmt::format("code_propose.branch '{}' is invalid: {}", op.branch(), problem));
  }
  code = check_text(op.message(), kMaxMessageBytes, false, "code_propose.message", log);
  if (code != ResultCode::kOk) return code;
  return check_tree(op.tree(), limits, "code_propose.tree", log);
}

ResultCode check_review(const v1::CodeReview& op, std::string* log) {
  ResultCode code = check_id(op.proposal_id(), "code_review.proposal_id", log);
  if (code != ResultCode::kOk) return code;
  return check_text(op.comment(), kMaxMessageBytes, false, "code_review.comment", log);
}

ResultCode check_compose(const v1::CodeCompose& op, std::string* log) {
  ResultCode code = check_text(op.name(), kMaxNameBytes, true, "code_compose.name", log);
  if (code == ResultCode::kOk) code = check_text(op.license(), kMaxLicenseBytes, false, "code_compose.license", log);
  if (code == ResultCode::kOk) code = check_royalty(op.royalty_bps(), "code_compose.royalty_bps", log);
  if (code != ResultCode::kOk) return code;
  if (op.children().empty()) return invalid(log, "code_compose.children is empty; a composite has at least one child");
  if (static_cast<size_t>(op.children_size()) > kMaxChildren) {
    return invalid(log, fmt::format("code_compose.children has {} entries; the maximum is {}", op.children_size(),
                                    kMaxChildren));
  }
  std::set<std::string_view> ids;
  for (int i = 0; i < op.children_size(); ++i) {
    const v1::ComposeChild& child = op.children(i);
    code = check_id(child.asset_id(), fmt::format("code_compose.children[{}].asset_id", i), log);
    if (code != ResultCode::kOk) return code;
    if (!child.version().empty()) {
      code = check_id(child.version(), fmt::format("code_compose.children[{}].version", i), log);
      if (code != ResultCode::kOk) return code;
    }
    if (!ids.insert(child.asset_id()).second) {
      return invalid(log, fmt::format("code_compose.children[{}].asset_id appears more than once", i));
    }
  }
  return ResultCode::kOk;
}

ResultCode check_decompose(const v1::CodeDecompose& op, std::string* log) {
  return check_id(op.composite_id(), "code_decompose.composite_id", log);
}

}  // namespace automata::code
