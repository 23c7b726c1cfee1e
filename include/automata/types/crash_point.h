// Fault injection for crash tests: named points in the persistence paths
// where a test can make the process die as if by `kill -9`.
//
// When the environment variable AUTOMATA_CRASH_AT names a point, the
// process sends itself SIGKILL on that point's N-th hit, where N is
// AUTOMATA_CRASH_AFTER (a positive integer, default 1). Without the
// variable every call is one relaxed atomic load. The variables are read
// once, at the first call. Used by tests/e2e/crash_points_test.cc; the
// points are listed in docs/consensus.md.
#pragma once

namespace automata {

// Points in the order a block passes them on a validator.
inline constexpr const char* kCrashAfterSignState = "after_sign_state";    // signer state synced, signature not returned
inline constexpr const char* kCrashAfterWalSync = "after_wal_sync";        // own message synced to the WAL, not sent
inline constexpr const char* kCrashAfterDecidedSaved = "after_decided_saved";  // block and commit stored, not applied
inline constexpr const char* kCrashBeforeBlockWrite = "before_block_write";    // block executed, its batch not written
inline constexpr const char* kCrashAfterBlockWrite = "after_block_write";      // batch written, in-memory tip not moved

// Kills the process with SIGKILL when name is the configured point and
// this is its configured hit, and returns at once otherwise. Thread-safe.
void crash_point(const char* name);

}  // namespace automata
